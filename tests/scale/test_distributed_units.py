"""sla_cli.distributed on two gloo processes with a known answer: a step on unequal slices of a
batch (5 digits as 3 + 2, like the last batch of a classify epoch) equals the one-process step.

The two processes meet through a FileStore in the test's tmp_path, not a TCP port picked in advance:
a port found free, released and bound again by rank 0 only after it has imported torch (tens of
seconds on a loaded machine) can be taken meanwhile by any other process -- another suite's gloo
pairs or its own rendezvous -- and rank 1 then joins a stranger (rank 1 once died with SIGABRT in a
full `make test` on a busy 2-core machine). Both ranks also meet at a barrier before either tears
down its process group, so neither leaves while the other still talks to it."""

from __future__ import annotations

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
    loss = model(x[order[0 : len(x)]]).pow(2).mean()  # a mean over this rank's slice
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"loss": distributed.batch_mean(loss.detach()), **model.state_dict()}


def _worker(rank: int, store: str, x: torch.Tensor, out: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=2)
    try:
        result = one_step(x)
        if rank == 0:
            torch.save(result, out)
        dist.barrier()
    finally:
        dist.destroy_process_group()


def test_two_ranks_on_unequal_slices_equal_one_process(tmp_path):
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(1))
    single = one_step(x)
    assert distributed.world_size() == 1
    out = tmp_path / "rank0.pt"
    mp.spawn(_worker, args=(str(tmp_path / "store"), x, str(out)), nprocs=2, join=True)
    split = torch.load(out, weights_only=True)
    for key in single:
        torch.testing.assert_close(split[key], single[key], rtol=1e-5, atol=1e-6)
    assert distributed.shard(torch.arange(5)).tolist() == [0, 1, 2, 3, 4]  # one process: the whole batch
