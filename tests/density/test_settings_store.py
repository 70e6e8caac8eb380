"""settings.store runs before every compose: it re-reads the settings files only when one changed."""

from __future__ import annotations

import re
import shutil

import pytest
from hydra.core.config_store import ConfigStore

from sla_cli.density import settings
from sla_cli.hydra_app import CONF_DIR


def stored_models() -> dict:
    return ConfigStore.instance().load("density_models.yaml").node


@pytest.fixture
def conf(tmp_path, monkeypatch):
    """A copy of the density settings files; the real ones are stored again afterwards."""
    copy = tmp_path / "conf"
    shutil.copytree(CONF_DIR / "density", copy / "density")
    shutil.copy(CONF_DIR / "density.yaml", copy / "density.yaml")
    yield copy
    monkeypatch.undo()
    settings.store(CONF_DIR)


def test_unchanged_files_are_not_read_again(conf, monkeypatch):
    settings.store(conf)
    monkeypatch.setattr(settings, "model_settings", lambda conf_dir: pytest.fail("files read again"))
    settings.store(conf)


def test_a_changed_settings_file_is_stored_again(conf):
    made = conf / "density" / "models" / "made.yaml"
    settings.store(conf)
    before = stored_models()["made"]["epochs"]
    made.write_text(re.sub(r"^epochs: \d+", f"epochs: {before + 7}", made.read_text(), flags=re.M))
    settings.store(conf)
    assert stored_models()["made"]["epochs"] == before + 7
