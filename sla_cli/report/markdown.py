"""Markdown pieces shared by the report's sections."""

from __future__ import annotations


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    def line(cells):
        return "| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |"

    return [line(header), "|" + "---|" * len(header), *(line(r) for r in rows)]


def code(text: str) -> str:
    return f"`{text}`"
