"""Issue 27, item 3: `sla density` never takes over a folder holding another model's unfinished run,
and resumes its own by default (run.resume=auto), as `sla train` does."""

from __future__ import annotations

import json

import pytest

from helpers.stages import run_stage
from sla_cli.errors import ConfigError, DataError
from sla_cli.training import checkpoint

TINY = (
    "preset=smoke",
    "run.device=cpu",
    "run.threads=1",
    "density.train_size=100",
    "density.test_size=20",
    "density.n_samples=2",
    "density.epochs=2",
    "density.val_size=20",
)
MADE = ("density.model=made", "density.made.hidden=[16]", "density.made.direct=false")
VAE = (
    "density.model=vae",
    "density.vae.hidden=[16]",
    "density.vae.latent=2",
    "density.iwae_k=2",
    "density.iwae_chunk=2",
)


@pytest.mark.slow
def test_another_model_never_takes_over_an_unfinished_run(tmp_path, mnist_root):
    out = tmp_path / "density"
    root = f"run.data_root={mnist_root}"
    run_stage("density", *TINY, *MADE, root, "run.stop_after=1", out=out)  # an interrupted MADE run
    saved = checkpoint.list_checkpoints(out / "made")
    assert saved and not (out / "manifest.json").exists()
    first_epoch = checkpoint.load(saved[-1][1])["rows"]
    with pytest.raises(DataError, match=r"checkpoints of an unfinished density run of other members \(made\)"):
        run_stage("density", *TINY, *VAE, root, out=out)
    assert checkpoint.list_checkpoints(out / "made") == saved
    with pytest.raises(DataError, match="run.resume=false"):
        run_stage("density", *TINY, *MADE, root, "run.resume=false", out=out)
    run_stage("density", *TINY, *MADE, root, out=out)  # the same command, without stop_after, continues
    result = json.loads((out / "density.json").read_text())
    assert result["curves"]["made"][:1] == first_epoch  # epoch 1 restored (its time too), not trained again
    run_stage("density", *TINY, *VAE, root, "run.overwrite=true", out=out)  # asked: starts again
    assert json.loads((out / "manifest.json").read_text())["model"] == "vae"
    assert not (out / "made").exists()


def test_density_resume_takes_auto_true_false():
    from helpers.stages import compose

    assert compose("density", "preset=smoke").run.resume == "auto"
    with pytest.raises(ConfigError, match="run.resume='sometimes' must be auto, true or false"):
        compose("density", "preset=smoke", "run.resume=sometimes")
