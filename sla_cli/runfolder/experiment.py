"""What a run computes, as opposed to how it is run: the one definition every reader uses.

A config key is a *how-to-run* key when changing it cannot change any number a run writes beyond
float rounding: where the folder lies, whether it may replace another run, the hardware and its
arithmetic, where the input files lie, and the bookkeeping of one invocation (resuming, stopping
early, how often rows and checkpoints are written, how many checkpoints stay). They all live in the
config's ``run:`` block (conf/common.yaml); a run's *experiment* is its config less ``run:``, the seed
included. A config.yaml written before ``run:`` existed held them at the top level (``out``,
``device``...), under ``data:`` (``data.root``, ``data.download``) and in a stage's section
(``train.resume``, ``density.keep_checkpoints``...): those spellings are how-to-run too (OLD_HOW_TO_RUN),
so an old folder keeps its identity. Used by:

- ``identity``: the hash in every manifest.json; a folder holding a complete run of the same
  identity is "nothing to do", whatever the how-to-run keys of the new command;
- ``sla report`` and ``sla aggregate``: runs whose experiments differ in more than the seed are
  never averaged together;
- the stages' resume: an interrupted-then-resumed run is the same run as an uninterrupted one.

Decided deliberately:

- ``run.data_root`` and ``run.download`` are how-to-run: they say where MNIST lies (CI's
  ../shared/data, a user's ./data) and whether it may be fetched, not what it is. sla checks the
  IDX files' magic numbers, counts and shapes, but not their content: a folder holding another
  dataset in MNIST's format under MNIST's names would be taken for MNIST.
- ``run.precision`` is how-to-run like ``run.device`` (``auto`` picks it from the device): bf16 against
  float32 changes rounding, not the experiment; ``manifest.json`` records the device.
- ``data.source`` (which images) is the experiment: it stays outside ``run:``.
- Chunk and batch sizes that only bound memory (``oneshot.chunk_contexts``, ``density.iwae_chunk``,
  ``train.device_data_mb``...) stay part of the experiment: some of them change the order in which
  random numbers are drawn, so they can change results beyond rounding.
- Input folders (``dataset_dir``, ``model_dir``) stay part of the experiment: another folder is in
  general another input, and the stages check the identity of what they read anyway.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

# The block of how-to-run keys (conf/common.yaml, sla_cli/schema/common.py).
RUN = "run"
# Where the keys of run: lived before it existed (dotted, as a config.yaml of then holds them): read as
# how-to-run, so a folder made then is the same run.
OLD_HOW_TO_RUN = frozenset(
    {"out", "overwrite", "device", "threads", "precision", "data.root", "data.download", "progress_every", "logger"}
)
# ... and the leaf names that were how-to-run in any stage's section (train.resume, density.keep_checkpoints, ...).
OLD_HOW_TO_RUN_LEAVES = frozenset({"resume", "stop_after", "keep_checkpoints", "checkpoint_every", "log_every"})
# run: keys that concern one invocation only: left out of the config.yaml and manifest a stage
# writes, so a run stopped and resumed leaves the same folder as one run straight through.
INVOCATION_KEYS = ("resume", "stop_after")
# Keys added after runs were made, at the value every older run had: left out of the experiment at
# that value, so the folders made before the key existed stay the same runs (data.source: MNIST).
DEFAULTS_OF_OLD = {"data.source": "mnist"}
# Keys renamed after runs were made (sla_cli/commands.py RENAMED_KEYS): an experiment is read under
# the old spelling and value, so a folder made before the rename is still the same run.
OLD_SPELLINGS = {
    "classify.density_classifier": ("members", {"none": "ae"}),
    "classify.density": ("member", {}),
    "classify.autoencoder": ("model", {}),
    "metrics": ("eval", {}),
}
# What a mean over seeds averages out: `seed` (every command) and `classify.seeds`.
SEED_LEAVES = frozenset({"seed", "seeds"})


def is_how_to_run(key: str) -> bool:
    """Whether the dotted config key ``key`` says how a run is carried out, not what it computes:
    ``run`` and its keys, or a key's spelling from before ``run:`` existed."""
    return (
        key == RUN
        or key.startswith(f"{RUN}.")
        or key in OLD_HOW_TO_RUN
        or ("." in key and key.rsplit(".", 1)[1] in OLD_HOW_TO_RUN_LEAVES)
    )


def is_seed(key: str) -> bool:
    return key.rsplit(".", 1)[-1] in SEED_LEAVES


def old_spellings(config: dict, back: bool = False) -> dict:
    """A copy of ``config`` with every renamed key under its old name and value (see OLD_SPELLINGS);
    ``back``: the other way, every old name under today's (what a message shows a user)."""
    config = copy.deepcopy(config)
    for path, (old, values) in OLD_SPELLINGS.items():
        *parents, leaf = path.split(".")
        node: Any = config
        for p in parents:
            node = node.get(p) if isinstance(node, dict) else None
        src, dst = (old, leaf) if back else (leaf, old)
        mapping = {b: a for a, b in values.items()} if back else values
        if isinstance(node, dict) and src in node and dst not in node:
            v = node.pop(src)
            node[dst] = mapping.get(v, v) if isinstance(v, str) else v
    return config


def experiment(config: dict, less_seed: bool = False) -> dict:
    """``config`` (plain nested dicts) less its how-to-run keys, and less the seeds if asked; renamed
    keys under their old spelling. Before ``run:`` every config had a ``data:`` section (data.root
    lived there), which the experiment kept, emptied: a config with ``run:`` gets it back, so its
    identity is that of the same config spelt the old way."""

    def strip(node: Any, prefix: str) -> Any:
        if not isinstance(node, dict):
            return node
        return {
            k: strip(v, f"{prefix}{k}.")
            for k, v in node.items()
            if not is_how_to_run(f"{prefix}{k}")
            and not (less_seed and is_seed(f"{prefix}{k}"))
            and DEFAULTS_OF_OLD.get(f"{prefix}{k}", object()) != v
        }

    config = old_spellings(config)
    if isinstance(config.get(RUN), dict) and not isinstance(config.get("data"), dict):
        config["data"] = {}
    return strip(config, "")


def identity(config: dict) -> str:
    """Hash of what determines a run's content: its experiment (see the module doc)."""
    return hashlib.sha256(json.dumps(experiment(config), sort_keys=True).encode()).hexdigest()[:16]


def flat(config: dict, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as {"a.b.c": leaf}."""
    out: dict[str, Any] = {}
    for k, v in config.items():
        if isinstance(v, dict) and v:
            out.update(flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def differences(old: Any, new: Any, shown: int = 3) -> str:
    """The keys in which two configs (or resume keys) differ, as ``key: old -> new`` for the first
    ``shown`` of them and a count of the rest: what a refusal names instead of a whole config."""
    a = flat(old_spellings(old, back=True)) if isinstance(old, dict) else {"": old}
    b = flat(old_spellings(new, back=True)) if isinstance(new, dict) else {"": new}
    keys = [
        k
        for k in dict.fromkeys([*a, *b])
        if json.dumps(a.get(k, "<absent>"), sort_keys=True, default=str)
        != json.dumps(b.get(k, "<absent>"), sort_keys=True, default=str)
    ]
    text = ", ".join(f"{k}: {_show(a.get(k, '<absent>'))} -> {_show(b.get(k, '<absent>'))}" for k in keys[:shown])
    return text + (f" and {len(keys) - shown} more" if len(keys) > shown else "") if keys else "no key"


def _show(v: Any) -> str:
    text = json.dumps(v, default=str) if not isinstance(v, str) else v
    return text if len(text) <= 40 else text[:37] + "..."


def without_invocation_keys(config: dict) -> dict:
    """``config`` (plain data, changed in place) less run.resume and run.stop_after (INVOCATION_KEYS):
    the config a stage records, the same for a resumed run as for one run straight through."""
    run = config.get(RUN)
    if isinstance(run, dict):
        for key in INVOCATION_KEYS:
            run.pop(key, None)
    return config
