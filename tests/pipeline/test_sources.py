"""data.source: an MNIST-like IDX quadruple or a folder of class subfolders, written here, small."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from PIL import Image

from data_gen.errors import InputDataError
from data_gen.sources import load_split


def write_idx(path, array: np.ndarray, compress: bool = True) -> None:
    magic = 2051 if array.ndim == 3 else 2049
    header = struct.pack(">II", magic, len(array)) + (struct.pack(">II", 28, 28) if array.ndim == 3 else b"")
    data = header + array.astype(np.uint8).tobytes()
    if compress:
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)


def idx_set(folder, n_train: int = 60, n_test: int = 20, prefix: str = "", transpose: bool = False):
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, stem, n in (("train", "train", n_train), ("test", "t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = np.arange(n) % 10
        write_idx(folder / f"{prefix}{stem}-images-idx3-ubyte.gz", images.transpose(0, 2, 1) if transpose else images)
        write_idx(folder / f"{prefix}{stem}-labels-idx1-ubyte.gz", labels)
        arrays[split] = (images, labels)
    return arrays


def test_an_idx_quadruple_reads_like_mnist(tmp_path):
    arrays = idx_set(tmp_path / "fashion" / "raw")
    images, labels = load_split(f"idx:{tmp_path / 'fashion'}", "unused", "train")
    assert images.shape == (60, 28, 28) and np.array_equal(images, arrays["train"][0])
    assert np.array_equal(labels, arrays["train"][1])
    assert load_split(f"idx:{tmp_path / 'fashion'}", "unused", "test")[0].shape == (20, 28, 28)


def test_emnist_files_are_turned_upright(tmp_path):
    arrays = idx_set(tmp_path / "emnist", prefix="emnist-letters-", transpose=True)
    images, _ = load_split(f"idx:{tmp_path / 'emnist'}", "unused", "test")
    assert np.array_equal(images, arrays["test"][0])


@pytest.mark.parametrize(
    "damage, fragment",
    [
        (lambda d: (d / "t10k-labels-idx1-ubyte.gz").unlink(), "need one test labels IDX file"),
        (lambda d: (d / "t10k-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b\x08garbage"), "truncated or corrupt"),
        (lambda d: write_idx(d / "t10k-labels-idx1-ubyte.gz", np.zeros(19)), "holds 19 items (expected 20)"),
    ],
)
def test_a_bad_idx_set_is_one_line(tmp_path, damage, fragment):
    idx_set(tmp_path)
    damage(tmp_path)
    with pytest.raises(InputDataError, match=fragment.replace("(", r"\(").replace(")", r"\)")) as caught:
        load_split(f"idx:{tmp_path}", "unused", "test")
    assert "\n" not in str(caught.value)


def image_folder(folder, classes=("0", "1", "2"), per_class: int = 8) -> None:
    for c in classes:
        (folder / c).mkdir(parents=True)
        for i in range(per_class):
            canvas = np.full((40, 30), 255, np.uint8)  # dark ink on light paper, another size than 28
            canvas[5 + i : 30, 8 : 12 + int(c) * 3] = 0
            Image.fromarray(canvas).save(folder / c / f"{i:02d}.png")


def test_a_folder_of_class_folders_is_made_mnist_like_and_split(tmp_path):
    image_folder(tmp_path / "mine")
    train, train_labels = load_split(f"folder:{tmp_path / 'mine'}", "unused", "train")
    test, test_labels = load_split(f"folder:{tmp_path / 'mine'}", "unused", "test")
    assert train.shape == (21, 28, 28) and test.shape == (3, 28, 28)  # every 7th image of each class is a test one
    assert sorted(set(train_labels.tolist())) == [0, 1, 2] and test_labels.tolist() == [0, 1, 2]
    assert train.dtype == np.uint8 and train[:, 0, :].max() == 0 and train.max() > 200  # white ink on black, framed


def test_a_folder_without_images_of_a_class_is_one_line(tmp_path):
    image_folder(tmp_path / "mine", per_class=3)  # too few for every 7th to reach the test split
    with pytest.raises(InputDataError, match="holds no test image"):
        load_split(f"folder:{tmp_path / 'mine'}", "unused", "test")


@pytest.mark.parametrize("source", ["fashion", "idx:", "folder", "mnist:x"])
def test_a_bad_source_is_refused_before_any_work(source):
    from helpers.stages import compose
    from sla_cli.errors import ConfigError

    with pytest.raises(ConfigError, match="data.source"):
        compose("generate-cubes", "preset=smoke", f"data.source={source}")


@pytest.mark.slow
def test_generate_cubes_and_classify_read_another_source(tmp_path):
    from helpers.stages import run_stage
    from sla_cli import runfolder
    from sla_cli.errors import ConfigError

    idx_set(tmp_path / "set", n_train=120, n_test=40)
    source = f"data.source=idx:{tmp_path / 'set'}"
    run_stage(
        "generate-cubes",
        "preset=smoke",
        source,
        "digits.train=40",
        "digits.test=20",
        "cubes.count=8",
        "render.size=16",
        out=tmp_path / "dataset",
    )
    manifest = runfolder.read_manifest(tmp_path / "dataset", "dataset")
    assert manifest["counts"]["train"] == 40 and manifest["config"]["data"]["source"].startswith("idx:")
    with pytest.raises(ConfigError, match="digits.train=500 but data.source=idx:.* holds 120 train images"):
        run_stage("generate-cubes", "preset=smoke", source, "digits.train=500", out=tmp_path / "other")
    run_stage(
        "classify",
        "preset=smoke",
        source,
        "classify.val_size=20",
        "classify.train_size=null",
        "classify.test_size=null",
        "classify.train.epochs=1",
        "classify.ood.n=10",
        "classify.adversarial.n=0",
        "classify.calibrate.steps=2",
        out=tmp_path / "classify",
    )
    results = runfolder.read_json_object(
        tmp_path / "classify", runfolder.read_manifest(tmp_path / "classify", None), "results.json"
    )
    assert results["n_train"] == 100


def test_an_mnist_run_keeps_its_identity_now_that_data_source_exists():
    from sla_cli.runfolder import identity

    old = {"seed": 0, "data": {"root": "/data"}, "digits": {"train": 3}}
    assert identity(old) == identity({**old, "data": {"root": "/data", "source": "mnist"}})
    assert identity(old) != identity({**old, "data": {"root": "/data", "source": "idx:/x"}})


@pytest.mark.slow
def test_density_reads_another_source_and_names_it_in_its_identity(tmp_path):
    from helpers.stages import run_stage
    from sla_cli import runfolder
    from sla_cli.errors import ConfigError

    idx_set(tmp_path / "set", n_train=60, n_test=20)
    source = f"data.source=idx:{tmp_path / 'set'}"
    run_stage(
        "density",
        "preset=smoke",
        source,
        "density.model=made",
        "density.val_size=10",
        "density.train_size=null",
        "density.test_size=null",
        out=tmp_path / "density",
    )
    manifest = runfolder.read_manifest(tmp_path / "density", None)
    assert manifest["config"]["data"]["source"].startswith("idx:")
    results = runfolder.read_json_object(tmp_path / "density", manifest, "density.json")
    assert results["split"]["test"] == 20 and results["split"]["train"] == 50
    assert "data.source=idx:" in results["split"]["validation_is"]
    with pytest.raises(ConfigError, match="density.val_size=60 leaves nothing to train on"):
        run_stage("density", "preset=smoke", source, "density.val_size=60", out=tmp_path / "other")
