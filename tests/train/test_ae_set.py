"""The batched AutoencoderSet and its training step against the naive per-context reference."""

from __future__ import annotations

import pytest
import torch

from sla_cli.models.ae_set import AutoencoderSet
from sla_cli.models.naive_ae import naive_copy
from sla_cli.train.loop import loss_weights, masked_context_loss, random_derangement, step_losses, train_step

C, D, H, L, B = 5, 12, 7, 3, 4


def make_set(tied: bool = True, learn_sigma: bool = False) -> AutoencoderSet:
    torch.manual_seed(0)
    return AutoencoderSet(C, D, H, L, tied=tied, learn_sigma=learn_sigma).double()


def masks() -> torch.Tensor:
    torch.manual_seed(1)
    m = (torch.rand(C, 3, 4) > 0.4).double() * torch.rand(C, 3, 4).double()
    m[:, 0, 0] = 1.0  # no context with an empty mask
    return m


@pytest.mark.parametrize("tied", [True, False])
def test_batched_set_matches_per_context_modules(tied):
    ae = make_set(tied)
    naive = naive_copy(ae).double()
    x = torch.rand(C, B, D, dtype=torch.float64)
    z = ae.encode(x)
    for c in range(C):
        torch.testing.assert_close(z[c], naive[c].encode(x[c]))
        torch.testing.assert_close(ae.decode(z)[c], naive[c].decode(z[c]))
        torch.testing.assert_close(ae(x)[c], naive[c](x[c]))
    # members: row r is served by member members[r], with no weight copies
    members = torch.tensor([4, 4, 0, 2])
    xr = torch.rand(len(members), B, D, dtype=torch.float64)
    zr = ae.encode(xr, members)
    out = ae.decode(zr, members.flip(0))
    for r, (m_enc, m_dec) in enumerate(zip(members.tolist(), members.flip(0).tolist(), strict=True)):
        torch.testing.assert_close(out[r], naive[m_dec].decode(naive[m_enc].encode(xr[r])))


def test_tied_decoder_uses_encoder_weights():
    ae = make_set(tied=True)
    assert not hasattr(ae, "dec1_w")
    with torch.no_grad():
        ae.enc1_w[2].mul_(2.0)  # changing an encoder matrix changes that member's decoder output too
    z = torch.rand(C, B, L, dtype=torch.float64)
    before = naive_copy(make_set(tied=True)).double()[2].decode(z[2])
    assert not torch.allclose(ae.decode(z)[2], before)


def naive_cross_loss(naive, x, weight, perm):
    """Decoder c reconstructs x[c] from encoder perm[c]'s latent of x[perm[c]], looped."""
    total = 0
    for c in range(C):
        recon = naive[c].decode(naive[int(perm[c])].encode(x[int(perm[c])]))
        total = total + ((recon - x[c]).square() * weight[c]).sum()
    return total / x.shape[1]


def test_cross_training_pairs_decoder_c_with_encoder_perm_c():
    ae = make_set()
    naive = naive_copy(ae).double()
    x = torch.rand(C, B, D, dtype=torch.float64)
    weight = loss_weights(masks())
    perm = random_derangement(C, torch.Generator().manual_seed(3))
    assert sorted(perm.tolist()) == list(range(C)) and all(perm[c] != c for c in range(C))
    batched = step_losses(ae, x, weight, "cross", perm)["cross"]
    reference = naive_cross_loss(naive, x, weight, perm)
    torch.testing.assert_close(batched, reference)
    # and it is not the self loss in disguise: the pairing matters
    assert not torch.isclose(batched, step_losses(ae, x, weight, "self", perm)["self"])
    mixed = step_losses(ae, x, weight, "mixed", perm)
    torch.testing.assert_close(mixed["cross"], reference)


def test_derangements_reach_every_pair():
    gen = torch.Generator().manual_seed(0)
    seen = set()
    for _ in range(300):
        perm = random_derangement(6, gen)
        seen.update((c, int(perm[c])) for c in range(6))
    assert seen == {(d, s) for d in range(6) for s in range(6) if d != s}


@pytest.mark.parametrize("learn_sigma", [False, True])
def test_pixels_outside_the_mask_do_not_matter(learn_sigma):
    ae = make_set(learn_sigma=learn_sigma)
    m = masks()
    weight = loss_weights(m)
    outside = (m.reshape(C, 1, D) == 0).expand(C, B, D)
    assert outside.any()
    x = torch.rand(C, B, D, dtype=torch.float64)
    logits = torch.randn(C, B, D, dtype=torch.float64, requires_grad=True)
    loss = masked_context_loss(ae, logits, x, weight)
    loss.backward()
    assert (logits.grad[outside] == 0).all() and (logits.grad[~outside] != 0).any()
    if learn_sigma:
        assert (ae.log_sigma.grad.reshape(C, 1, D).expand(C, B, D)[outside] == 0).all()
    # changing target or output outside the mask leaves the loss unchanged
    x2 = torch.where(outside, torch.rand_like(x), x)
    logits2 = torch.where(outside, torch.randn_like(x) * 5, logits.detach())
    torch.testing.assert_close(masked_context_loss(ae, logits2, x2, weight), loss.detach())
    # inside it, they do
    x3 = torch.where(~outside, torch.rand_like(x), x)
    assert not torch.isclose(masked_context_loss(ae, logits.detach(), x3, weight), loss.detach())


def test_loss_is_mean_over_contexts_of_masked_mse():
    ae = make_set()
    m = masks()
    x = torch.rand(C, B, D, dtype=torch.float64)
    logits = torch.randn(C, B, D, dtype=torch.float64)
    w = m.reshape(C, 1, D)  # one mask convention: weight m (see loss_weights)
    per_context = ((torch.sigmoid(logits) - x).square() * w).sum((1, 2)) / (B * w.sum((1, 2)))
    torch.testing.assert_close(masked_context_loss(ae, logits, x, loss_weights(m)), per_context.mean())


@pytest.mark.parametrize("kind", ["self", "cross"])
def test_one_adam_step_matches_the_naive_loop(kind):
    ae = make_set()
    naive = naive_copy(ae).double()
    x = torch.rand(C, B, D, dtype=torch.float64)
    weight = loss_weights(masks())
    perm = random_derangement(C, torch.Generator().manual_seed(5))
    # Adam's eps well above float64 rounding: a near-zero gradient's first step is then not sign(rounding noise)
    train_step(ae, torch.optim.Adam(ae.parameters(), lr=1e-2, eps=1e-6), x, weight, kind, perm)
    opt = torch.optim.Adam(naive.parameters(), lr=1e-2, eps=1e-6)
    identity = torch.arange(C)
    loss = naive_cross_loss(naive, x, weight, perm if kind == "cross" else identity)
    opt.zero_grad()
    loss.backward()
    opt.step()
    after = naive_copy(ae).double()
    for c in range(C):
        torch.testing.assert_close(after[c].enc1.weight, naive[c].enc1.weight)
        torch.testing.assert_close(after[c].enc2.bias, naive[c].enc2.bias)
        torch.testing.assert_close(after[c].dec2_b, naive[c].dec2_b)
