"""The identity hash (runfolder.identity) of every command's config at every preset, and a hash of the
whole resolved config: what tests/test_schema.py pins, so that typing the configs cannot change a run's
identity (a float-typed field turning a YAML ``1`` into ``1.0`` would) or any resolved value.

    PYTHONPATH=$PWD .venv/bin/python tests/helpers/identities.py   # prints the table the test pins
"""

from __future__ import annotations

import hashlib
import importlib
import json
import sys
from pathlib import Path

PRESETS = ("smoke", "demo", "paper")
# (command, extra overrides): the folders a stage needs, and the variants that change what its
# run folder records (train's unused keys, classify's class models, density's model)
CASES = {
    "generate-cubes": [()],
    "train": [(), ("train.variant=shared_ae",), ("train.variant=contrastive",)],
    "eval oneshot": [()],
    "eval concept": [()],
    "classify": [
        (),
        ("classify.density_classifier=made",),
        ("classify.density_classifier=vae",),
        ("classify.density_classifier=dae",),
    ],
    "density": [(), ("density.model=vae",), ("density.model=dae",)],
}
OWN_PRESETS = {"density": ("hour",)}
INPUTS = ("dataset_dir=/in/dataset", "model_dir=/in/model")
OUT = Path("/out/run")


def cases() -> list[tuple[str, str, tuple[str, ...]]]:
    return [
        (command, preset, extra)
        for command, extras in CASES.items()
        for preset in (*PRESETS, *OWN_PRESETS.get(command, ()))
        for extra in extras
    ]


def case_name(command: str, preset: str, extra: tuple[str, ...]) -> str:
    return " ".join((command, f"preset={preset}", *extra))


def hashes(command: str, preset: str, extra: tuple[str, ...]) -> tuple[str, str]:
    """(the run's identity, sha256[:16] of its whole resolved config less run.data_root) as the stage records it."""
    from sla_cli import runfolder
    from sla_cli.commands import BY_NAME
    from sla_cli.hydra_app import compose_config

    cmd = BY_NAME[command]
    needs = [o for o in INPUTS if o.split("=")[0] in ("dataset_dir" if command == "train" else "model_dir",)]
    needs = needs if command in ("train", "eval oneshot", "eval concept") else []
    cfg = compose_config(cmd, [f"preset={preset}", "run.out=/out/run", *needs, *extra], check_values=False)
    module = importlib.import_module(cmd.module)
    recorded = runfolder.config_dict(getattr(module, "identity_cfg", lambda c: c)(cfg), OUT)
    recorded["run"].pop("data_root")  # SLA_DATA_ROOT's value: the machine's, not the config's
    whole = hashlib.sha256(json.dumps(recorded, sort_keys=True).encode()).hexdigest()[:16]
    return runfolder.identity(recorded), whole


def table() -> dict[str, list[str]]:
    return {case_name(*c): list(hashes(*c)) for c in cases()}


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    json.dump(table(), sys.stdout, indent=1)
    print()
