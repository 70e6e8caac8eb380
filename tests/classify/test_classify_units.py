"""The classifier's parts on synthetic numbers: AUROC, calibration, attacks, seed statistics."""

import itertools

import numpy as np
import pytest
import torch

from helpers.toy_models import linear_classifier
from sla_cli.classify import adversarial, calibrate, report
from sla_cli.classify.ood import auroc


def brute_auroc(pos, neg):
    pairs = list(itertools.product(pos, neg))
    return sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in pairs) / len(pairs)


def test_auroc_known_values():
    assert auroc([3, 4, 5], [0, 1, 2]) == 1.0
    assert auroc([0, 1, 2], [3, 4, 5]) == 0.0
    assert auroc([1, 1], [1, 1, 1]) == 0.5
    assert auroc([2, 0], [1]) == 0.5
    with pytest.raises(ValueError):
        auroc([], [1.0])


def test_auroc_matches_pairwise_count_with_ties():
    rng = np.random.default_rng(0)
    for _ in range(5):
        pos, neg = rng.integers(0, 6, 40), rng.integers(0, 5, 30)  # many ties
        assert auroc(pos, neg) == pytest.approx(brute_auroc(pos, neg))


def synthetic_features(n=600, seed=0):
    """Features [N, C, 3] where the recon column is informative, the others partly so and biased per class."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 10, (n,), generator=g)
    onehot = torch.nn.functional.one_hot(y, 10).float()
    recon = -torch.rand(n, 10, generator=g) * 30 + 8 * onehot
    log_pz = torch.randn(n, 10, generator=g) * 5 + 6 * onehot + torch.arange(10.0)
    logdet = torch.randn(n, 10, generator=g) * 2 - torch.arange(10.0) * 3
    return torch.stack([recon, log_pz, logdet], -1), y


def recon_accuracy(f, y):
    return float((f[..., 0].argmax(1) == y).float().mean())


@pytest.mark.parametrize("seed", [0, pytest.param(1, marks=pytest.mark.slow), pytest.param(2, marks=pytest.mark.slow)])
def test_calibrated_never_worse_than_recon_on_validation(seed):
    f, y = synthetic_features(seed=seed)
    cal = calibrate.fit_calibration(f, y, steps=50)
    acc = float((cal.apply(f).argmax(1) == y).float().mean())
    assert acc >= recon_accuracy(f, y)
    assert cal.val_accuracy == pytest.approx(acc) and cal.val_accuracy_recon == pytest.approx(recon_accuracy(f, y))
    assert not cal.fell_back and acc > recon_accuracy(f, y)  # the extra terms carry signal here: it must use them


def test_calibration_falls_back_to_recon_when_fitting_cannot_help():
    f, y = synthetic_features(seed=5)
    cal = calibrate.fit_calibration(f, y, steps=0)  # no fitting: the recon-equivalent weights must remain
    assert torch.equal(cal.apply(f).argmax(1), f[..., 0].argmax(1))
    noisy = f.clone()
    noisy[..., 1:] = torch.randn_like(noisy[..., 1:]) * 1e3  # huge, useless extra terms
    cal = calibrate.fit_calibration(noisy, y, steps=30)
    assert float((cal.apply(noisy).argmax(1) == y).float().mean()) >= recon_accuracy(noisy, y)


def test_margin_loss_and_attacks_on_a_linear_model():
    fn, x, y = linear_classifier(n_classes=3, n_inputs=64)
    assert (adversarial.margin_loss(fn(x), y) < 0).all()  # all correct: best wrong logit below the true one
    stats = adversarial.gradient_stats(fn, x, y, batch=16)
    assert stats["zero_gradient_fraction"] == 0 and stats["finite"]
    gen = torch.Generator().manual_seed(0)
    for eps in (0.05, 0.3):
        adv = adversarial.pgd(fn, x, y, eps, 10, gen)
        assert (adv - x).abs().max() <= eps + 1e-6 and adv.min() >= 0 and adv.max() <= 1
        assert (
            adversarial.accuracy(fn, adv, y, 16)
            <= adversarial.accuracy(fn, adversarial.fgsm(fn, x, y, eps), y, 16) + 0.05
        )
    assert adversarial.accuracy(fn, adversarial.pgd(fn, x, y, 0.3, 10, gen), y, 16) < 0.9


def test_gradient_stats_flag_a_flat_scoring():
    def fn(x):
        return torch.round(x @ torch.ones(20, 3))  # piecewise constant: hides its gradient

    x = torch.rand(8, 20)
    assert adversarial.gradient_stats(fn, x, torch.zeros(8, dtype=torch.long), 8)["zero_gradient_fraction"] == 1.0


def test_combine_seeds():
    trees = [
        {"a": 0.5, "n": 3, "f": False, "s": "x", "d": {"b": 1.0}},
        {"a": 0.7, "n": 3, "f": True, "s": "x", "d": {"b": 3.0}},
    ]
    mean, std = report.combine(trees, "mean"), report.combine(trees, "std")
    assert mean == {"a": pytest.approx(0.6), "n": 3, "f": True, "s": "x", "d": {"b": 2.0}}
    assert std["a"] == pytest.approx(0.02**0.5) and std["d"]["b"] == pytest.approx(2**0.5) and std["n"] == 0


def test_loglik_histograms_survive_a_class_absent_from_the_test_set():
    """A small test subset can miss a class, or give one class a single value: no 0/0 density, no warning."""
    import warnings

    from sla_cli.classify.figures import loglik_hist_figure

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 60)
    labels[labels == 3] = 4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = loglik_hist_figure(rng.normal(size=(60, 10)), labels)
        assert len(fig.axes[3].patches) > 0 and len(fig.axes[4].patches) > len(fig.axes[3].patches)
        loglik_hist_figure(np.ones((20, 10)), np.arange(20) % 10)
