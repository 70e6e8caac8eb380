"""The set's CPU self and cross steps, backward written out: autograd's numbers bit for bit, in 0.5-0.75 of its time.

Profiled (bench/train_step.py, torch.profiler), autograd's step for this model spent about half its
CPU time outside the matmuls that define it:
- fresh [C, D, H] gradients every step: glibc serves blocks over 32 MB with a new mmap, so each
  step page-faults 2 x 52 MB at the demo size (2 x 200 MB at hidden 512), about 0.5 ms per MB;
- the loss's elementwise ops on mixed layouts (the decoder's output is a transposed view), which
  runs them element by element instead of vectorised;
- the decoder's input gradient as W^T @ g, MKL's slowest layout for these shapes (about 1.8x the
  time of the same product computed as (g^T @ W)^T).
This module runs the same operations on the same numbers: each gradient is the product, sum or
elementwise op autograd would run (BaddbmmBackward, sum_to for the broadcast biases, pow, sigmoid
and relu backward, the index/gather backward of the cross pairs), each sum reduces over the same
memory order, and the two halves of a tied weight's gradient add in the gemm (beta = 1), which is
the add autograd does. The large gradients land in buffers kept between steps; the elementwise
work runs on contiguous memory. tests/train/test_fast_step.py checks the weights after several
steps are bit for bit those of autograd, at the smoke and demo shapes, on one and two threads, so an
MKL or PyTorch release that sums differently fails there, not silently in a run.

It covers what `sla train` runs on CPU by default: tied weights, a fixed sigma, float32 without
autocast, self and cross steps, with or without ``train.views_per_digit``. Everything else
(learn_sigma, tied=false, schedule=mixed, run.precision=bf16, CUDA) takes autograd's path
(``loop.train_step`` decides).
"""

from __future__ import annotations

import weakref

import torch
from torch import Tensor

from sla_cli.models.ae_set import AutoencoderSet


def covers(model: AutoencoderSet, x: Tensor, kind: str) -> bool:
    """Whether this step reproduces autograd's for this model and batch (called inside ``autocast``)."""
    return (
        x.device.type == "cpu"
        and x.dtype == torch.float32
        and model.tied
        and model.log_sigma is None
        and kind in ("self", "cross")
        and not torch.is_autocast_enabled("cpu")
        and all(p.dtype == torch.float32 and p.requires_grad for p in model.parameters())
    )


class FastStep:
    """One per model: the gradient and scratch buffers it reuses from step to step."""

    _per_model: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    @classmethod
    def for_model(cls, model: AutoencoderSet) -> FastStep:
        step = cls._per_model.get(model)
        if step is None:
            step = cls._per_model[model] = cls()
        return step

    def __init__(self):
        self._buffers: dict[str, Tensor] = {}

    def _buffer(self, name: str, shape: tuple[int, ...], like: Tensor) -> Tensor:
        t = self._buffers.get(name)
        if t is None or t.shape != shape or t.dtype != like.dtype or t.device != like.device:
            t = self._buffers[name] = torch.empty(shape, dtype=like.dtype, device=like.device)
        return t

    @torch.no_grad()
    def loss_and_grads(
        self, model: AutoencoderSet, x: Tensor, weight: Tensor, pairs: Tensor | None, pair_seen: Tensor | None
    ) -> Tensor:
        """The masked loss of one self (``pairs`` None) or cross step, its gradients left in each
        parameter's ``.grad``. ``pairs``: ``perm[C]`` or ``perm[C, B]`` (see ``loop.cross_pairs``);
        ``pair_seen[C, B]``: the (context, digit) pairs that count, or None for all."""
        c, b, d = x.shape
        w1, w2 = model.enc1_w, model.enc2_w
        # forward: AutoencoderSet.encode and the tied decode_logits, op for op
        h = torch.relu(torch.baddbmm(model.enc1_b[:, None], x, w1))  # [C, B, H]
        z = torch.baddbmm(model.enc2_b[:, None], h, w2)  # [C, B, L]
        if pairs is None:
            zc = z
        elif pairs.dim() == 1:
            zc = z[pairs]
        else:
            index = pairs[:, :, None].expand_as(z)
            zc = z.gather(0, index)
        ht = torch.relu(torch.baddbmm(model.dec1_b[:, :, None], w2, zc.transpose(1, 2)))  # [C, H, B]
        y = torch.baddbmm(model.dec2_b[:, :, None], w1, ht, out=self._buffer("y", (c, d, b), x))  # [C, D, B]
        torch.sigmoid(y, out=y)

        # loss: loop.masked_context_loss on [C, D, B] memory, the order its sum runs in there too
        wt = weight.transpose(1, 2)  # [C, D, 1]
        if pair_seen is not None:
            wt = wt * pair_seen[:, None, :].to(wt.dtype)  # [C, D, B]
        residual = torch.sub(y, x.transpose(1, 2), out=self._buffer("residual", (c, d, b), x))
        weighted = torch.mul(residual, residual, out=self._buffer("weighted", (c, d, b), x)).mul_(wt)
        loss = weighted.sum() / b

        # dL/dlogits: autograd multiplies (1/B * w) by 2 * residual (pow's backward), then sigmoid's
        # backward, g * (1 - y) * y. Doubling is exact in binary floating point, so (2 * (1/B * w)) *
        # residual is the same number in one pass; written [C, B, D] as autograd's is, so that the
        # bias sum below reduces in the same order.
        dloss = torch.ones((), dtype=x.dtype) / b
        g_res = residual.mul_((dloss * wt) * 2)
        g = torch.ops.aten.sigmoid_backward.grad_input(
            g_res.transpose(1, 2), y.transpose(1, 2), grad_input=self._buffer("g", (c, b, d), x)
        )
        g_dec2_b = g.sum(1)
        g_w1 = torch.bmm(g.transpose(1, 2), ht.transpose(1, 2), out=self._grad("w1", w1))  # decoder's half
        # W1^T @ g^T as (g @ W1)^T: the layout MKL runs fastest, the same bits (the tests check)
        g_ht = torch.ops.aten.threshold_backward.grad_input(
            torch.bmm(g, w1).transpose(1, 2), ht, 0, grad_input=self._buffer("g_ht", ht.shape, x)
        )
        g_dec1_b = g_ht.sum(2)
        g_w2 = torch.bmm(g_ht, zc, out=self._grad("w2", w2))  # decoder's half
        g_zc = torch.bmm(w2.transpose(1, 2), g_ht).transpose(1, 2)  # [C, B, L]
        if pairs is None:
            g_z = g_zc
        elif pairs.dim() == 1:
            g_z = torch.zeros_like(z).index_put_((pairs,), g_zc, accumulate=True)
        else:
            g_z = torch.zeros_like(z).scatter_add_(0, index, g_zc)
        g_enc2_b = g_z.sum(1)
        torch.baddbmm(g_w2, h.transpose(1, 2), g_z, out=g_w2)  # + the encoder's half
        g_h = torch.ops.aten.threshold_backward(g_z.bmm(w2.transpose(1, 2)), h, 0)
        g_enc1_b = g_h.sum(1)
        torch.baddbmm(g_w1, x.transpose(1, 2), g_h, out=g_w1)  # + the encoder's half

        for p, grad in (
            (w1, g_w1),
            (w2, g_w2),
            (model.enc1_b, g_enc1_b),
            (model.enc2_b, g_enc2_b),
            (model.dec1_b, g_dec1_b),
            (model.dec2_b, g_dec2_b),
        ):
            p.grad = grad
        return loss

    def _grad(self, name: str, param: Tensor) -> Tensor:
        return self._buffer("grad_" + name, tuple(param.shape), param)
