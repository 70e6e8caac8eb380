"""Fixtures shared by every test. Helpers to import live in tests/helpers/."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.data import shared_data_root


@pytest.fixture(scope="session")
def mnist_root() -> Path:
    """The real MNIST (../shared/data in CI); tests that need it are skipped where it is absent."""
    root = shared_data_root()
    if root is None:
        pytest.skip("real MNIST not found: set SLA_DATA_ROOT to a folder holding MNIST/raw")
    return root
