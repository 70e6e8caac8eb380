"""Carry this machine's fonts to the GPU machine, which has no fontconfig: the font file fc-list chooses for
each family (data_gen.font_glyphs, the same choice `oneshot.glyphs=fonts` makes) is copied into .gpu/fonts/,
and .gpu/fc-list.txt holds fc-list's lines for them with the folder written as @DIR@. bench/gpu_runs.sh
puts a stand-in `fc-list` that prints those lines first on the PATH, so the letters are drawn from the
same files as here.

    python bench/gpu_fonts.py      # then carry .gpu (git-ignored through .git/info/exclude)
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data_gen.font_glyphs import FontGlyphError, _fc_list, parse_fc_list  # noqa: E402

DEST = Path(__file__).resolve().parent.parent / ".gpu"


def main() -> None:
    try:
        listing = _fc_list()
    except FontGlyphError as e:
        sys.exit(f"gpu_fonts.py: error: {e}")
    formats = {line.split("\t")[-1]: line.split("\t")[2] for line in listing.splitlines() if line.count("\t") == 3}
    (DEST / "fonts").mkdir(parents=True, exist_ok=True)
    lines = []
    for face in parse_fc_list(listing):
        shutil.copy(face.file, DEST / "fonts" / Path(face.file).name)
        lines.append(f"{face.family}\t{face.style}\t{formats[face.file]}\t@DIR@/{Path(face.file).name}")
    (DEST / "fc-list.txt").write_text("\n".join(lines) + "\n")
    print(f"{len(lines)} font families -> {DEST}")


if __name__ == "__main__":
    main()
