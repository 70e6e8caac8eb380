"""The MNIST IDX reader on the real files and on small files the tests write."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from data_gen.errors import InputDataError
from data_gen.mnist import FILES, IMAGE_MAGIC, LABEL_MAGIC, load_split, read_idx


def write_idx(path: Path, array: np.ndarray, magic: int, compress: bool, truncate: int = 0) -> Path:
    header = struct.pack(">II", magic, array.shape[0])
    if array.ndim == 3:
        header += struct.pack(">II", *array.shape[1:])
    data = header + array.astype(np.uint8).tobytes()
    data = data[: len(data) - truncate]
    path.parent.mkdir(parents=True, exist_ok=True)
    if compress:
        path = path.with_name(path.name + ".gz")
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)
    return path


def fake_root(tmp_path: Path, compress: bool, n_test: int = 10000) -> Path:
    """A data root with a real-shaped test split (random pixels) under MNIST/raw."""
    rng = np.random.default_rng(0)
    raw = tmp_path / "MNIST" / "raw"
    write_idx(raw / FILES[("test", "images")], rng.integers(0, 256, (n_test, 28, 28)), IMAGE_MAGIC, compress)
    write_idx(raw / FILES[("test", "labels")], rng.integers(0, 10, n_test), LABEL_MAGIC, compress)
    return tmp_path


def test_real_mnist_has_the_official_counts_and_statistics(mnist_root):
    train_x, train_y = load_split(mnist_root, "train")
    test_x, test_y = load_split(mnist_root, "test")
    assert train_x.shape == (60000, 28, 28) and test_x.shape == (10000, 28, 28)
    assert train_x.dtype == np.uint8 and train_y.shape == (60000,)
    assert np.bincount(test_y, minlength=10).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert abs(train_x.mean() / 255 - 0.1307) < 0.001


@pytest.mark.parametrize("compress", [True, False])
def test_reads_small_files_it_wrote(tmp_path, compress):
    root = fake_root(tmp_path, compress)
    images, labels = load_split(root, "test")
    raw = tmp_path / "MNIST" / "raw"
    assert images.shape == (10000, 28, 28) and labels.max() <= 9
    again = read_idx(next(raw.glob("t10k-images*")), IMAGE_MAGIC)
    assert np.array_equal(images, again)


def test_files_directly_in_root_are_found(tmp_path):
    root = fake_root(tmp_path, compress=True)
    flat = tmp_path / "flat"
    (root / "MNIST" / "raw").rename(flat)
    assert load_split(flat, "test")[0].shape == (10000, 28, 28)


def test_missing_folder_names_the_files_and_the_setting(tmp_path):
    with pytest.raises(InputDataError) as e:
        load_split(tmp_path / "nowhere", "train")
    message = str(e.value)
    assert "\n" not in message
    for name in FILES.values():
        assert name in message
    assert "SLA_DATA_ROOT" in message and "run.data_root" in message


@pytest.mark.parametrize("compress", [True, False])
def test_truncated_file_is_named(tmp_path, compress):
    raw = tmp_path / "MNIST" / "raw"
    fake_root(tmp_path, compress)
    write_idx(raw / FILES[("test", "images")], np.zeros((10000, 28, 28)), IMAGE_MAGIC, compress, truncate=500)
    if compress:
        (raw / FILES[("test", "images")]).unlink(missing_ok=True)
    with pytest.raises(InputDataError, match="t10k-images-idx3-ubyte.*truncated"):
        load_split(tmp_path, "test")


def test_cut_gzip_stream_is_named(tmp_path):
    path = fake_root(tmp_path, compress=True) / "MNIST" / "raw" / (FILES[("test", "images")] + ".gz")
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(InputDataError, match="t10k-images-idx3-ubyte.gz is truncated or corrupt"):
        load_split(tmp_path, "test")


def test_wrong_magic_is_named(tmp_path):
    raw = fake_root(tmp_path, compress=False) / "MNIST" / "raw"
    write_idx(raw / FILES[("test", "labels")], np.zeros(10000), IMAGE_MAGIC + 7, compress=False)
    with pytest.raises(InputDataError, match="t10k-labels-idx1-ubyte has wrong magic number 2058"):
        load_split(tmp_path, "test")


def test_wrong_count_is_named(tmp_path):
    fake_root(tmp_path, compress=False, n_test=100)
    with pytest.raises(InputDataError, match="holds 100 items .expected 10000"):
        load_split(tmp_path, "test")
