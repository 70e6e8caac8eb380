"""The MLP's stronger anomaly detectors, the user's own anomaly folders, and the learned-sigma scoring."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
import torch
from PIL import Image

from sla_cli.classify import ood
from sla_cli.classify.class_autoencoders import class_reconstruction_loss
from sla_cli.classify.scoring import LEARNED_SIGMA, Col, SetScorer
from sla_cli.errors import DataError
from sla_cli.likelihood import LatentGaussian
from sla_cli.models.ae_set import AutoencoderSet


def test_energy_and_max_logit_see_what_softmax_cannot():
    """Adding a constant to every logit leaves the softmax unchanged: max softmax cannot tell the two
    sets apart (AUROC 0.5), the max logit and the energy rank them perfectly."""
    base = torch.randn(200, 10)
    inside, outside = base + 5.0, base
    score = {d: ood.auroc(f(inside), f(outside)) for d, f in ood.MLP_DETECTORS.items()}
    assert score["max_softmax"] == pytest.approx(0.5, abs=0.02)
    assert score["max_logit"] == 1.0 and score["energy"] == 1.0


def _idx_bytes(images: np.ndarray) -> bytes:
    return struct.pack(">IIII", 2051, len(images), 28, 28) + images.astype(np.uint8).tobytes()


def test_extra_folders_of_images_and_idx_files(tmp_path):
    rng = np.random.default_rng(0)
    nested = tmp_path / "letters" / "a" / "b"
    nested.mkdir(parents=True)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (40, 30), dtype=np.uint8)).save(nested / f"{i}.png")
    Image.fromarray(np.full((28, 28), 255, np.uint8)).save(tmp_path / "letters" / "white.jpg")
    images = rng.integers(0, 256, (7, 28, 28), dtype=np.uint8)
    (tmp_path / "idx_gz").mkdir()
    (tmp_path / "idx_gz" / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx_bytes(images)))
    (tmp_path / "idx_raw").mkdir()
    (tmp_path / "idx_raw" / "my-images").write_bytes(_idx_bytes(images))
    extra = ood.load_extra([str(tmp_path / "letters"), str(tmp_path / "idx_gz"), str(tmp_path / "idx_raw")], n=5)
    assert list(extra) == ["letters", "idx_gz", "idx_raw"]
    assert extra["letters"].shape == (4, 784)  # every image below the folder, resized to 28x28
    assert (extra["letters"][-1] == 1.0).all()  # sorted by path: a/b/0..2.png, then white.jpg
    for name in ("idx_gz", "idx_raw"):  # the first n images of the IDX file, scaled to 0..1
        torch.testing.assert_close(extra[name], torch.from_numpy(images[:5].reshape(5, -1) / 255.0).float())


@pytest.mark.parametrize(
    "case, fragment", [("missing", "is not a folder"), ("empty", "holds no images"), ("broken", "not a readable image")]
)
def test_bad_extra_folders_are_one_line_errors(tmp_path, case, fragment):
    folder = tmp_path / case
    if case != "missing":
        folder.mkdir()
    if case == "broken":
        (folder / "x.png").write_bytes(b"not a png")
    with pytest.raises(DataError) as err:
        ood.load_extra([str(folder)], n=5)
    assert fragment in str(err.value) and "\n" not in str(err.value) and str(folder) in str(err.value)


def test_learned_sigma_scoring_matches_full_when_the_learned_sigma_is_flat():
    """A learned per-pixel sigma that is constant per class is the full scoring's per-class sigma."""
    torch.manual_seed(0)
    model = AutoencoderSet(3, 16, 8, 2, learn_sigma=True)
    sigma = torch.tensor([0.1, 0.2, 0.3])
    with torch.no_grad():
        model.log_sigma.copy_(sigma.log()[:, None].expand(3, 16))
    density = LatentGaussian.fit_to_latents([torch.randn(40, 2) for _ in range(3)])
    scorer = SetScorer(model, sigma, density)
    assert scorer.scorings[-1] == LEARNED_SIGMA
    f = scorer.features(torch.rand(5, 16))
    torch.testing.assert_close(f[..., Col.RECON_LEARNED], f[..., Col.RECON])
    torch.testing.assert_close(
        SetScorer.logits_from_features(f, LEARNED_SIGMA, None), SetScorer.logits_from_features(f, "full", None)
    )
    with torch.no_grad():
        model.log_sigma[0, :8] += 1.0  # now it differs
    assert not torch.allclose(
        scorer.features(torch.rand(5, 16))[..., Col.RECON_LEARNED][:, 0],
        scorer.features(torch.rand(5, 16))[..., Col.RECON][:, 0],
    )


def test_class_losses_known_values():
    torch.manual_seed(0)
    model = AutoencoderSet(2, 6, 4, 2).double()
    x = torch.rand(2, 3, 6, dtype=torch.float64)
    sq = ((model(x) - x) ** 2).sum(-1).mean(-1).sum()
    torch.testing.assert_close(class_reconstruction_loss(model, x, "mse"), sq)
    sigma_model = AutoencoderSet(2, 6, 4, 2, learn_sigma=True).double()
    sigma_model.load_state_dict({**model.state_dict(), "log_sigma": torch.zeros(2, 6, dtype=torch.float64)})
    torch.testing.assert_close(class_reconstruction_loss(sigma_model, x, "bce"), 0.5 * sq)  # NLL with sigma = 1
