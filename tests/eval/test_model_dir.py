"""The eval stages' view of a model folder: the model, and the dataset's own renderer rebuilt."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from data_gen.mnist import load_split
from sla_cli.errors import DataError
from sla_cli.eval.model_dir import load_model_dir


@pytest.mark.slow
def test_rebuilt_renderer_gives_the_datasets_pixels(smoke_model, smoke_dataset, mnist_root):
    trained = load_model_dir(smoke_model, torch.device("cpu"))
    stored = np.load(smoke_dataset / "test_images.npy", mmap_mode="r")[:3]
    images, _ = load_split(mnist_root, "test")
    picks = np.load(smoke_dataset / "test_indices.npy")[:3]
    rendered = trained.render(images[picks])
    assert rendered.shape == (3, trained.n_contexts, *trained.frame)
    assert torch.equal((rendered * 255).round().to(torch.uint8), torch.from_numpy(np.array(stored)))
    assert not any(p.requires_grad for p in trained.model.parameters())


@pytest.mark.slow
def test_a_model_whose_dataset_is_gone_is_one_line(smoke_model, smoke_dataset, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(smoke_model, copy)
    manifest = (copy / "manifest.json").read_text().replace(str(smoke_dataset), str(tmp_path / "nowhere"))
    (copy / "manifest.json").write_text(manifest)
    with pytest.raises(DataError, match="no longer exists"):
        load_model_dir(copy, torch.device("cpu"))


def test_a_dataset_folder_is_not_a_model(smoke_dataset):
    with pytest.raises(DataError, match="not a model"):
        load_model_dir(smoke_dataset, torch.device("cpu"))
