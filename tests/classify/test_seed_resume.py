"""run.resume: a run over several seeds that is killed continues at the first unfinished seed."""

from __future__ import annotations

import json

import pytest

from helpers.stages import TINY_CLASSIFY, run_stage
from sla_cli.classify import stage

SMALL = (*TINY_CLASSIFY, "classify.seeds=[0,1]", "classify.train.epochs=1")


def _accuracies(out) -> list[dict]:
    r = json.loads((out / "results.json").read_text())
    return [
        {k: v["accuracy"] for k, v in {**s["ae_set"], "mlp": s["mlp"], "mlp_matched": s["mlp_matched"]}.items()}
        for s in r["per_seed"]
    ]


def _killed_at_seed_1(monkeypatch, out, *overrides):
    one_seed = stage._one_seed

    def dies_at_seed_1(cfg, seed, *args):
        if seed == 1:
            raise KeyboardInterrupt
        return one_seed(cfg, seed, *args)

    monkeypatch.setattr(stage, "_one_seed", dies_at_seed_1)
    with pytest.raises(KeyboardInterrupt):
        run_stage("classify", *SMALL, *overrides, out=out)
    monkeypatch.setattr(stage, "_one_seed", one_seed)
    assert not (out / "manifest.json").exists() and (out / "checkpoints" / "seed0.pt").is_file()
    assert not (out / "weights_seed0.pt").exists()  # a listed file of the failed run: removed, as always


@pytest.mark.slow
def test_a_killed_run_continues_at_the_unfinished_seed_with_the_same_numbers(mnist_root, tmp_path, monkeypatch):
    whole = tmp_path / "whole"
    run_stage("classify", *SMALL, out=whole)
    _killed_at_seed_1(monkeypatch, tmp_path / "killed")
    trained: list[int] = []
    one_seed = stage._one_seed
    monkeypatch.setattr(stage, "_one_seed", lambda cfg, seed, *a: (trained.append(seed), one_seed(cfg, seed, *a))[1])
    run_stage("classify", *SMALL, out=tmp_path / "killed")
    assert trained == [1]  # seed 0 was read back
    assert _accuracies(tmp_path / "killed") == _accuracies(whole)
    for name in ("weights_seed0.pt", "weights_seed1.pt", "confusion.png", "loglik_hist.png", "manifest.json"):
        assert (tmp_path / "killed" / name).is_file(), name
    assert not (tmp_path / "killed" / "checkpoints").exists()  # served, removed once complete
    manifest = json.loads((tmp_path / "killed" / "manifest.json").read_text())
    assert not any(name.startswith("checkpoints/") for name in manifest["sha256"])


def test_a_checkpoint_counts_only_for_the_same_experiment_less_the_seeds(tmp_path):
    from helpers.stages import compose
    from sla_cli.classify import seed_checkpoints

    key = seed_checkpoints.key(compose("classify", *SMALL), tmp_path)
    assert key == seed_checkpoints.key(compose("classify", *SMALL, "classify.seeds=[0,1,2,3,4]"), tmp_path)
    assert key == seed_checkpoints.key(compose("classify", *SMALL, "run.resume=false", "run.threads=2"), tmp_path)
    assert key != seed_checkpoints.key(compose("classify", *SMALL, "classify.train.lr=0.002"), tmp_path)


@pytest.mark.slow
def test_resume_false_trains_every_seed_again(mnist_root, tmp_path, monkeypatch):
    out = tmp_path / "run"
    _killed_at_seed_1(monkeypatch, out)
    trained: list[int] = []
    one_seed = stage._one_seed
    monkeypatch.setattr(stage, "_one_seed", lambda cfg, seed, *a: (trained.append(seed), one_seed(cfg, seed, *a))[1])
    run_stage("classify", *SMALL, "run.resume=false", out=out)
    assert trained == [0, 1]
