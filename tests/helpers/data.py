"""Where the real MNIST is: $SLA_DATA_ROOT, ../shared/data beside the checkout (CI), or ./data."""

from __future__ import annotations

import os
from pathlib import Path

from helpers.cli import REPO


def shared_data_root() -> Path | None:
    for candidate in (os.environ.get("SLA_DATA_ROOT"), REPO.parent / "shared" / "data", REPO / "data"):
        if candidate and (Path(candidate) / "MNIST" / "raw").is_dir():
            return Path(candidate)
    return None
