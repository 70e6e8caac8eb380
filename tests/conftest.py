"""Fixtures shared by every test. Helpers to import live in tests/helpers/."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import sla_cli.runtime  # noqa: F401  caps oneDNN's CPU ISA (see there) before any test runs torch
from helpers.data import shared_data_root


@pytest.fixture
def one_thread():
    """Small matmuls on a busy CPU: one thread, as the smoke preset's run.threads=1 would set."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def mnist_root() -> Path:
    """The real MNIST (../shared/data in CI); tests that need it are skipped where it is absent."""
    root = shared_data_root()
    if root is None:
        pytest.skip("real MNIST not found: set SLA_DATA_ROOT to a folder holding MNIST/raw")
    return root


@pytest.fixture(scope="session")
def smoke_dataset(tmp_path_factory, mnist_root) -> Path:
    """`sla generate-cubes preset=smoke`, made once per test session (read-only for tests)."""
    from helpers.stages import run_stage

    out = tmp_path_factory.mktemp("smoke") / "dataset"
    run_stage("generate-cubes", "preset=smoke", f"run.data_root={mnist_root}", out=out)
    return out


@pytest.fixture(scope="session")
def smoke_model(tmp_path_factory, smoke_dataset) -> Path:
    """`sla train preset=smoke` on the smoke dataset, made once per test session (read-only for tests)."""
    from helpers.stages import run_stage

    out = tmp_path_factory.mktemp("smoke") / "model"
    run_stage("train", "preset=smoke", f"dataset_dir={smoke_dataset}", out=out)
    return out
