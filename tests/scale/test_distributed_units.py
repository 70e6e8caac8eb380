"""sla_cli.distributed on two gloo processes with a known answer: a step on unequal slices of a
batch (5 digits as 3 + 2, like the last batch of a classify epoch) equals the one-process step."""

from __future__ import annotations

import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from sla_cli import distributed

pytestmark = pytest.mark.slow


def one_step(x: torch.Tensor) -> dict:
    """A linear model's SGD step on a batch cut from the epoch order; its weights and the batch loss."""
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 3)
    opt = distributed.sync_gradients(torch.optim.SGD(model.parameters(), lr=0.5))
    order = distributed.shard_batches(torch.arange(len(x)))
    loss = model(x[order[0:len(x)]]).pow(2).mean()  # a mean over this rank's slice
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"loss": distributed.batch_mean(loss.detach()), **model.state_dict()}


def _worker(rank: int, port: int, x: torch.Tensor, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=2)
    try:
        result = one_step(x)
        if rank == 0:
            torch.save(result, out)
    finally:
        dist.destroy_process_group()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_ranks_on_unequal_slices_equal_one_process(tmp_path):
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(1))
    single = one_step(x)
    assert distributed.world_size() == 1
    out = tmp_path / "rank0.pt"
    mp.spawn(_worker, args=(free_port(), x, str(out)), nprocs=2, join=True)
    split = torch.load(out, weights_only=True)
    for key in single:
        torch.testing.assert_close(split[key], single[key], rtol=1e-5, atol=1e-6)
    assert distributed.shard(torch.arange(5)).tolist() == [0, 1, 2, 3, 4]  # one process: the whole batch
