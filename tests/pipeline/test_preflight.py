"""The pre-flight: a plan this machine cannot hold is one line with the way out and nothing written;
the paper preset on a CPU asks first; train holds its training set only where it fits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sla_cli import memory
from sla_cli.pipeline import cli
from sla_cli.pipeline.preflight import Machine

GIB = 2**30


def simulate(monkeypatch, memory_bytes: int, disk_bytes: int) -> None:
    monkeypatch.setattr(Machine, "here", classmethod(lambda cls, device, out: cls(device, memory_bytes, disk_bytes)))


def one_line(capsys) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("sla pipeline: error")]
    assert len(err) == 1, err
    return err[0]


@pytest.mark.slow
def test_a_plan_too_large_for_the_disk_is_one_line_and_writes_nothing(tmp_path, monkeypatch, capsys):
    simulate(monkeypatch, 64 * GIB, 10 * 2**20)
    out = tmp_path / "out"
    assert cli.main(["preset=demo", f"run.out={out}", "run.device=cpu"]) == 2
    line = one_line(capsys)
    assert "the plan writes about" in line and "10 MiB is free" in line
    assert "choose run.out=DIR" in line and "preset=smoke" in line
    assert not out.exists()


@pytest.mark.slow
def test_a_plan_too_large_for_memory_names_the_stage_and_the_way_out(tmp_path, monkeypatch, capsys):
    simulate(monkeypatch, 4 * GIB, 1000 * GIB)
    out = tmp_path / "out"
    assert cli.main(["preset=paper", f"run.out={out}", "run.device=cpu", "train.device_data_mb=16384"]) == 2
    line = one_line(capsys)
    assert "stage model:" in line and "train.device_data_mb" in line and "preset=demo" in line
    assert not out.exists()


def fake_mnist(folder) -> str:
    """A run.data_root whose MNIST files exist (the pre-flight only looks for them)."""
    from data_gen.mnist import FILES

    (folder / "MNIST" / "raw").mkdir(parents=True)
    for name in FILES.values():
        (folder / "MNIST" / "raw" / name).write_bytes(b"")
    return f"run.data_root={folder}"


@pytest.mark.slow
def test_the_paper_preset_on_a_cpu_asks_and_without_a_terminal_is_refused(tmp_path, monkeypatch, capsys):
    simulate(monkeypatch, 1000 * GIB, 1000 * GIB)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    out = tmp_path / "out"
    data = fake_mnist(tmp_path / "data")
    assert cli.main(["preset=paper", f"run.out={out}", "run.device=cpu", data]) == 2
    captured = capsys.readouterr().err
    assert "warning: preset=paper on a CPU: about" in captured
    assert "pass pipeline.confirm=false to run it anyway" in captured.splitlines()[-1]
    assert "pre-flight for preset=paper" in captured and "model" in captured  # the table came first
    assert not out.exists()
    assert (
        cli.main(["preset=paper", f"run.out={out}", "run.device=cpu", data, "pipeline.dry_run=true"]) == 0
    )  # the plan only
    assert "warning: preset=paper on a CPU" in capsys.readouterr().err
    assert not out.exists()


def test_auto_holds_the_training_set_only_where_it_fits():
    cpu = torch.device("cpu")
    assert memory.holds_training_set(1 * GIB, cpu, have=8 * GIB)
    assert not memory.holds_training_set(13 * GIB, cpu, have=21 * GIB)  # the paper's set on the machine


def test_a_memory_mapped_batch_is_the_resident_batch(tmp_path):
    """device_data_mb decides only where batches come from, never what they hold (views follow index order)."""
    from sla_cli.train.data import BatchSource

    images = np.random.default_rng(0).integers(0, 256, (50, 3, 4, 4), dtype=np.uint8)
    np.save(tmp_path / "x.npy", images)
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    index = torch.tensor([7, 3, 49, 3, 0, 12])
    resident = BatchSource(mapped, torch.device("cpu"), 1).batch(index)
    read = BatchSource(mapped, torch.device("cpu"), 0).batch(index)
    assert torch.equal(resident, read)
    assert torch.equal(read[:, 1], torch.from_numpy(images[3].reshape(3, -1)).float() / 255)


def test_train_reads_memory_mapped_where_holding_the_set_does_not_fit(monkeypatch, capsys):
    from sla_cli.train.data import BatchSource

    monkeypatch.setattr(memory, "available", lambda device: 100)
    images = np.zeros((10, 2, 4, 4), dtype=np.uint8)
    source = BatchSource(images, torch.device("cpu"), "auto")
    assert not source.on_device
    monkeypatch.setattr(memory, "available", lambda device: 10 * GIB)
    assert BatchSource(images, torch.device("cpu"), "auto").on_device


@pytest.mark.parametrize("value", ["auto", 512])
def test_device_data_mb_takes_auto_or_megabytes(value):
    from helpers.stages import compose

    cfg = compose("train", "preset=smoke", "dataset_dir=x", f"train.device_data_mb={value}")
    assert cfg.train.device_data_mb == value


def test_no_mnist_is_one_line_pointing_at_download_before_anything_is_written(tmp_path, monkeypatch, capsys):
    simulate(monkeypatch, 1000 * GIB, 1000 * GIB)
    out = tmp_path / "out"
    assert cli.main(["preset=smoke", f"run.out={out}", "run.device=cpu", f"run.data_root={tmp_path / 'empty'}"]) == 1
    line = one_line(capsys)
    assert "MNIST not found under" in line and "run.download=true" in line
    assert not out.exists()
    data = fake_mnist(tmp_path / "data")  # found: the pre-flight goes on (and stops at its dry run)
    assert cli.main(["preset=smoke", f"run.out={out}", "run.device=cpu", data, "pipeline.dry_run=true"]) == 0
    assert not out.exists()
