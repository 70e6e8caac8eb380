"""Issue 27: inputs that used to end in a traceback, an unhashed read or a huge allocation are one
line (decompression-bomb PNGs, a gzip bomb, a rehashed model.pt of the wrong config or shapes, a
corrupt or unhashed train_images.npy, a missing model_dir, a refused pickle, a file as dataset_dir)."""

from __future__ import annotations

import gzip
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from data_gen.glyph_folder import GlyphFolderError, load_glyph_folder
from data_gen.mnist import IMAGE_MAGIC
from helpers.stages import compose
from sla_cli import runfolder
from sla_cli.classify import ood
from sla_cli.errors import ConfigError, DataError
from sla_cli.eval.concept import inputs
from sla_cli.eval.model_dir import load_model_dir
from sla_cli.models.ae_set import AutoencoderSet


def bomb_png(path, width: int = 100000, height: int = 100000) -> None:
    """A PNG of a few dozen bytes whose header claims width x height pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")
    )


def test_a_decompression_bomb_png_is_one_line_in_a_glyph_folder_and_in_ood_extra(tmp_path):
    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        for i in range(2):
            bomb_png(tmp_path / cls / f"{i}.png", 8, 8) if cls == "b" else bomb_png(tmp_path / cls / f"{i}.png")
    assert (tmp_path / "a" / "0.png").stat().st_size < 80
    with pytest.raises(GlyphFolderError, match=r"a/0.png is unreadable .*100000x100000|a/0.png is unreadable"):
        load_glyph_folder(tmp_path)
    with pytest.raises(DataError, match="classify.ood.extra: .*a/0.png is not a readable image"):
        ood.load_folder(tmp_path, 10)


def test_a_gzip_bomb_in_ood_extra_is_read_only_as_far_as_needed(tmp_path):
    n = 64000  # 50 MB once decompressed, about 50 kB on disk
    with gzip.open(tmp_path / "images-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">IIII", IMAGE_MAGIC, n, 28, 28))
        for _ in range(n // 1000):
            f.write(bytes(784 * 1000))
    tracemalloc.start()
    try:
        images = ood.load_folder(tmp_path, 10)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert images.shape == (10, 28, 28)
    assert peak < 5 * 2**20, peak


def model_folder(folder, blob) -> None:
    with runfolder.Run(folder, "model", OmegaConf.create({"seed": 0})) as run:
        run.save_torch("model.pt", blob)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda b: b["config"].update(hidden="wide"), "holds a config that builds no model"),
        (lambda b: b["config"].update(colour=3), "holds a config that builds no model"),
        (lambda b: b["config"].update(hidden=10**6), "does not fit the model its config describes"),
        (lambda b: b["state_dict"].update(enc1_w=torch.zeros(3)), "enc1_w: \\(3,\\)"),
        (lambda b: b["state_dict"].pop("enc1_b"), "enc1_b: missing"),
    ],
)
def test_a_rehashed_model_pt_that_builds_no_model_is_one_line(tmp_path, change, message):
    model = AutoencoderSet(n_members=3, dim=16, hidden=8, latent=2)
    blob = {
        "config": {"n_members": 3, "dim": 16, "hidden": 8, "latent": 2, "tied": True, "learn_sigma": False},
        "state_dict": model.state_dict(),
    }
    change(blob)
    model_folder(tmp_path / "model", blob)
    with pytest.raises(DataError, match=message):
        load_model_dir(tmp_path / "model", torch.device("cpu"))


def dataset_folder(folder, train_images: bytes | None) -> dict:
    with runfolder.Run(folder, "dataset", OmegaConf.create({"seed": 0})) as run:
        if train_images is not None:
            with open(run.path("train_images.npy"), "wb") as f:
                f.write(train_images)
        run.save_npy("masks.npy", np.ones((3, 4, 4), np.float32))
    return runfolder.read_manifest(folder, "dataset")


def npy_bytes(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_concept_reads_train_images_only_through_their_hash_and_checks_them(tmp_path):
    good = npy_bytes(np.zeros((4, 3, 4, 4), np.uint8))
    manifest = dataset_folder(tmp_path / "ok", good)
    assert inputs.train_images(tmp_path / "ok", manifest).shape == (4, 3, 4, 4)
    (tmp_path / "ok" / "train_images.npy").write_bytes(good[:-1] + b"\x01")  # one changed byte
    with pytest.raises(DataError, match="train_images.npy does not match its sha256"):
        inputs.train_images(tmp_path / "ok", manifest)
    for name, content, message in (
        ("garbage", b"not an npy file at all", "unreadable or truncated"),
        ("floats", npy_bytes(np.zeros((4, 3), np.float32)), "expected uint8"),
    ):
        manifest = dataset_folder(tmp_path / name, content)  # rehashed: only the content check can tell
        with pytest.raises(DataError, match=message):
            inputs.train_images(tmp_path / name, manifest)
    manifest = dataset_folder(tmp_path / "unlisted", None)
    (tmp_path / "unlisted" / "train_images.npy").write_bytes(good)
    with pytest.raises(DataError, match="train_images.npy is not listed in .*manifest.json"):
        inputs.train_images(tmp_path / "unlisted", manifest)


def test_eval_oneshot_without_model_dir_is_a_config_error():
    with pytest.raises(ConfigError, match="model_dir=DIR is required"):
        compose("eval oneshot", "preset=smoke")


def test_a_pickle_refusal_never_advises_weights_only_false(tmp_path):
    torch.save({"f": np.float64}, tmp_path / "numpy.pt")  # a global torch's safe loader refuses
    with pytest.raises(DataError) as e:
        runfolder.load_torch(tmp_path / "numpy.pt")
    assert "weights_only" not in str(e.value) and "pickled Python objects" in str(e.value)
    assert "\n" not in str(e.value) and "\x1b" not in str(e.value)


def test_a_file_given_as_a_run_folder_says_so(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError, match="is a file, not a folder"):
        runfolder.read_manifest(tmp_path / "file", "dataset")


@pytest.mark.slow
def test_a_bug_keeps_its_traceback_and_leaves_no_empty_out(tmp_path):
    import os
    import subprocess
    import sys

    from helpers.cli import REPO

    code = (
        "import sys; import sla_cli.density.stage as stage; stage.run = lambda cfg, out: 1 / 0; "
        "from sla_cli.__main__ import main; main(sys.argv[1:])"
    )
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-c", code, "density", "preset=smoke", "run.device=cpu", "run.threads=1", f"run.out={out}"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode != 0 and "ZeroDivisionError" in result.stderr
    assert not out.exists()
