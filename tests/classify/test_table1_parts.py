"""Table 1's new parts on small numbers: seeds without a spread, the low-data subset, calibration
metrics, the class prior, the parameter-matched MLP, the recipe grid and its validation choice."""

import math

import pytest
import torch

from sla_cli.classify import recipe as recipes
from sla_cli.classify import report
from sla_cli.classify.class_autoencoders import class_reconstruction_loss
from sla_cli.classify.data import Split, per_class_subset
from sla_cli.classify.metrics import expected_calibration_error, log_prior, nll
from sla_cli.classify.mlp import Mlp, matched_width, mlp_parameters, parameter_count
from sla_cli.classify.scoring import Col, SetScorer
from sla_cli.classify.train_models import set_parameter_count, train_seed
from sla_cli.commands import BY_NAME
from sla_cli.errors import ConfigError
from sla_cli.hydra_app import compose_config
from sla_cli.models.ae_set import AutoencoderSet


def labelled(counts: list[int], dim: int = 6, seed: int = 0) -> Split:
    """A split with ``counts[c]`` images of class c, each image's pixels all equal to its index (so an
    image is identified by its values)."""
    y = torch.cat([torch.full((n,), c) for c, n in enumerate(counts)])
    y = y[torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))]
    x = torch.arange(len(y), dtype=torch.float32)[:, None].expand(-1, dim).contiguous()
    return Split(x, y)


def test_train_per_class_same_seed_same_images_other_seed_others():
    train = labelled([30, 25, 40])
    a, b = per_class_subset(train, 10, 3, seed=4), per_class_subset(train, 10, 3, seed=4)
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert torch.bincount(a.y).tolist() == [10, 10, 10]
    picked = a.x[:, 0].long()  # which training images were kept
    assert torch.equal(train.y[picked], a.y) and len(set(picked.tolist())) == 30  # labels kept, no repeats
    assert not torch.equal(a.x, per_class_subset(train, 10, 3, seed=5).x)
    whole = per_class_subset(train, 25, 3, seed=0)  # N = the smallest class: all of that class
    assert sorted(whole.x[whole.y == 1, 0].tolist()) == sorted(train.x[train.y == 1, 0].tolist())


def test_train_per_class_beyond_the_smallest_class_is_a_one_line_config_error():
    with pytest.raises(ConfigError, match=r"train_per_class=26 .*smallest class holds \(25 images of class 1") as e:
        per_class_subset(labelled([30, 25, 40]), 26, 3, seed=0)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize(
    "override, fragment",
    [
        ("classify.train_per_class=0", "classify.train_per_class"),
        ("classify.train_per_class=-3", "classify.train_per_class"),
        ("classify.tune.dropout=[1.0]", "classify.tune.dropout"),
        ("classify.tune.epochs=[]", "classify.tune.epochs"),
        ("classify.tune.weight_decay=[-0.1]", "classify.tune.weight_decay"),
        ("classify.mlp_matched.layers=0", "classify.mlp_matched.layers"),
        ("classify.train.min_steps=-1", "classify.train.min_steps"),
        ("classify.stats.bootstrap=5", "classify.stats.bootstrap"),
    ],
)
def test_new_keys_refuse_bad_values_in_one_line(override, fragment):
    with pytest.raises(ConfigError, match=fragment.replace(".", r"\.")) as err:
        compose_config(BY_NAME["classify"], ["preset=smoke", override])
    assert "\n" not in str(err.value)


def test_one_seed_has_no_std_and_lists_combine_per_element():
    tree = {"acc": 0.9, "n": 3, "flag": True, "sigma_per_class": [0.1, 0.2], "name": "x", "adv": None}
    std = report.combine([tree], "std")
    assert std == {"acc": None, "n": None, "flag": None, "sigma_per_class": None, "name": None, "adv": None}
    other = {**tree, "acc": 0.7, "sigma_per_class": [0.3, 0.2], "flag": False}
    two = report.combine([tree, other], "std")
    assert two["acc"] == pytest.approx(0.02**0.5) and two["n"] == 0
    assert two["sigma_per_class"] == [pytest.approx(0.02**0.5), 0.0]  # not the values themselves
    mean = report.combine([tree, other], "mean")
    assert mean["sigma_per_class"] == [pytest.approx(0.2), pytest.approx(0.2)] and mean["flag"] is True


def test_ece_and_nll_by_hand():
    # two images at confidence 3/4 (one right, one wrong): bin gap |1/2 - 3/4| = 1/4, weight 2/4;
    # two at confidence 1/2 (ties: argmax takes class 0, both right): gap 1/2, weight 2/4 -> ECE 3/8.
    # NLL: (-log 3/4 - log 1/4 - 2 log 1/2) / 4
    logits = torch.tensor([[0.0, math.log(3)], [0.0, math.log(3)], [0.0, 0.0], [0.0, 0.0]])
    y = torch.tensor([1, 0, 0, 0])
    assert expected_calibration_error(logits, y) == pytest.approx(0.375)
    assert nll(logits, y) == pytest.approx(-(math.log(0.75) + math.log(0.25) + 2 * math.log(0.5)) / 4)
    sure = torch.tensor([[9.0, -9.0], [-9.0, 9.0]])
    assert expected_calibration_error(sure, torch.tensor([0, 1])) < 1e-6  # confident and right: calibrated


def test_log_prior_goes_into_the_likelihood_scorings_only():
    prior = log_prior(torch.tensor([0, 0, 0, 1]), 2)
    assert prior.exp().tolist() == pytest.approx([0.75, 0.25])
    f = torch.zeros(3, 2, 6)  # equal likelihoods: only the prior can decide
    assert SetScorer.logits_from_features(f, "full", None, prior).argmax(1).tolist() == [0, 0, 0]
    torch.testing.assert_close(SetScorer.logits_from_features(f, "full", None, prior)[0], prior)
    torch.testing.assert_close(SetScorer.logits_from_features(f, "recon", None, prior), f[..., Col.NEG_SQERR])
    with pytest.raises(ValueError, match="no training image"):
        log_prior(torch.tensor([0, 0]), 2)


def test_matched_width_gives_about_the_sets_parameter_count():
    cfg = compose_config(BY_NAME["classify"], ["preset=demo"])
    target = set_parameter_count(cfg.classify)
    assert target == 10 * (784 * 512 + 512 + 512 * 16 + 16 + 512 + 784)  # tied: biases of both halves
    h = matched_width(target, 784, 10, 2)
    assert h == 1669 and abs(mlp_parameters(784, h, 10, 2) - target) / target < 1e-3
    assert mlp_parameters(784, h, 10, 2) == parameter_count(Mlp(784, h, 10, layers=2))
    assert mlp_parameters(784, 512, 10, 1) == parameter_count(Mlp(784, 512, 10)) == 407_050
    wide = matched_width(target, 784, 10, 1)
    assert abs(mlp_parameters(784, wide, 10, 1) - target) <= mlp_parameters(784, 1, 10, 1)


def test_l2_penalty_is_adams_weight_decay():
    torch.manual_seed(0)
    a, b = torch.nn.Linear(4, 3), torch.nn.Linear(4, 3)
    b.load_state_dict(a.state_dict())
    x, r = torch.randn(5, 4), recipes.Recipe(epochs=1, weight_decay=0.3)
    opt_a, opt_b = torch.optim.Adam(a.parameters(), lr=0.1), torch.optim.Adam(b.parameters(), lr=0.1, weight_decay=0.3)
    for _ in range(3):
        for model, opt, extra in ((a, opt_a, r.l2_penalty), (b, opt_b, lambda m: 0.0)):
            opt.zero_grad()
            (model(x).square().mean() + extra(model)).backward()
            opt.step()
    torch.testing.assert_close(a.weight, b.weight)
    assert recipes.Recipe(epochs=1).l2_penalty(a) == 0.0


def test_recipe_grid_and_min_steps():
    cfg = compose_config(BY_NAME["classify"], ["preset=demo"]).classify
    assert recipes.grid(cfg) == [recipes.Recipe(8, 0.0, 0.0, 1000)]  # off: the plain recipe
    cfg.tune.enabled = True
    grid = recipes.grid(cfg)
    assert len(grid) == 8 and grid[0] == recipes.Recipe(8, 0.0, 0.0, 1000) and grid[-1].epochs == 16
    assert recipes.Recipe(8, min_steps=1000).epochs_for(172) == 8  # demo's full data: unchanged
    assert recipes.Recipe(8, min_steps=1000).epochs_for(1) == 1000  # 10 images per class, one step an epoch
    assert recipes.Recipe(8, min_steps=1000).epochs_for(3) == 334


def test_masking_noise_drops_inputs_never_targets():
    torch.manual_seed(0)
    model = AutoencoderSet(2, 16, 8, 3)
    x = torch.rand(2, 5, 16)
    clean = class_reconstruction_loss(model, x, "mse")
    assert class_reconstruction_loss(model, x, "mse", mask=0.0) == clean
    torch.manual_seed(1)
    noisy = class_reconstruction_loss(model, x, "mse", mask=0.5)
    assert noisy != clean
    # all pixels dropped: the code of an empty image, scored against the clean targets
    blank = ((model.decode(model.encode(torch.zeros_like(x))) - x) ** 2).sum(-1).mean(-1).sum()
    torch.testing.assert_close(class_reconstruction_loss(model, x, "mse", mask=1.0), blank)


def test_validation_grid_keeps_each_models_best_and_never_sees_test():
    cfg = compose_config(
        BY_NAME["classify"],
        [
            "preset=smoke",
            "classify.tune.enabled=true",
            "classify.tune.epochs=[1,3]",
            "classify.tune.dropout=[0.0]",
            "classify.tune.weight_decay=[0.0]",
            "classify.autoencoder.hidden=8",
            "classify.mlp.hidden=8",
            "classify.autoencoder.latent=2",
        ],
    ).classify
    g = torch.Generator().manual_seed(0)
    y = torch.arange(200) % 10
    stripe = (torch.arange(784)[None] // 79 == y[:, None]).float()  # class c lights pixel band c
    x = torch.rand(200, 784, generator=g) * 0.3 + stripe * 0.7
    train, val = Split(x[:150], y[:150]), Split(x[150:], y[150:])
    models = train_seed(cfg, 0, train, val, torch.device("cpu"))
    for kind, t in models.tuning.items():
        assert [r["epochs"] for r in t["tried"]] == [1, 3]
        best = max(t["tried"], key=lambda r: r["val_accuracy"])
        assert t["val_accuracy"] == best["val_accuracy"] and t["chosen"]["epochs"] == best["epochs"], kind
    assert models.mlp_matched.layers == 2 and models.mlp_matched.hidden == matched_width(
        set_parameter_count(cfg), 784, 10, 2
    )


def test_a_checkpoint_without_the_matched_mlp_is_a_one_line_data_error(tmp_path):
    """Weights saved before the parameter-matched MLP existed cannot be evaluated as if they had it."""
    from sla_cli.classify import weights
    from sla_cli.errors import DataError

    cfg = compose_config(BY_NAME["classify"], ["preset=smoke"])
    configs = weights.expected_configs(cfg)
    ae, mlp = AutoencoderSet(**configs["ae_set"]), Mlp(784, 64, 10)
    weights.save(tmp_path / "old.pt", {"ae_set": ae, "mlp": mlp}, seed=0)
    with pytest.raises(DataError, match="holds no mlp_matched") as e:
        weights.load_file(tmp_path / "old.pt", configs, torch.device("cpu"))
    assert "\n" not in str(e.value)
    matched = Mlp(784, configs["mlp_matched"]["hidden"], 10, layers=2)
    weights.save(tmp_path / "new.pt", {"ae_set": ae, "mlp": mlp, "mlp_matched": matched}, seed=0)
    loaded = weights.load_file(tmp_path / "new.pt", configs, torch.device("cpu"))
    torch.testing.assert_close(loaded["mlp_matched"].layer3.weight, matched.layer3.weight)


def test_the_grid_cannot_be_asked_of_saved_weights():
    with pytest.raises(ConfigError, match="weights_from"):
        compose_config(BY_NAME["classify"], ["preset=smoke", "classify.tune.enabled=true", "classify.weights_from=/x"])


def test_a_trained_mlp_with_dropout_predicts_deterministically():
    """Dropout trains, then is off: the validation and test logits cannot depend on random draws."""
    g = torch.Generator().manual_seed(0)
    train = Split(torch.rand(64, 784, generator=g), torch.arange(64) % 10)
    from sla_cli.classify.mlp import mlp_logits, train_mlp

    model = train_mlp(train, 10, 16, recipes.Recipe(1, dropout=0.5), 32, 0.01, torch.device("cpu"), 0, "t")
    assert not model.training
    torch.testing.assert_close(mlp_logits(model, train.x), mlp_logits(model, train.x))
