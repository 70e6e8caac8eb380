"""The two Hydra internals sla relies on (sla_cli/hydra_internals.py) still behave as used: a
Hydra release that changes them fails here, not in a user's sweep."""

from hydra.core.override_parser.overrides_parser import OverridesParser

from sla_cli.hydra_internals import hydra_args_parser, sweep_jobs


def test_hydra_parser_reads_flags_and_overrides_as_hydra_does():
    args = hydra_args_parser().parse_args(["-m", "--cfg", "job", "seed=1,2", "preset=smoke"])
    assert args.multirun and args.cfg == "job" and args.overrides == ["seed=1,2", "preset=smoke"]


def test_sweep_is_split_into_one_override_list_per_job():
    parsed = OverridesParser.create().parse_overrides(["seed=1,2", "preset=smoke", "train.lr=0.1,0.2"])
    jobs = sweep_jobs(parsed)
    assert len(jobs) == 4
    assert sorted(tuple(sorted(j)) for j in jobs) == sorted(
        tuple(sorted([f"seed={s}", "preset=smoke", f"train.lr={lr}"])) for s in (1, 2) for lr in (0.1, 0.2)
    )
