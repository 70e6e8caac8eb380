"""`sla classify` as a user runs it: a smoke run's outputs, and bad inputs as one-line errors."""

import gzip
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from helpers.cli import assert_one_line_error, run_sla
from sla_cli.commands import BY_NAME
from sla_cli.errors import ConfigError
from sla_cli.hydra_app import compose_config


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory, mnist_root):
    out = tmp_path_factory.mktemp("classify") / "run"
    result = run_sla("classify", "preset=smoke", f"run.out={out}", env={"SLA_DATA_ROOT": str(mnist_root)})
    assert result.returncode == 0, result.stderr[-3000:]
    return out, result


@pytest.mark.slow
def test_smoke_run_writes_everything_with_sane_values(smoke_run):
    out, result = smoke_run
    for name in (
        "results.json",
        "table.md",
        "confusion.png",
        "loglik_hist.png",
        "weights_seed0.pt",
        "config.yaml",
        "manifest.json",
    ):
        assert (out / name).stat().st_size > 0, name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "classify" and "weights_seed0.pt" in manifest["sha256"]
    r = json.loads((out / "results.json").read_text())
    assert r["seeds"] == [0] and r["device"] == "cpu" and r["training_loss"] == "mse (the paper's L2)"
    assert r["sigma_estimated_on"] == "val"
    accs = [r["ae_set"][s]["accuracy"] for s in ("recon", "full", "calibrated")]
    accs += [r["mlp"]["accuracy"], r["mlp_matched"]["accuracy"]]
    assert all(0.5 < a <= 1.0 for a in accs), accs  # chance is 0.1
    # one seed: no spread anywhere (it used to repeat sigma_per_class itself)
    assert r["std"]["ae_set"]["recon"]["accuracy"] is None and r["std"]["ae_set"]["full"]["sigma_per_class"] is None
    # the parameter-matched MLP: two hidden layers within 0.1% of the set's parameter count
    assert r["arch"]["mlp_matched_layers"] == 2
    assert abs(r["parameters"]["mlp_matched"] - r["parameters"]["ae_set"]) < 1e-3 * r["parameters"]["ae_set"]
    # paired comparisons: the set's accuracy minus the MLP's, inside its own bootstrap interval
    for s in ("recon", "full", "calibrated"):
        for m in ("mlp", "mlp_matched"):
            c = r["paired"]["comparisons"][f"{s}_vs_{m}"]
            assert c["difference"] == pytest.approx(r["ae_set"][s]["accuracy"] - r[m]["accuracy"], abs=1e-6)
            assert c["ci95_low"] <= c["difference"] <= c["ci95_high"] and 0 <= c["per_seed"][0]["mcnemar_p_exact"] <= 1
    # calibration: the calibrated scoring's probabilities beat the raw eq. (4) posterior on NLL
    for key in ("ece", "nll"):
        assert all(r[m][key] > 0 for m in ("mlp", "mlp_matched")) and key not in r["ae_set"]["recon"]
    assert r["ae_set"]["calibrated"]["nll"] < r["ae_set"]["full"]["nll"]
    assert len(r["log_prior"]) == 10 and r["class_prior"]["use"]["full"] == "+ log prior"
    assert r["tuning"]["enabled"] is False and r["tuning"]["per_seed"][0]["mlp_matched"]["chosen"]["epochs"] == 3
    ood = r["ood"]
    # section 4's claim: the set's likelihood tells digits from noise and inverted digits far better
    # than the MLP's maximum softmax (and than its max logit and energy)
    for kind in ("noise", "inverted"):
        assert ood["ae_set"]["full"][kind] > 0.8
        assert ood["ae_set"]["full"][kind] > max(ood["mlp"][d][kind] for d in ("max_softmax", "max_logit", "energy"))
    adv = r["adversarial"]
    assert adv["restarts"] == 2
    for key in ("mlp", "ae_set_recon", "ae_set_full", "ae_set_calibrated"):
        a = adv[key]
        assert a["pgd"]["0.2"] < a["clean"]  # the attack does something
        assert a["gradient"]["zero_gradient_fraction"] < 1.0 and a["gradient"]["finite"]
    # the sanity checks a reviewer expects: at eps = 1 accuracy falls to chance, and PGD is never
    # weaker than FGSM (both also stated in table.md)
    assert not adv["sanity"]["above_chance_at_eps_1"], adv["sanity"]["failures"]
    assert not adv["sanity"]["pgd_weaker_than_fgsm"], adv["sanity"]["failures"]
    assert r["train_seconds"]["ae_set"] > 0 and r["train_seconds"]["mlp"] > 0
    table = (out / "table.md").read_text()
    assert "loss **mse (the paper's L2)**" in table and "sigma estimated on the val split" in table
    assert "mean sigma by split: val" in table and "one seed: no std" in table and " ± " not in table.split("##")[0]
    assert "MLP 784-423-423-10 (about the set's parameters)" in table and "| verdict |" in table
    assert "calibrated" in result.stderr and "vs MLP 2x423" in result.stderr  # the final rich tables


@pytest.mark.slow
def test_learned_sigma_mse_and_extra_anomalies_end_to_end(mnist_root, tmp_path):
    """classify.autoencoder.learn_sigma=true adds the learned_sigma scoring; an extra anomaly folder gets its own
    AUROC rows."""
    folder = tmp_path / "my_noise"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(12):
        Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8)).save(folder / f"{i}.png")
    out = tmp_path / "run"
    result = run_sla(
        "classify",
        "preset=smoke",
        f"run.out={out}",
        "classify.autoencoder.learn_sigma=true",
        "classify.autoencoder.loss=mse",
        f"classify.ood.extra=[{folder}]",
        "classify.train.epochs=1",
        "classify.test_size=200",
        "classify.ood.n=20",
        "classify.adversarial.n=10",
        "classify.adversarial.eps=[0.1]",
        "classify.adversarial.scorings=[recon]",
        env={"SLA_DATA_ROOT": str(mnist_root)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    r = json.loads((out / "results.json").read_text())
    assert r["training_loss"].startswith("gaussian_nll") and r["ae_set"]["learned_sigma"]["accuracy"] > 0.3
    assert r["ood"]["n_per_kind"]["my_noise"] == 12
    # the folder holds uniform noise saved as PNG: every detector must rank it as it ranks the built-in noise
    for detectors in (r["ood"]["ae_set"], r["ood"]["mlp"]):
        for name, by_kind in detectors.items():
            assert by_kind["my_noise"] == pytest.approx(by_kind["noise"], abs=0.12), name
    assert "learned_sigma" in (out / "table.md").read_text()


@pytest.mark.slow
def test_bad_extra_anomaly_folder_is_one_line_error(tmp_path):
    result = run_sla(
        "classify", "preset=smoke", f"run.out={tmp_path / 'o'}", f"classify.ood.extra=[{tmp_path / 'nowhere'}]"
    )
    assert_one_line_error(result, "classify.ood.extra", "nowhere", code=1)
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_weights_load_with_weights_only(smoke_run):
    blob = torch.load(smoke_run[0] / "weights_seed0.pt", weights_only=True)
    assert blob["ae_set"]["config"]["hidden"] == 64 and blob["mlp"]["config"]["hidden"] == 64
    assert blob["mlp_matched"]["config"] == {"dim": 784, "hidden": 423, "n_classes": 10, "layers": 2}


@pytest.mark.slow
def test_rerun_into_the_same_folder_is_a_no_op(smoke_run, mnist_root):
    out, _ = smoke_run
    before = (out / "manifest.json").read_text()
    result = run_sla("classify", "preset=smoke", f"run.out={out}", env={"SLA_DATA_ROOT": str(mnist_root)})
    assert result.returncode == 0 and "nothing to do" in result.stderr
    assert (out / "manifest.json").read_text() == before


def _classify_from_saved(smoke_run, mnist_root, out, *extra):
    """`sla classify preset=smoke` into ``out`` with the smoke run's saved weights."""
    return run_sla(
        "classify",
        "preset=smoke",
        f"run.out={out}",
        f"classify.weights_from={smoke_run[0]}",
        *extra,
        env={"SLA_DATA_ROOT": str(mnist_root)},
    )


@pytest.mark.slow
def test_saved_weights_with_another_architecture_is_one_line_error(smoke_run, mnist_root, tmp_path):
    result = _classify_from_saved(smoke_run, mnist_root, tmp_path / "b", "classify.autoencoder.hidden=32")
    assert_one_line_error(result, "architecture differs", "hidden=64", "32", code=1)
    assert not (tmp_path / "b").exists()


@pytest.mark.slow
def test_saved_weights_reload_to_the_same_accuracies(smoke_run, mnist_root, tmp_path):
    result = _classify_from_saved(smoke_run, mnist_root, tmp_path / "b")
    assert result.returncode == 0, result.stderr[-2000:]
    old = json.loads((smoke_run[0] / "results.json").read_text())
    new = json.loads((tmp_path / "b" / "results.json").read_text())
    assert new["mlp"]["accuracy"] == old["mlp"]["accuracy"]
    assert new["mlp_matched"]["accuracy"] == old["mlp_matched"]["accuracy"]
    for s in ("recon", "full"):
        assert new["ae_set"][s]["accuracy"] == pytest.approx(old["ae_set"][s]["accuracy"], abs=1e-6)
    assert new["train_seconds"]["ae_set"] == 0 and not (tmp_path / "b" / "weights_seed0.pt").exists()


@pytest.mark.slow
def test_low_data_two_seeds_and_the_grid_end_to_end(mnist_root, tmp_path):
    """classify.train_per_class=N: N images per class for every model, two seeds give a spread and
    a McNemar test each; the validation grid trains each recipe and keeps the best; classify.adversarial.n=0
    leaves the attacks out."""
    out = tmp_path / "run"
    result = run_sla(
        "classify",
        "preset=smoke",
        f"run.out={out}",
        "classify.train_per_class=20",
        "classify.seeds=[0,1]",
        "classify.adversarial.n=0",
        "classify.test_size=300",
        "classify.ood.n=20",
        "classify.tune.enabled=true",
        env={"SLA_DATA_ROOT": str(mnist_root)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    r = json.loads((out / "results.json").read_text())
    assert r["n_train"] == 200 and r["train_per_class"] == 20 and r["adversarial"] is None
    assert r["log_prior"] == pytest.approx([-math.log(10)] * 10, abs=1e-4)  # balanced: a flat prior
    assert r["std"]["mlp"]["accuracy"] is not None and r["std"]["mlp"]["accuracy"] >= 0
    c = r["paired"]["comparisons"]["recon_vs_mlp_matched"]
    assert [s["seed"] for s in c["per_seed"]] == [0, 1] and c["difference_std"] is not None
    assert c["difference"] == pytest.approx(r["ae_set"]["recon"]["accuracy"] - r["mlp_matched"]["accuracy"], abs=1e-6)
    t = r["tuning"]
    assert t["enabled"] and len(t["grid"]) == 4 and len(t["per_seed"]) == 2  # smoke: epochs [1, 2] x wd [0, 1e-3]
    for kind, k in t["per_seed"][1].items():
        assert len(k["tried"]) == 4 and k["val_accuracy"] == max(x["val_accuracy"] for x in k["tried"]), kind
    assert all(w in ("ae_set", "mlp", "mlp_matched") for w in t["winner_on_validation"])
    table = (out / "table.md").read_text()
    assert "mean ± std over 2 seeds" in table and "(20 per class" in table and "Not measured" in table
    assert "Best on validation, per seed: " in table and "| 1 | mlp_matched | epochs " in table


@pytest.mark.slow
def test_train_per_class_beyond_a_class_is_one_line_error_before_writing(mnist_root, tmp_path):
    result = run_sla(
        "classify",
        "preset=smoke",
        f"run.out={tmp_path / 'o'}",
        "classify.train_per_class=400",
        env={"SLA_DATA_ROOT": str(mnist_root)},
    )
    assert_one_line_error(result, "classify.train_per_class=400", "smallest class", code=2)
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_weights_from_a_non_classify_folder_is_one_line_error(mnist_root, tmp_path):
    result = run_sla(
        "classify",
        "preset=smoke",
        f"run.out={tmp_path / 'b'}",
        f"classify.weights_from={tmp_path}",
        env={"SLA_DATA_ROOT": str(mnist_root)},
    )
    assert_one_line_error(result, "manifest.json", code=1)


@pytest.mark.slow
def test_missing_mnist_is_one_line_error(tmp_path):
    result = run_sla("classify", "preset=smoke", f"run.out={tmp_path / 'o'}", env={"SLA_DATA_ROOT": "/nowhere"})
    assert_one_line_error(result, "MNIST not found", code=1)
    assert not (tmp_path / "o" / "manifest.json").exists()


@pytest.mark.slow
def test_corrupt_mnist_is_one_line_error(tmp_path, mnist_root):
    raw = tmp_path / "fake" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in Path(mnist_root, "MNIST", "raw").iterdir():
        if f.name.startswith("train-images"):
            data = gzip.open(f).read() if f.suffix == ".gz" else f.read_bytes()
            (raw / "train-images-idx3-ubyte").write_bytes(data[:5000])  # truncated
        elif not f.name.startswith("train-images"):
            shutil.copy(f, raw / f.name)
    result = run_sla(
        "classify", "preset=smoke", f"run.out={tmp_path / 'o'}", env={"SLA_DATA_ROOT": str(tmp_path / "fake")}
    )
    assert_one_line_error(result, "truncated", code=1)


@pytest.mark.slow
@pytest.mark.parametrize(
    "override, fragment",
    [
        ("classify.seeds=[-1]", "classify.seeds"),
        ("preset=huge", "preset"),
    ],
)
def test_bad_config_is_one_line_error(override, fragment, tmp_path):
    result = run_sla("classify", "preset=smoke", override, f"run.out={tmp_path / 'o'}")
    assert_one_line_error(result, fragment, code=2)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "override, fragment",
    [
        ("classify.seeds=[]", "classify.seeds"),
        ("classify.seeds=[1,1]", "classify.seeds"),
        ("classify.seeds=abc", "classify.seeds"),
        ("classify.autoencoder.hidden=0", "classify.autoencoder.hidden"),
        ("run.threads=-1", "threads"),
        ("classify.adversarial.eps=[0.1,2]", "classify.adversarial.eps"),
        ("classify.adversarial.scorings=[nope]", "classify.adversarial.scorings"),
        ("classify.adversarial.restarts=0", "classify.adversarial.restarts"),
        ("classify.ood.extra=3", "classify.ood.extra"),
        ("classify.full.sigma_from=test", "classify.full.sigma_from"),
    ],
)
def test_bad_config_values_are_refused_before_work(override, fragment):
    """The same check the CLI runs before launching (in-process: one subprocess per case is slow)."""
    with pytest.raises(ConfigError, match=fragment.replace(".", r"\.")) as err:
        compose_config(BY_NAME["classify"], ["preset=smoke", override])
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("preset", ["smoke", "demo", "paper"])
def test_presets_compose_and_validate(preset):
    cfg = compose_config(BY_NAME["classify"], [f"preset={preset}"])
    assert cfg.classify.autoencoder.latent == 16 or preset == "smoke"
    if preset == "paper":
        assert (
            list(cfg.classify.seeds) == [0, 1, 2]
            and cfg.classify.autoencoder.hidden == 2048
            and cfg.classify.mlp.hidden == 2048
        )
    assert cfg.classify.autoencoder.loss == "mse"  # the paper's L2, at every preset
