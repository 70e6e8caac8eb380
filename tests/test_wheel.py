"""The package as users get it: pyproject.toml lists every package of the tree, and a wheel built
from a clean copy of the tree runs every command, from a folder outside the checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from helpers.cli import REPO
from sla_cli.commands import COMMANDS

TOP_PACKAGES = ("sla_cli", "data_gen", "hydra_plugins")  # hydra_plugins: a namespace package (Hydra's rule)
CONF_PACKAGE = "sla_cli.conf"  # conf/ at the top of the checkout, shipped inside sla_cli


def listed_packages() -> set[str]:
    tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11+")
    return set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])


def code_folders() -> set[Path]:
    """Folders of the packages' tree that hold Python files."""
    return {p.parent for top in TOP_PACKAGES for p in (REPO / top).rglob("*.py") if "__pycache__" not in p.parts}


def packages_in_tree() -> set[str]:
    return {CONF_PACKAGE} | {".".join(folder.relative_to(REPO).parts) for folder in code_folders()}


def test_every_code_folder_is_a_regular_package():
    bare = sorted(str(f.relative_to(REPO)) for f in code_folders() if not (f / "__init__.py").is_file())
    assert not bare, f"add an __init__.py to {bare}: setuptools does not ship a folder without one"


def test_pyproject_lists_exactly_the_packages_of_the_tree():
    """The list is explicit (a mapped conf/ rules out automatic discovery): a new stage folder that
    is not listed would be missing from every installed copy, though the checkout runs fine."""
    listed, found = listed_packages(), packages_in_tree()
    missing, stale = sorted(found - listed), sorted(listed - found)
    assert not missing, f"add {missing} to [tool.setuptools] packages in pyproject.toml, or the wheel leaves them out"
    assert not stale, f"remove {stale} from [tool.setuptools] packages in pyproject.toml: no such code folder"


def clean_copy(dest: Path) -> Path:
    """The files git would commit (tracked, plus new ones it does not ignore): no .venv, outputs,
    build/ or egg-info that could make a broken package look whole."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listing.split("\0")):
        source = REPO / name
        if source.is_file():  # a tracked file deleted in the working tree is not there to copy
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


@pytest.fixture(scope="module")
def unpacked_wheel(tmp_path_factory) -> Path:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs a git checkout to copy the tree from")
    tree = clean_copy(tmp_path_factory.mktemp("tree"))
    dist = tmp_path_factory.mktemp("dist")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(tree)],
        capture_output=True,
        text=True,
        cwd=tree,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = dist.glob("sla-*.whl")
    site = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return site


def run_from(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """`python ARGS` with only the unpacked wheel on PYTHONPATH (torch and hydra come from this
    environment), in ``cwd``: the checkout's conf/ and packages cannot be found from there."""
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


@pytest.mark.slow
def test_the_wheel_holds_the_code_and_configs_of_every_command(unpacked_wheel, tmp_path):
    modules = [cmd.module for cmd in COMMANDS]
    probe = (
        "import importlib, sys, sla_cli, data_gen\n"
        "from sla_cli.hydra_app import CONF_DIR\n"
        "for m in sys.argv[1:]: importlib.import_module(m)\n"
        "print(sla_cli.__file__, data_gen.__file__, CONF_DIR, sep='\\n')"
    )
    result = run_from(unpacked_wheel, tmp_path, "-c", probe, *modules)
    assert result.returncode == 0, result.stderr[-3000:]
    for line in result.stdout.splitlines():
        assert Path(line).resolve().is_relative_to(unpacked_wheel.resolve()), (line, "not from the wheel")


@pytest.mark.slow
@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: c.name)
def test_every_command_composes_its_config_from_the_wheel(unpacked_wheel, tmp_path, cmd):
    result = run_from(unpacked_wheel, tmp_path, "-m", "sla_cli", *cmd.name.split(), "--cfg", "job", "preset=smoke")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "preset: smoke" in result.stdout and "seed: 0" in result.stdout, result.stdout
