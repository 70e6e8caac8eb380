"""Bad values of `sla eval oneshot`'s glyph, seed and baseline keys fail as one line naming the key,
when the config is composed (before any model or glyph is read)."""

import pytest

from helpers.stages import compose
from sla_cli.errors import ConfigError


def _compose(*overrides):
    return compose("eval oneshot", "preset=smoke", "model_dir=m", *overrides)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["oneshot.glyphs=letters"], "oneshot.glyphs='letters' must be one of auto, builtin, fonts, dir"),
        (["oneshot.glyphs=dir"], "oneshot.glyphs=dir needs oneshot.glyphs_dir=FOLDER"),
        (["oneshot.glyphs=fonts", "oneshot.glyphs_dir=g"], "oneshot.glyphs_dir is read only with oneshot.glyphs=dir"),
        (["oneshot.classes=1"], "oneshot.classes=1 must be in 2..10"),
        (["oneshot.classes=11"], "oneshot.classes=11 must be in 2..10"),  # builtin has 10 shapes
        (["oneshot.glyphs=fonts", "oneshot.classes=27"], "oneshot.classes=27 must be in 2..26"),  # A-Z
        (["oneshot.glyphs=dir", "oneshot.glyphs_dir=g", "oneshot.classes=1"], "oneshot.classes=1 must be >= 2"),
        (["oneshot.classes=ten"], "oneshot.classes='ten' must be an integer"),
        (["oneshot.typefaces=1"], "oneshot.typefaces=1 must be >= 2"),
        (["oneshot.glyph_seeds=[]"], "oneshot.glyph_seeds=[] must be null or a list of distinct integers >= 0"),
        (["oneshot.glyph_seeds=[1,1]"], "oneshot.glyph_seeds=[1, 1] must be null or a list of distinct"),
        (["oneshot.glyph_seeds=[-1]"], "oneshot.glyph_seeds=[-1] must be"),
        (["oneshot.glyph_seeds=3"], "oneshot.glyph_seeds=3 must be"),
        (["oneshot.baseline_model_dirs=x"], "oneshot.baseline_model_dirs='x' must map names to model folders"),
        (["+oneshot.baseline_model_dirs.pixel_nn=d"], "oneshot.baseline_model_dirs: 'pixel_nn' must be a lower-case"),
        (["+oneshot.baseline_model_dirs.Shared=d"], "oneshot.baseline_model_dirs: 'Shared' must be a lower-case"),
        (["oneshot.baseline_model_dirs.shared_ae=''"], "oneshot.baseline_model_dirs.shared_ae='' must be a folder"),
    ],
)
def test_bad_values_are_one_line_config_errors(overrides, message):
    with pytest.raises(ConfigError) as err:
        _compose(*overrides)
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    "overrides",
    [
        [],
        ["oneshot.glyphs=fonts", "oneshot.classes=26", "oneshot.typefaces=15", "oneshot.glyph_seeds=[0,1,2]"],
        ["oneshot.glyphs_dir=g", "oneshot.classes=null"],  # auto with a folder: dir, every class
        ["oneshot.glyphs=dir", "oneshot.glyphs_dir=g", "oneshot.classes=500"],  # Omniglot holds ~1600 characters
        ["oneshot.baseline_model_dirs={shared_ae:a,contrastive:b}"],
        ["oneshot.baseline_model_dirs.shared_ae=a", "+oneshot.baseline_model_dirs.vae=c"],
    ],
)
def test_good_values_compose(overrides):
    _compose(*overrides)
