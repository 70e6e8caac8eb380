"""bench/gpu_fonts.py: the fonts carried to a GPU machine without fontconfig are the ones fc-list chooses here."""

import importlib.util
from pathlib import Path

from data_gen.font_glyphs import parse_fc_list

SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "gpu_fonts.py"


def load_script():
    spec = importlib.util.spec_from_file_location("gpu_fonts", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_stand_in_listing_names_the_same_choice_in_the_carried_folder(tmp_path, monkeypatch):
    fonts = tmp_path / "system"
    fonts.mkdir()
    for name in ("Sans-Bold.ttf", "Sans-Regular.ttf", "Serif.otf"):
        (fonts / name).write_bytes(name.encode())
    listing = "".join(
        f"{family}\t{style}\t{fmt}\t{fonts / name}\n"
        for family, style, fmt, name in [
            ("Sans", "Bold", "TrueType", "Sans-Bold.ttf"),
            ("Sans", "Regular", "TrueType", "Sans-Regular.ttf"),
            ("Serif", "Roman", "CFF", "Serif.otf"),
        ]
    )
    script = load_script()
    monkeypatch.setattr(script, "_fc_list", lambda: listing)
    monkeypatch.setattr(script, "DEST", tmp_path / ".gpu")
    script.main()

    carried = tmp_path / ".gpu" / "fonts"
    stand_in = (tmp_path / ".gpu" / "fc-list.txt").read_text().replace("@DIR@", str(carried))
    here, there = parse_fc_list(listing), parse_fc_list(stand_in)
    assert (
        [(f.family, f.style) for f in there]
        == [(f.family, f.style) for f in here]
        == [
            ("Sans", "Regular"),
            ("Serif", "Roman"),
        ]
    )
    for face in there:
        assert Path(face.file).parent == carried
        assert Path(face.file).read_bytes() == Path(face.file).name.encode()  # the file itself was copied
