"""Letters drawn from installed fonts at MNIST's format: real glyphs whose new instances are the
same letter in other typefaces, not jitters of one drawing.

Fonts are found with fontconfig (`fc-list`), asking for text fonts that hold A-Z, a-z and the
Latin-1 letters (symbol and dingbat fonts also claim A-Z, mapped to Greek letters or ornaments; the
Latin-1 letters rule them out). One file per family, so the typefaces differ in design rather than
weight: an upright regular style where the family has one, TrueType/OpenType before Type 1.
Each letter is drawn large, then made MNIST-like as a user's glyph image is (data_gen.glyph_folder:
ink cropped, fitted in a 20x20 box, centre of mass at the centre of 28x28).
"""

from __future__ import annotations

import shutil
import string
import subprocess
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from data_gen.errors import InputDataError
from data_gen.glyph_folder import mnist_like

LETTERS = string.ascii_uppercase
PACKAGES = "fonts-urw-base35 fonts-liberation2 fonts-freefont-ttf fonts-dejavu-core"  # Debian: 19 families
TEXT_FONTS = ":charset=41-5a 61-7a c0-ff"  # fontconfig pattern: A-Z, a-z and the Latin-1 letters
UPRIGHT = ("Regular", "Roman", "Book", "Medium", "Normal")  # a family's plain style, by its usual names
FORMATS = ("TrueType", "CFF", "Type 1")  # preferred first (CFF: OpenType .otf)
FC_FORMAT = "%{family[0]}\t%{style[0]}\t%{fontformat}\t%{file}\n"  # one tab-separated line per font file
DRAW_SIZE = 96  # points: letters are drawn this large, then reduced to the 20x20 box


class FontGlyphError(InputDataError, ValueError):
    """Fonts missing or unusable; the message says what to install (the CLI prints it in one line)."""


@dataclass(frozen=True)
class Typeface:
    family: str
    style: str
    file: str

    def as_dict(self) -> dict:
        return {"family": self.family, "style": self.style, "file": self.file}


def _fc_list() -> str:
    if shutil.which("fc-list") is None:
        raise FontGlyphError(
            f"fc-list (fontconfig) not found: install it and fonts, e.g. apt-get install fontconfig {PACKAGES}"
        )
    try:
        done = subprocess.run(
            ["fc-list", TEXT_FONTS, "--format", FC_FORMAT], capture_output=True, text=True, timeout=60, check=True
        )
    except (OSError, subprocess.SubprocessError) as e:
        raise FontGlyphError(f"fc-list failed ({str(e).splitlines()[0]})") from None
    return done.stdout


def _preference(style: str, fmt: str, file: str) -> tuple:
    words = style.split()
    upright = 0 if style in UPRIGHT else 1 if not {"Italic", "Oblique", "Bold"} & set(words) else 2
    return upright, FORMATS.index(fmt) if fmt in FORMATS else len(FORMATS), file


def parse_fc_list(text: str) -> list[Typeface]:
    """One Typeface per family, families sorted by name, from fc-list's tab-separated lines."""
    best: dict[str, tuple] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) != 4 or not parts[0] or not parts[3]:
            continue
        family, style, fmt, file = parts
        key = _preference(style, fmt, file)
        if family not in best or key < best[family][0]:
            best[family] = (key, Typeface(family, style, file))
    return [best[f][1] for f in sorted(best)]


def installed_typefaces(needed: int) -> list[Typeface]:
    """The installed text-font families (at least ``needed``), or a one-line error saying what to install."""
    faces = parse_fc_list(_fc_list())
    if len(faces) < needed:
        raise FontGlyphError(
            f"found {len(faces)} font families with Latin letters, {needed} needed: "
            f"install more, e.g. apt-get install {PACKAGES}"
        )
    return faces


def draw_letter(letter: str, face: Typeface) -> np.ndarray:
    """One letter in one typeface as uint8 [28, 28], MNIST-like."""
    try:
        font = ImageFont.truetype(face.file, DRAW_SIZE)
    except OSError as e:
        raise FontGlyphError(f"font file {face.file} is unreadable ({str(e).splitlines()[0]})") from None
    canvas = Image.new("L", (3 * DRAW_SIZE, 3 * DRAW_SIZE), 0)
    ImageDraw.Draw(canvas).text((1.5 * DRAW_SIZE, 1.5 * DRAW_SIZE), letter, fill=255, font=font, anchor="mm")
    ink = np.asarray(canvas, dtype=np.float32) / 255
    if ink.max() <= 0:
        raise FontGlyphError(f"font {face.family} ({face.file}) draws nothing for {letter!r}")
    return mnist_like(ink, f"{face.file} letter {letter}")


@dataclass
class FontDraw:
    letters: list[str]
    typefaces: list[Typeface]  # the prototype's first; the others give the new instances
    images: np.ndarray  # uint8 [len(letters), len(typefaces), 28, 28]


def draw_font_glyphs(n_letters: int, n_typefaces: int, seed: int, faces: list[Typeface] | None = None) -> FontDraw:
    """n_letters of A-Z (sorted) in n_typefaces families, both drawn at random with ``seed``; the
    prototype typeface is drawn too, and put first."""
    if not 2 <= n_letters <= len(LETTERS):
        raise ValueError(f"letters: {n_letters} must be in 2..{len(LETTERS)}")
    if n_typefaces < 2:
        raise ValueError(f"typefaces: {n_typefaces} must be >= 2 (a prototype and a new instance)")
    faces = installed_typefaces(n_typefaces) if faces is None else faces
    rng = np.random.default_rng(seed)
    letters = sorted(rng.choice(list(LETTERS), n_letters, replace=False))
    chosen = [faces[i] for i in sorted(rng.choice(len(faces), n_typefaces, replace=False))]
    first = int(rng.integers(n_typefaces))
    chosen = [chosen[first], *chosen[:first], *chosen[first + 1 :]]
    images = np.stack([np.stack([draw_letter(a, f) for f in chosen]) for a in letters])
    return FontDraw([str(a) for a in letters], chosen, images)
