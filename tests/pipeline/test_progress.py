"""Progress where stderr is not a terminal (nohup, SLURM logs): lines with rate and time left."""

from __future__ import annotations

import re

import pytest

from sla_cli.runtime import LineProgress

LINE = re.compile(r"^train: (\d+)/400 \(\d+%\), [\d.]+ (it/s|s/it), \d+:\d\d:\d\d left, \d+:\d\d:\d\d elapsed")


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_line_every_n_steps_with_rate_and_time_left():
    clock, lines = Clock(), []
    with LineProgress(every=100, clock=clock, write=lines.append) as bar:
        task = bar.add_task("train", total=400, info="")
        for _ in range(400):
            clock.now += 0.5
            bar.update(task, advance=1, info="self 0.1")
    assert [int(LINE.match(line).group(1)) for line in lines] == [100, 200, 300, 400], lines
    assert lines[0].startswith("train: 100/400 (25%), 2 it/s, 0:02:30 left, 0:00:50 elapsed, self 0.1")


def test_by_default_quiet_for_short_loops_then_every_tenth():
    clock, lines = Clock(), []
    with LineProgress(every=0, clock=clock, write=lines.append) as bar:
        fast = bar.add_task("fast", total=100)
        for _ in range(100):
            clock.now += 0.01  # one second in all: no line
            bar.update(fast, advance=1)
        slow = bar.add_task("slow", total=100)
        for _ in range(100):
            clock.now += 1.0
            bar.advance(slow)
    assert not [line for line in lines if line.startswith("fast")]
    shown = [int(re.match(r"slow: (\d+)/", line).group(1)) for line in lines]
    assert shown == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100], lines


@pytest.mark.slow
def test_a_stage_without_a_terminal_prints_progress_lines(smoke_dataset, tmp_path, capsys):
    from helpers.stages import run_stage

    run_stage(
        "train",
        "preset=smoke",
        f"dataset_dir={smoke_dataset}",
        "train.steps=200",
        "run.progress_every=50",
        out=tmp_path / "model",
    )
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("train: ")]
    assert [int(re.match(r"train: (\d+)/200", line).group(1)) for line in lines] == [50, 100, 150, 200], lines
    assert all(" left, " in line and ("it/s" in line or "s/it" in line) for line in lines)
