"""Every preset lists only what differs from its command's primary config (one source of truth per
setting): a value repeated in a preset file is a value that can silently drift from the default."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

CONF = Path(__file__).resolve().parents[1] / "conf"
COMMANDS = sorted(p.stem for p in CONF.glob("*.yaml") if p.stem != "common" and (CONF / p.stem).is_dir())


def flat(node, prefix: str = "") -> dict:
    out = {}
    for key, value in (node or {}).items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def defaults_of(command: str) -> dict:
    """common.yaml, then the primary config over it, as Hydra composes them (less Hydra's own keys);
    for density, the models' settings files too (conf/density/models/<name>.yaml as density.<name>)."""
    from sla_cli.density.settings import model_settings

    merged = {}
    for path in (CONF / "common.yaml", CONF / f"{command}.yaml"):
        data = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
        data.pop("defaults", None)
        data.pop("hydra", None)
        merged.update(flat(data))
    if command == "density":
        merged.update(flat({"density": model_settings(CONF)}))
    return merged


@pytest.mark.parametrize("command", COMMANDS)
def test_presets_repeat_no_default(command):
    defaults = defaults_of(command)
    for preset in ("smoke", "demo", "paper"):
        assert (CONF / command / f"{preset}.yaml").is_file(), f"preset={preset} must exist for every command"
    for path in sorted((CONF / command).glob("*.yaml")):  # and a command's own presets (density's hour)
        preset = path.stem
        values = flat(OmegaConf.to_container(OmegaConf.load(path), resolve=False))
        unknown = sorted(k for k in values if k not in defaults)
        assert not unknown, f"{path} sets keys its primary config does not have: {unknown}"
        repeated = sorted(k for k, v in values.items() if defaults[k] == v)
        assert not repeated, f"{path} repeats the default of {repeated}: delete those lines"


def test_demo_is_the_primary_config_itself():
    for command in COMMANDS:
        assert not flat(OmegaConf.load(CONF / command / "demo.yaml")), f"conf/{command}/demo.yaml should be empty"
