"""The two trained one-shot baselines of `sla train` (train.variant), unit by unit: the shared
autoencoder is one member of the set's shape serving every context, the contrastive encoders have no
decoder, InfoNCE is what it says on a case computed by hand, and bad combinations are one line."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from helpers.stages import compose
from sla_cli.errors import ConfigError, DataError
from sla_cli.models.ae_set import AutoencoderSet
from sla_cli.models.encoder_set import EncoderSet
from sla_cli.models.shared_ae import SharedAutoencoder
from sla_cli.models.variants import from_config, new_model
from sla_cli.train import variants
from sla_cli.train.contrastive import info_nce
from sla_cli.train.loop import held_view_sources, loss_weights, step_losses
from sla_cli.train.resume import identity_cfg, resume_key

C, B, D, H, L = 3, 5, 12, 7, 4


def _copies_of(shared: SharedAutoencoder) -> AutoencoderSet:
    """A set of C members, each a copy of the shared autoencoder's one member."""
    ae_set = AutoencoderSet(C, D, H, L, shared.tied)
    with torch.no_grad():
        for name, p in ae_set.named_parameters():
            p.copy_(getattr(shared, name).expand_as(p))
    return ae_set


@pytest.mark.parametrize("tied", [True, False])
def test_shared_autoencoder_is_one_member_serving_every_context(tied):
    torch.manual_seed(0)
    shared = SharedAutoencoder(C, D, H, L, tied)
    ae_set = _copies_of(shared)
    assert shared.n_members == C and shared.enc1_w.shape[0] == 1  # serves C contexts with one member's weights
    assert sum(p.numel() for p in ae_set.parameters()) == C * sum(p.numel() for p in shared.parameters())
    x = torch.rand(C, B, D)
    assert torch.allclose(shared.encode(x), ae_set.encode(x), atol=1e-6)
    assert torch.allclose(shared(x), ae_set(x), atol=1e-6)
    members = torch.tensor([2, 0])  # the members asked for do not matter: there is one
    assert torch.allclose(shared.encode(x[:2], members), ae_set.encode(x[:2], members), atol=1e-6)


def test_shared_autoencoders_step_is_the_sets_self_loss_over_every_contexts_images():
    """Its gradient is the sum of the gradients the C copies would get from the set's self loss: every
    context's images, each weighted by its own context's mask, train the one member."""
    torch.manual_seed(1)
    shared = SharedAutoencoder(C, D, H, L)
    ae_set = _copies_of(shared)
    x, masks = torch.rand(C, B, D), (torch.rand(C, 1, D) > 0.4).float()
    weight = loss_weights(masks)
    perm = torch.tensor([1, 2, 0])
    for model in (shared, ae_set):
        step_losses(model, x, weight, "self", perm)["self"].backward()
    for name, p in shared.named_parameters():
        assert torch.allclose(p.grad[0], getattr(ae_set, name).grad.sum(0), atol=1e-6), name


def test_encoder_set_has_no_decoder_and_refuses_to_decode():
    enc = EncoderSet(C, D, H, L)
    assert sorted(enc.state_dict()) == ["enc1_b", "enc1_w", "enc2_b", "enc2_w"]
    z = enc.encode(torch.rand(C, B, D))
    assert z.shape == (C, B, L)
    for decode in (lambda: enc.decode(z), lambda: enc(torch.rand(C, B, D)), enc.decoder_weights):
        with pytest.raises(DataError, match="encoders only") as err:
            decode()
        assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "variant, kind", [("set", AutoencoderSet), ("shared_ae", SharedAutoencoder), ("contrastive", EncoderSet)]
)
def test_a_saved_config_rebuilds_the_same_variant(variant, kind):
    model = new_model(variant, C, D, H, L, True, False)
    again = from_config(model.config())
    assert type(model) is type(again) is kind and again.n_members == C
    again.load_state_dict(model.state_dict())  # the same parameters, by name and shape
    assert ("variant" in model.config()) == (variant != "set")  # the set's config is what it always was


def test_an_unknown_variant_in_a_model_file_is_one_line():
    with pytest.raises(DataError, match="unknown model variant 'vae'"):
        from_config({"variant": "vae", "n_members": 2, "dim": 4, "hidden": 3, "latent": 2})
    with pytest.raises(DataError, match="does not fit"):
        from_config({"variant": "contrastive", "n_members": 2, "dim": 4, "hidden": 3, "latent": 2, "tied": True})


def _by_hand(z: torch.Tensor, perm: list[int], temperature: float) -> float:
    """Symmetric InfoNCE written out: per context, per digit, both directions, then the mean."""
    total, count = 0.0, 0
    for c in range(z.shape[0]):
        a, p = F.normalize(z[c], dim=-1), F.normalize(z[perm[c]], dim=-1)
        for b in range(z.shape[1]):
            to_partners = torch.stack([a[b] @ p[d] for d in range(z.shape[1])]) / temperature
            to_anchors = torch.stack([p[b] @ a[d] for d in range(z.shape[1])]) / temperature
            total += float(-(torch.log_softmax(to_partners, 0)[b] + torch.log_softmax(to_anchors, 0)[b]) / 2)
            count += 1
    return total / count


def test_info_nce_matches_the_loss_written_out():
    torch.manual_seed(2)
    z = torch.randn(C, B, L)
    assert info_nce(z, torch.tensor([2, 0, 1]), None, 0.3) == pytest.approx(_by_hand(z, [2, 0, 1], 0.3), rel=1e-5)


def test_info_nce_is_near_zero_for_aligned_codes_and_near_chance_for_random_ones():
    aligned = torch.eye(B, L + B)[None].expand(C, -1, -1) * torch.tensor([1.0, 2.0, 0.5])[:, None, None]
    perm = torch.tensor([1, 2, 0])
    assert float(info_nce(aligned, perm, None, 0.1)) < 1e-3  # each digit's code the same in every context
    torch.manual_seed(3)
    random = float(info_nce(torch.randn(C, 256, 16), perm, None, 1.0))
    assert abs(random - math.log(256)) < 0.1 * math.log(256)  # chance: log(batch)


def test_info_nce_uses_only_held_views():
    """Under train.views_per_digit the pairs are held_view_sources' (the set's cross pairs); a view the
    training set does not hold gets no gradient, as in the set's cross loss."""
    torch.manual_seed(4)
    seen = torch.tensor([[1, 1, 0, 1, 1], [1, 0, 1, 1, 0], [0, 1, 1, 0, 1]], dtype=torch.float)  # [C, B]
    perm = held_view_sources(seen, torch.rand(C, B))
    z = torch.randn(C, B, L, requires_grad=True)
    loss = info_nce(z, perm, seen, 0.2)
    loss.backward()
    held = z.grad.abs().sum(-1) > 0
    assert torch.equal(held, seen > 0)
    assert torch.isfinite(loss)
    # a loss with no pair to count is 0, not NaN
    assert float(info_nce(z.detach(), perm, torch.eye(C, B), 0.2)) == 0.0


def test_budget_is_the_sets_steps_digits_and_optimizer_with_each_ones_flops():
    from types import SimpleNamespace

    cfg = compose("train", "preset=smoke", "dataset_dir=x")
    data = SimpleNamespace(n_contexts=C, dim=D)
    out = {
        v: variants.budget(v, cfg, data, new_model(v, C, D, cfg.model.hidden, cfg.model.latent, True, False))
        for v in variants.LOSSES
    }
    same = ("steps", "digits_per_step", "images_per_step", "optimizer")
    assert len({tuple(b[k] for k in same) for b in out.values()}) == 1
    assert out["set"]["flops_per_step"] == out["shared_ae"]["flops_per_step"]  # C x B images, encoded and decoded
    assert out["contrastive"]["flops_per_step"] < out["set"]["flops_per_step"]  # no decoder
    assert out["set"]["parameters"] == C * out["shared_ae"]["parameters"]
    assert out["set"]["train_flops"] == out["set"]["flops_per_step"] * cfg.train.steps


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["train.variant=vae"], "train.variant='vae' must be one of set, shared_ae, contrastive"),
        (["train.variant=contrastive", "train.temperature=0"], "train.temperature=0 must be > 0"),
        (["train.variant=contrastive", "model.learn_sigma=true"], "model.learn_sigma=true concerns a decoder"),
        (["train.variant=contrastive", "model.tied=false"], "model.tied=false concerns a decoder"),
        (["train.variant=contrastive", "train.views_per_digit=1"], "leaves train.variant=contrastive no pairs"),
        (
            ["train.variant=shared_ae", "model.learn_sigma=true"],
            "train.variant=shared_ae takes model.learn_sigma=false",
        ),
        (["train.variant=shared_ae", "train.schedule=mixed"], "train.schedule=mixed is the set's"),
        (["train.variant=contrastive", "train.cross_steps=0"], "train.cross_steps=0 is the set's"),
    ],
)
def test_bad_variant_combinations_are_one_line(overrides, message):
    with pytest.raises(ConfigError) as err:
        compose("train", "preset=smoke", "dataset_dir=x", *overrides)
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    "overrides",
    [
        ["train.variant=shared_ae", "train.views_per_digit=1"],
        ["train.variant=contrastive", "train.views_per_digit=2"],
        ["train.variant=set", "model.learn_sigma=true"],
    ],
)
def test_good_variant_combinations_compose(overrides):
    compose("train", "preset=smoke", "dataset_dir=x", *overrides)


def test_a_set_runs_identity_leaves_out_the_other_variants_keys():
    """So a set folder written before variants existed is still the same run (skipped, or resumed)."""
    base = compose("train", "preset=smoke", "dataset_dir=x")
    assert "variant" not in identity_cfg(base).train and "temperature" not in identity_cfg(base).train
    assert set(resume_key(base)["train"]) == {
        "batch_size",
        "lr",
        "schedule",
        "self_steps",
        "cross_steps",
        "cross_weight",
        "device_data_mb",
        "views_per_digit",
    }
    contrastive = compose("train", "preset=smoke", "dataset_dir=x", "train.variant=contrastive")
    assert identity_cfg(contrastive).train.temperature == 0.1 and "schedule" not in identity_cfg(contrastive).train
    assert resume_key(contrastive)["train"]["variant"] == "contrastive"
    shared = compose("train", "preset=smoke", "dataset_dir=x", "train.variant=shared_ae")
    assert "temperature" not in identity_cfg(shared).train and identity_cfg(shared).train.variant == "shared_ae"
