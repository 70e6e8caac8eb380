"""Seeds make runs repeatable; run.device=auto/cpu/cuda resolve as documented."""

from __future__ import annotations

import pytest
import torch

from sla_cli.errors import ConfigError
from sla_cli.runtime import autocast, resolve_device, seed_everything


def test_same_seed_same_numbers_bit_for_bit():
    seed_everything(3)
    a = torch.randn(100)
    seed_everything(3)
    assert torch.equal(a, torch.randn(100))
    seed_everything(4)
    assert not torch.equal(a, torch.randn(100))


def test_auto_picks_cuda_only_when_present():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu").type == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_gpu_is_a_config_error():
    with pytest.raises(ConfigError, match="run.device=cuda"):
        resolve_device("cuda")


def test_cpu_runs_in_float32():
    with autocast(torch.device("cpu")):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32
