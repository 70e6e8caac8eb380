"""One seed's numbers: accuracies of the three scorings and the MLP, anomaly AUROCs, attacks."""

from __future__ import annotations

import torch

from sla_cli.classify import adversarial, ood
from sla_cli.classify.data import Mnist
from sla_cli.classify.mlp import Mlp, mlp_logits
from sla_cli.classify.metrics import accuracy, confusion
from sla_cli.classify.scoring import SCORINGS, SetScorer
from sla_cli.runtime import progress


def classification(scorer: SetScorer, mlp: Mlp, data: Mnist, batch: int) -> tuple[dict, dict]:
    """(numbers, arrays for figures)."""
    val_f = scorer.all_features(data.val.x, batch)
    test_f = scorer.all_features(data.test.x, batch)
    out, arrays = {"ae_set": {}}, {"test_features": test_f, "logits": {}}
    for s in SCORINGS:
        logits = SetScorer.logits_from_features(test_f, s, scorer.calibration)
        val_logits = SetScorer.logits_from_features(val_f, s, scorer.calibration)
        out["ae_set"][s] = {"accuracy": accuracy(logits, data.test.y), "val_accuracy": accuracy(val_logits, data.val.y)}
        arrays["logits"][s] = logits
    out["ae_set"]["calibrated"]["fell_back_to_recon"] = scorer.calibration.fell_back
    out["ae_set"]["full"]["sigma_per_class"] = [round(float(v), 5) for v in scorer.sigma]
    m_logits = mlp_logits(mlp, data.test.x)
    out["mlp"] = {"accuracy": accuracy(m_logits, data.test.y), "val_accuracy": accuracy(mlp_logits(mlp, data.val.x), data.val.y)}
    arrays["logits"]["mlp"] = m_logits
    arrays["confusion"] = {k: confusion(v, data.test.y, scorer.n_classes) for k, v in arrays["logits"].items()}
    return out, arrays


def anomalies(scorer: SetScorer, mlp: Mlp, data: Mnist, test_logits: dict, n: int, seed: int, batch: int) -> dict:
    """AUROC of 'is a digit' from the set's best class score (each scoring) and the MLP's max softmax."""
    sets = ood.anomalies(data.test.x, n, seed)
    in_set = {s: test_logits[s].max(1).values.cpu() for s in SCORINGS}
    in_mlp = test_logits["mlp"].softmax(1).max(1).values.cpu()
    result = {"n_in": len(data.test), "n_per_kind": n, "ae_set": {s: {} for s in SCORINGS}, "mlp": {}}
    for kind, x in sets.items():
        feats = scorer.all_features(x, batch)
        for s in SCORINGS:
            out = SetScorer.logits_from_features(feats, s, scorer.calibration).max(1).values.cpu()
            result["ae_set"][s][kind] = ood.auroc(in_set[s], out)
        result["mlp"][kind] = ood.auroc(in_mlp, mlp_logits(mlp, x).softmax(1).max(1).values.cpu())
    return result


def attacks(scorer: SetScorer, mlp: Mlp, data: Mnist, cfg_adv, seed: int) -> dict:
    n, batch, steps = cfg_adv.n, cfg_adv.batch, cfg_adv.pgd_steps
    x, y = data.test.x[:n], data.test.y[:n]
    gen = torch.Generator().manual_seed(seed)
    targets = {"mlp": mlp}
    targets.update({s: (lambda s: (lambda v: scorer.logits(v, s)))(s) for s in cfg_adv.scorings})
    eps_list = [float(e) for e in cfg_adv.eps]
    result = {"n": len(y), "pgd_steps": steps, "eps": eps_list, "loss": "margin (best wrong - true logit)"}
    mlp_pgd = {}
    with progress() as bar:
        task = bar.add_task(f"seed {seed} attacks", total=len(targets) * len(eps_list), info="")
        for name, fn in targets.items():
            clean = adversarial.correct(fn, x, y, batch)
            r = {"clean": float(clean.float().mean()), "fgsm": {}, "pgd": {}, "worst_case": {},
                 "gradient": adversarial.gradient_stats(fn, x, y, batch)}
            for eps in eps_list:
                bar.update(task, info=f"{name} eps={eps}")
                adv_f = adversarial.batched(lambda a, b: adversarial.fgsm(fn, a, b, eps), x, y, batch)
                adv_p = adversarial.batched(lambda a, b: adversarial.pgd(fn, a, b, eps, steps, gen), x, y, batch)
                ok_f, ok_p = adversarial.correct(fn, adv_f, y, batch), adversarial.correct(fn, adv_p, y, batch)
                r["fgsm"][str(eps)], r["pgd"][str(eps)] = float(ok_f.float().mean()), float(ok_p.float().mean())
                survived = clean & ok_f & ok_p
                if name == "mlp":
                    mlp_pgd[eps] = adv_p
                else:  # black-box check: the MLP's adversarial examples, replayed on the set
                    ok_t = adversarial.correct(fn, mlp_pgd[eps], y, batch)
                    r.setdefault("transfer_from_mlp_pgd", {})[str(eps)] = float(ok_t.float().mean())
                    survived &= ok_t
                r["worst_case"][str(eps)] = float(survived.float().mean())
                bar.advance(task)
            if name != "mlp":
                r["gradient_masking_suspected"] = _masking(r)
            result["mlp" if name == "mlp" else f"ae_set_{name}"] = r
    return result


def _masking(r: dict) -> bool:
    """A scoring whose white-box attack does worse than a transfer attack, or whose gradient is
    zero or non-finite for many images, is hiding its gradient, not resisting."""
    g = r["gradient"]
    weaker_than_transfer = any(min(r["pgd"][e], r["fgsm"][e]) > r["transfer_from_mlp_pgd"][e] + 0.02 for e in r["pgd"])
    return bool(weaker_than_transfer or g["zero_gradient_fraction"] > 0.05 or not g["finite"])
