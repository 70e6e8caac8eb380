"""Markdown pieces shared by the report's sections (and `sla aggregate`'s table).

Text that comes from a run folder (a JSON string, a file name, a config value, an error message
naming a path) goes through ``escape``: it shows as the characters it holds, never as a link, an
image, emphasis or HTML, whatever a hand-edited file put there.
"""

from __future__ import annotations

import re

# Inline markdown's punctuation (- + . only matter at a line's start, where escaped text never is).
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#!|~])")
HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape(text) -> str:
    """``text`` as literal markdown on one line: HTML's &, <, > as entities, markdown's punctuation
    backslash-escaped, line breaks as spaces."""
    text = MARKDOWN_SPECIAL.sub(r"\\\1", re.sub(r"\s+", " ", str(text)))
    return "".join(HTML.get(ch, ch) for ch in text)


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Cells are markdown already (escape any text from a run folder before); a | or a line break
    inside one cannot split the row."""

    def line(cells):
        return "| " + " | ".join(re.sub(r"(?<!\\)\|", r"\|", str(c)).replace("\n", " ") for c in cells) + " |"

    return [line(header), "|" + "---|" * len(header), *(line(r) for r in rows)]


def code(text: str) -> str:
    """Inline code: the text verbatim, in a run of backticks longer than any inside it."""
    text = re.sub(r"\s+", " ", str(text))
    fence = "`" * (max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
