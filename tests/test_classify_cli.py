"""`sla classify` as a user runs it: a smoke run's outputs, and bad inputs as one-line errors."""

import gzip
import json
import shutil
from pathlib import Path

import pytest
import torch

from helpers.cli import assert_one_line_error, run_sla
from sla_cli.commands import BY_NAME
from sla_cli.errors import ConfigError
from sla_cli.hydra_app import compose_config


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory, mnist_root):
    out = tmp_path_factory.mktemp("classify") / "run"
    result = run_sla("classify", "preset=smoke", f"out={out}", env={"SLA_DATA_ROOT": str(mnist_root)})
    assert result.returncode == 0, result.stderr[-3000:]
    return out, result


def test_smoke_run_writes_everything_with_sane_values(smoke_run):
    out, result = smoke_run
    for name in ("results.json", "table.md", "confusion.png", "loglik_hist.png", "weights_seed0.pt", "config.yaml", "manifest.json"):
        assert (out / name).stat().st_size > 0, name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "classify" and "weights_seed0.pt" in manifest["sha256"]
    r = json.loads((out / "results.json").read_text())
    assert r["paper"] == {"ae_set": 0.986, "mlp": 0.984} and r["seeds"] == [0] and r["device"] == "cpu"
    accs = [r["ae_set"][s]["accuracy"] for s in ("recon", "full", "calibrated")] + [r["mlp"]["accuracy"]]
    assert all(0.5 < a <= 1.0 for a in accs), accs  # chance is 0.1
    assert r["ae_set"]["calibrated"]["val_accuracy"] >= r["ae_set"]["recon"]["val_accuracy"]
    for detector in (r["ood"]["ae_set"]["recon"], r["ood"]["ae_set"]["full"], r["ood"]["mlp"]):
        assert set(detector) == {"noise", "glyphs", "rotated90", "inverted"}
        assert all(0.0 <= v <= 1.0 for v in detector.values())
    assert r["ood"]["ae_set"]["full"]["noise"] > 0.8  # uniform noise is far from any digit's likelihood
    adv = r["adversarial"]
    for key in ("mlp", "ae_set_recon", "ae_set_full", "ae_set_calibrated"):
        a = adv[key]
        assert set(a["pgd"]) == {"0.05", "0.1", "0.2"}
        assert all(0 <= a["worst_case"][e] <= min(a["pgd"][e], a["fgsm"][e], a["clean"]) for e in a["pgd"])
        assert a["pgd"]["0.2"] < a["clean"]  # the attack does something
        assert a["gradient"]["zero_gradient_fraction"] < 1.0 and a["gradient"]["finite"]
    assert isinstance(adv["ae_set_full"]["gradient_masking_suspected"], bool)
    assert r["train_seconds"]["ae_set"] > 0 and r["train_seconds"]["mlp"] > 0
    table = (out / "table.md").read_text()
    assert "98.6" in table and "98.4" in table and "AUROC" in table
    assert "calibrated" in result.stderr  # the final rich table


def test_weights_load_with_weights_only(smoke_run):
    blob = torch.load(smoke_run[0] / "weights_seed0.pt", weights_only=True)
    assert blob["ae_set"]["config"]["hidden"] == 64 and blob["mlp"]["config"]["hidden"] == 64


def test_rerun_into_the_same_folder_is_a_no_op(smoke_run, mnist_root):
    out, _ = smoke_run
    before = (out / "manifest.json").read_text()
    result = run_sla("classify", "preset=smoke", f"out={out}", env={"SLA_DATA_ROOT": str(mnist_root)})
    assert result.returncode == 0 and "nothing to do" in result.stderr
    assert (out / "manifest.json").read_text() == before


def test_saved_weights_with_another_architecture_is_one_line_error(smoke_run, mnist_root, tmp_path):
    result = run_sla("classify", "preset=smoke", f"out={tmp_path / 'b'}", f"classify.weights_from={smoke_run[0]}",
                     "classify.model.hidden=32", env={"SLA_DATA_ROOT": str(mnist_root)})
    assert_one_line_error(result, "architecture differs", "hidden=64", "32", code=1)
    assert not (tmp_path / "b").exists()


def test_saved_weights_reload_to_the_same_accuracies(smoke_run, mnist_root, tmp_path):
    result = run_sla("classify", "preset=smoke", f"out={tmp_path / 'b'}", f"classify.weights_from={smoke_run[0]}",
                     env={"SLA_DATA_ROOT": str(mnist_root)})
    assert result.returncode == 0, result.stderr[-2000:]
    old = json.loads((smoke_run[0] / "results.json").read_text())
    new = json.loads((tmp_path / "b" / "results.json").read_text())
    assert new["mlp"]["accuracy"] == old["mlp"]["accuracy"]
    for s in ("recon", "full"):
        assert new["ae_set"][s]["accuracy"] == pytest.approx(old["ae_set"][s]["accuracy"], abs=1e-6)
    assert new["train_seconds"]["ae_set"] == 0 and not (tmp_path / "b" / "weights_seed0.pt").exists()


def test_weights_from_a_non_classify_folder_is_one_line_error(mnist_root, tmp_path):
    result = run_sla("classify", "preset=smoke", f"out={tmp_path / 'b'}", f"classify.weights_from={tmp_path}",
                     env={"SLA_DATA_ROOT": str(mnist_root)})
    assert_one_line_error(result, "manifest.json", code=1)


def test_missing_mnist_is_one_line_error(tmp_path):
    result = run_sla("classify", "preset=smoke", f"out={tmp_path / 'o'}", env={"SLA_DATA_ROOT": "/nowhere"})
    assert_one_line_error(result, "MNIST not found", code=1)
    assert not (tmp_path / "o" / "manifest.json").exists()


def test_corrupt_mnist_is_one_line_error(tmp_path, mnist_root):
    raw = tmp_path / "fake" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in Path(mnist_root, "MNIST", "raw").iterdir():
        if f.name.startswith("train-images"):
            data = gzip.open(f).read() if f.suffix == ".gz" else f.read_bytes()
            (raw / "train-images-idx3-ubyte").write_bytes(data[:5000])  # truncated
        elif not f.name.startswith("train-images"):
            shutil.copy(f, raw / f.name)
    result = run_sla("classify", "preset=smoke", f"out={tmp_path / 'o'}", env={"SLA_DATA_ROOT": str(tmp_path / "fake")})
    assert_one_line_error(result, "truncated", code=1)


@pytest.mark.parametrize("override, fragment", [
    ("classify.seeds=[-1]", "classify.seeds"),
    ("preset=huge", "preset"),
])
def test_bad_config_is_one_line_error(override, fragment, tmp_path):
    result = run_sla("classify", "preset=smoke", override, f"out={tmp_path / 'o'}")
    assert_one_line_error(result, fragment, code=2)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("override, fragment", [
    ("classify.seeds=[]", "classify.seeds"),
    ("classify.seeds=[1,1]", "classify.seeds"),
    ("classify.seeds=abc", "classify.seeds"),
    ("classify.model.hidden=0", "classify.model.hidden"),
    ("threads=-1", "threads"),
    ("classify.adversarial.eps=[0.1,2]", "classify.adversarial.eps"),
    ("classify.adversarial.scorings=[nope]", "classify.adversarial.scorings"),
])
def test_bad_config_values_are_refused_before_work(override, fragment):
    """The same check the CLI runs before launching (in-process: one subprocess per case is slow)."""
    with pytest.raises(ConfigError, match=fragment.replace(".", r"\.")) as err:
        compose_config(BY_NAME["classify"], ["preset=smoke", override])
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("preset", ["smoke", "demo", "paper"])
def test_presets_compose_and_validate(preset):
    cfg = compose_config(BY_NAME["classify"], [f"preset={preset}"])
    assert cfg.classify.model.latent == 16 or preset == "smoke"
    if preset == "paper":
        assert list(cfg.classify.seeds) == [0, 1, 2] and cfg.classify.model.hidden == 2048 and cfg.classify.mlp.hidden == 2048
