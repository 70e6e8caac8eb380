"""PGD keeps each image's best iterate and only gains from restarts; the sanity checks flag what they should."""

from __future__ import annotations

import torch

from helpers.toy_models import linear_classifier
from sla_cli.classify import adversarial
from sla_cli.classify.evaluate import sanity_checks


def _recording(fn):
    seen = []

    def wrapped(x):
        seen.append(x.detach().clone())
        return fn(x)

    return wrapped, seen


def _wavy(x):
    """A landscape where fixed-size sign steps overshoot: the last PGD iterate is often not the best."""
    s = torch.sin(12 * x.sum(1, keepdim=True))
    return torch.cat([s, -s, 0.1 * x[:, :1]], 1)


def test_pgd_returns_each_images_best_iterate():
    x = torch.rand(32, 6)
    y = _wavy(x).argmax(1)
    fn, seen = _recording(_wavy)
    adv = adversarial.pgd(fn, x, y, 0.3, steps=6, gen=torch.Generator().manual_seed(0), restarts=2)
    with torch.no_grad():
        visited = torch.stack([adversarial.margin_loss(_wavy(v), y) for v in seen if v.shape == x.shape])  # [T, N]
        got = adversarial.margin_loss(_wavy(adv), y)
        last = visited[-1]
    torch.testing.assert_close(got, visited.max(0).values)
    assert (got > last + 1e-6).any()  # the test means something: the last iterate was worse for some images
    assert (adv - x).abs().max() <= 0.3 + 1e-6 and adv.min() >= 0 and adv.max() <= 1


def test_restarts_only_strengthen_the_attack():
    x = torch.rand(64, 6)
    y = _wavy(x).argmax(1)
    one = adversarial.pgd(_wavy, x, y, 0.2, 4, torch.Generator().manual_seed(1), restarts=1)
    four = adversarial.pgd(_wavy, x, y, 0.2, 4, torch.Generator().manual_seed(1), restarts=4)
    m1, m4 = adversarial.margin_loss(_wavy(one), y), adversarial.margin_loss(_wavy(four), y)
    assert (m4 >= m1 - 1e-6).all() and (m4 > m1 + 1e-6).any()


def test_eps_one_drives_a_linear_model_below_chance():
    fn, x, y = linear_classifier(n_classes=10, n_inputs=100)
    adv = adversarial.pgd(fn, x, y, 1.0, 5, torch.Generator().manual_seed(0))
    assert adversarial.accuracy(fn, adv, y, 50) <= 0.1


def _target(fgsm, pgd_alone, at_one):
    return {"fgsm": fgsm, "pgd_alone": pgd_alone, "pgd": pgd_alone, "accuracy_at_eps_1": at_one}


def test_sanity_checks_flag_a_weak_pgd_and_accuracy_above_chance():
    ok = {"mlp": _target({"0.1": 0.5}, {"0.1": 0.4}, 0.0), "ae_set_recon": _target({"0.1": 0.6}, {"0.1": 0.6}, 0.1)}
    checks = sanity_checks({"n": 10, **ok}, n_classes=10)
    assert not checks["pgd_weaker_than_fgsm"] and not checks["above_chance_at_eps_1"] and checks["failures"] == []
    weak = {**ok, "ae_set_full": _target({"0.1": 0.16}, {"0.1": 0.26}, 0.3)}
    checks = sanity_checks({"n": 10, **weak}, n_classes=10)
    assert checks["pgd_weaker_than_fgsm"] and checks["above_chance_at_eps_1"]
    assert checks["failures"] == ["ae_set_full: accuracy 0.300 at eps=1", "ae_set_full eps=0.1: PGD 0.260 > FGSM 0.160"]
