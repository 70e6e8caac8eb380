"""train.views_per_digit: a fixed seeded choice of k views per digit, and unseen views never train."""

from __future__ import annotations

import torch

from sla_cli.models.ae_set import AutoencoderSet
from sla_cli.train.data import view_choice
from sla_cli.train.loop import cross_pairs, held_view_sources, loss_weights, random_derangement, step_kind, step_losses

C, D, H, L, B = 6, 10, 5, 3, 8


def test_view_choice_is_k_distinct_contexts_per_digit_fixed_by_seed():
    seen = view_choice(3000, C, 2, seed=0)
    assert seen.shape == (3000, C) and (seen.sum(1) == 2).all()
    assert torch.equal(seen, view_choice(3000, C, 2, seed=0))
    assert not torch.equal(seen, view_choice(3000, C, 2, seed=1))
    share = seen.float().mean(0)  # each context holds about k/C of the digits
    assert (share - 2 / C).abs().max() < 0.04, share
    assert view_choice(10, C, C, seed=0) is None and view_choice(10, C, None, seed=0) is None


def _grads(kind: str, x: torch.Tensor, seen: torch.Tensor, perm: torch.Tensor) -> dict:
    torch.manual_seed(0)
    ae = AutoencoderSet(C, D, H, L).double()
    weight = loss_weights(torch.ones(C, 2, 5, dtype=torch.float64))
    loss = sum(step_losses(ae, x, weight, kind, perm, seen).values())
    loss.backward()
    return {n: p.grad.clone() for n, p in ae.named_parameters()}


def test_unseen_views_give_no_gradient():
    """Changing the pixels of views the training set does not hold changes no gradient; changing a
    held view does."""
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(C, B, D, generator=gen, dtype=torch.float64)
    seen = view_choice(B, C, 2, seed=3).T.double()  # [C, B]
    perm = random_derangement(C, gen)
    x_unseen = torch.where(seen[:, :, None] > 0, x, torch.rand(C, B, D, generator=gen, dtype=torch.float64))
    x_seen = torch.where(seen[:, :, None] > 0, torch.rand(C, B, D, generator=gen, dtype=torch.float64), x)
    sources = held_view_sources(seen, torch.rand(C, B, generator=gen, dtype=torch.float64))
    for kind in ("self", "cross", "mixed"):
        for pairing in (perm, sources):
            g, g_unseen, g_seen = (_grads(kind, v, seen, pairing) for v in (x, x_unseen, x_seen))
            for name in g:
                torch.testing.assert_close(g[name], g_unseen[name])
            assert any(not torch.allclose(g[n], g_seen[n]) for n in g), kind


def test_held_view_sources_pair_every_held_view_with_another_of_the_same_digit():
    """Each digit's held views form one cycle: every held view is decoded from another held view
    and every held view encodes once; a digit's only view, and views not held, get no pair."""
    n_contexts, n_digits = 20, 500
    gen = torch.Generator().manual_seed(0)
    seen = view_choice(n_digits, n_contexts, 3, seed=0).T.float()
    seen[:, 0] = 0
    seen[5, 0] = 1  # digit 0: one view only
    source = held_view_sources(seen, torch.rand(n_contexts, n_digits, generator=gen))
    _, pairs = cross_pairs(torch.zeros(n_contexts, n_digits, 1), source, seen)
    assert pairs[:, 0].sum() == 0
    torch.testing.assert_close(pairs[:, 1:], seen[:, 1:])  # every held view of a digit with 3 has a partner
    for b in range(1, n_digits):
        held = set(torch.nonzero(seen[:, b]).flatten().tolist())
        cycle = {c: int(source[c, b]) for c in held}
        assert set(cycle.values()) == held and all(s != c for c, s in cycle.items())
    # one derangement for the batch pairs almost none of them: what the per-digit cycle is for
    _, global_pairs = cross_pairs(torch.zeros(n_contexts, n_digits, 1), random_derangement(n_contexts, gen), seen)
    assert global_pairs.sum() < 0.3 * pairs.sum()


def test_per_digit_sources_decode_the_chosen_latents():
    z = torch.arange(C * B, dtype=torch.float64).reshape(C, B, 1)
    source = torch.randint(C, (C, B), generator=torch.Generator().manual_seed(2))
    latents, pairs = cross_pairs(z, source, None)
    for c in range(C):
        for b in range(B):
            assert latents[c, b, 0] == z[source[c, b], b, 0]
            assert pairs[c, b] == (source[c, b] != c)


def test_one_view_per_digit_leaves_cross_training_nothing():
    """With k=1 no digit has a second view: the cross loss (input and target both held) is zero."""
    x = torch.rand(C, B, D, dtype=torch.float64)
    seen = view_choice(B, C, 1, seed=0).T.double()
    torch.manual_seed(0)
    ae = AutoencoderSet(C, D, H, L).double()
    weight = loss_weights(torch.ones(C, 2, 5, dtype=torch.float64))
    cross = step_losses(ae, x, weight, "cross", random_derangement(C, torch.Generator().manual_seed(0)), seen)["cross"]
    assert cross.item() == 0.0
    assert step_losses(ae, x, weight, "self", torch.arange(C), seen)["self"].item() > 0


def test_cross_steps_zero_is_self_training_only():
    assert {step_kind(s, "alternate", 1, 0) for s in range(50)} == {"self"}
    assert [step_kind(s, "alternate", 1, 1) for s in range(4)] == ["self", "cross", "self", "cross"]


def test_views_per_digit_is_checked_with_the_config():
    import pytest

    from helpers.stages import compose
    from sla_cli.errors import ConfigError

    assert compose("train", "dataset_dir=x", "train.views_per_digit=3").train.views_per_digit == 3
    assert compose("train", "dataset_dir=x").train.views_per_digit is None
    with pytest.raises(ConfigError, match="train.views_per_digit"):
        compose("train", "dataset_dir=x", "train.views_per_digit=0")
    with pytest.raises(ConfigError, match="views_per_digit=1 leaves cross-training nothing"):
        compose("train", "dataset_dir=x", "train.views_per_digit=1")
    assert compose("train", "dataset_dir=x", "train.views_per_digit=1", "train.cross_steps=0")
