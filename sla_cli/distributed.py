"""Several processes, one run: `torchrun --nproc_per_node=N -m sla_cli train|classify ...`.

torchrun starts N copies of the command with RANK, WORLD_SIZE, LOCAL_RANK and a rendezvous address
in the environment. Every copy composes the same config, so all build the same model and draw the
same global batch of digits (same seed); each computes the loss of its own slice of that batch, in
all contexts, and before every optimizer step the gradients are all-reduced, each weighted by its
slice's share of the batch. That is the gradient of the whole batch: the run equals a one-process
run of the same global batch up to float rounding (data parallel, as DistributedDataParallel does,
but the stages call the model's encode/decode rather than its forward, which DDP's wrapper needs).

Rank 0 alone writes the run folder and the checkpoints. The other ranks run in a scratch mirror
of it (links to its files, so they read the same checkpoints when resuming); what they write is
thrown away when they exit. gloo is the backend on CPU, nccl on CUDA (one GPU per local rank).
A submitit job with several tasks (SLURM's tasks_per_node) is set up the same way.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import torch
import torch.distributed as dist

from sla_cli.errors import ConfigError

_share = 1.0  # this rank's part of the current global batch (set by shard, used to weight gradients)


def world_size() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def setup(device_name: str, out_dir: Path) -> Path:
    """Join torchrun's process group (nothing without torchrun); returns the folder this rank writes."""
    _export_submitit_tasks()
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return Path(out_dir)
    if not dist.is_initialized():
        from sla_cli.runtime import resolve_device

        cuda = resolve_device(device_name).type == "cuda"
        if cuda:  # device "cuda" below then means this rank's own GPU
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl" if cuda else "gloo")
        atexit.register(dist.destroy_process_group)
    folder = Path(out_dir) if rank() == 0 else _scratch_mirror(Path(out_dir))
    if rank() != 0:
        from sla_cli.runtime import console

        console.quiet = True  # one progress bar and one table, from rank 0
    dist.barrier()  # every rank has looked at the folder before rank 0 changes anything in it
    return folder


def _export_submitit_tasks() -> None:
    """A submitit job of several tasks (hydra.launcher.tasks_per_node=N) is a torchrun of N: the same
    variables, from submitit's job environment. (GPU i of the node goes to local rank i.)"""
    if "WORLD_SIZE" in os.environ or "SUBMITIT_FOLDER" not in os.environ:
        return
    import submitit

    if submitit.JobEnvironment().num_tasks > 1:
        submitit.helpers.TorchDistributedEnvironment().export(set_cuda_visible_devices=False)


def _scratch_mirror(folder: Path) -> Path:
    """A temporary folder of links to ``folder``'s files: reads see the run, writes replace links."""
    scratch = Path(tempfile.mkdtemp(prefix=f"sla-rank{rank()}-"))
    atexit.register(shutil.rmtree, scratch, True)
    if folder.is_dir():
        for src in sorted(folder.rglob("*")):
            if src.is_file():
                dst = scratch / src.relative_to(folder)
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.symlink_to(src.resolve())
    return scratch


def shard(batch: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """This rank's contiguous slice of a global batch along ``dim`` (the digits); the whole batch
    when there is one process."""
    global _share
    n = world_size()
    if n == 1:
        return batch
    total = batch.shape[dim]
    if total < n:
        raise ConfigError(
            f"a batch of {total} cannot be split over {n} processes; raise the batch size or run fewer processes"
        )
    part = torch.tensor_split(batch, n, dim=dim)[rank()]
    _share = part.shape[dim] / total
    return part


class _ShardedOrder:
    """An epoch's sample order whose slices (the batches) come back as this rank's part of them."""

    def __init__(self, order: torch.Tensor):
        self.order = order

    def __getitem__(self, key) -> torch.Tensor:
        return shard(self.order[key])


def shard_batches(order: torch.Tensor):
    """Wrap an epoch order so that each batch cut from it is this rank's slice (for fit loops)."""
    return order if world_size() == 1 else _ShardedOrder(order)


def batch_mean(values: torch.Tensor) -> torch.Tensor:
    """Means over this rank's slice -> means over the global batch (identity with one process)."""
    if world_size() == 1:
        return values
    values = values.float() * _share
    dist.all_reduce(values)
    return values


def _all_reduce_gradients(optimizer: torch.optim.Optimizer, args, kwargs) -> None:
    """Before each step: every gradient becomes the global batch's (one all-reduce for all of them)."""
    grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1).float() for g in grads]) * _share
    dist.all_reduce(flat)
    offset = 0
    for g in grads:
        g.copy_(flat[offset : offset + g.numel()].view_as(g))
        offset += g.numel()


def sync_gradients(optimizer: torch.optim.Optimizer) -> torch.optim.Optimizer:
    """Make ``optimizer`` step on the all-reduced gradients under torchrun (unchanged otherwise)."""
    if world_size() > 1:
        optimizer.register_step_pre_hook(_all_reduce_gradients)
    return optimizer
