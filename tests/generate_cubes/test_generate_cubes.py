"""`sla generate-cubes` on the smoke preset with the real MNIST: what it writes (on the session's
smoke dataset), and end to end through the CLI (reruns, seeds, refusals, bad input)."""

import struct
from pathlib import Path

import numpy as np
import pytest

from data_gen.cubes import slot_yaws
from helpers.cli import assert_one_line_error, run_sla
from helpers.stages import compose
from sla_cli import runfolder
from sla_cli.errors import ConfigError, DataError

ARRAYS = [
    "train_images.npy",
    "test_images.npy",
    "train_labels.npy",
    "test_labels.npy",
    "train_indices.npy",
    "test_indices.npy",
    "masks.npy",
    "cubes_images.npy",
    "cubes_angles.npy",
    "cubes_digits.npy",
    "cubes_contexts.npy",
    "cubes_compare_images.npy",
    "cubes_compare_digits.npy",
]


def generate(mnist_root: Path, out: Path, *extra: str):
    """The CLI run of the session's smoke dataset (tests/conftest.py), into ``out``."""
    return run_sla("generate-cubes", "preset=smoke", f"run.out={out}", f"run.data_root={mnist_root}", *extra)


def test_writes_every_array_with_its_manifest(smoke_dataset):
    manifest = runfolder.read_manifest(smoke_dataset, "dataset")
    for name in ARRAYS:
        runfolder.verify_file(smoke_dataset, manifest, name)
    assert manifest["n_contexts"] == 100 and manifest["image_size"] == 24 and manifest["seed"] == 0
    assert manifest["config"]["digits"]["train"] == 300
    train = np.load(smoke_dataset / "train_images.npy", mmap_mode="r")
    test = np.load(smoke_dataset / "test_images.npy", mmap_mode="r")
    assert train.shape == (300, 100, 24, 24) and test.shape == (100, 100, 24, 24) and train.dtype == np.uint8
    labels, indices = np.load(smoke_dataset / "train_labels.npy"), np.load(smoke_dataset / "train_indices.npy")
    assert labels.shape == indices.shape == (300,) and len(set(indices.tolist())) == 300
    from data_gen.mnist import load_split

    mnist_images, mnist_labels = load_split(Path(manifest["config"]["run"]["data_root"]), "train")
    assert np.array_equal(labels, mnist_labels[indices])  # labels belong to the digits rendered
    masks = np.load(smoke_dataset / "masks.npy")
    # A warp keeps mean intensity, so a face's ink is the digit's ink scaled by its area over 28x28.
    for c in (10, 17, 40, 80):
        ink_ratio = train[:, c].reshape(300, -1).sum(1) / mnist_images[indices].reshape(300, -1).sum(1)
        assert ink_ratio.mean() == pytest.approx(masks[c].sum() / 784, rel=0.1), c
    assert masks.shape == (100, 24, 24) and masks.dtype == np.float32 and masks.min() >= 0 and masks.max() <= 1
    contexts = manifest["contexts"]
    assert [c["index"] for c in contexts] == list(range(100))
    assert [c["face"] for c in contexts] == ["side"] * 34 + ["top"] * 66
    assert all(-90 < c["yaw_deg"] < 90 for c in contexts[:34])
    assert all(np.array(c["quad_px"]).shape == (4, 2) for c in contexts)


def test_ink_stays_inside_the_masks(smoke_dataset):
    masks = np.load(smoke_dataset / "masks.npy")
    for name in ("train_images.npy", "test_images.npy"):
        images = np.load(smoke_dataset / name, mmap_mode="r")
        assert images.max() > 100
        assert np.all(images <= 255 * masks[None] + 0.5), name


def test_each_context_image_lies_on_its_quad(smoke_dataset):
    manifest = runfolder.read_manifest(smoke_dataset, "dataset")
    images = np.load(smoke_dataset / "train_images.npy", mmap_mode="r")[:50].astype(np.float32)
    ys, xs = np.mgrid[0:24, 0:24]
    for c in manifest["contexts"]:
        ink = images[:, c["index"]].sum(0)
        if ink.sum() == 0:
            continue
        quad = np.array(c["quad_px"])
        cx, cy = (ink * xs).sum() / ink.sum(), (ink * ys).sum() / ink.sum()
        assert quad[:, 0].min() - 0.5 <= cx <= quad[:, 0].max() + 0.5
        assert quad[:, 1].min() - 0.5 <= cy <= quad[:, 1].max() + 0.5


def test_cube_angles_and_face_contexts_agree(smoke_dataset):
    manifest = runfolder.read_manifest(smoke_dataset, "dataset")
    angles = np.load(smoke_dataset / "cubes_angles.npy")
    found = np.load(smoke_dataset / "cubes_contexts.npy")
    images = np.load(smoke_dataset / "cubes_images.npy").astype(np.float32)
    compare = np.load(smoke_dataset / "cubes_compare_images.npy").astype(np.float32)
    masks = np.load(smoke_dataset / "masks.npy")
    assert angles.shape == (64,) and np.all((angles >= 0) & (angles < 90))
    assert images.shape == compare.shape == (64, 24, 24) and found.shape == (64, 3)
    assert set(np.load(smoke_dataset / "cubes_digits.npy").tolist()) == {5}
    assert set(np.load(smoke_dataset / "cubes_compare_digits.npy").tolist()) == {9}
    assert manifest["cube_slots"] == ["top", "side_a", "side_b"]
    contexts = manifest["contexts"]
    slots = slot_yaws(angles)
    assert np.all(found[:, 0] >= 0)  # the top is always in view
    for k in range(64):
        for j, face in enumerate(("top", "side", "side")):
            if found[k, j] < 0:
                # a side hides only while nearly edge-on: A near 90 degrees, B near 0
                assert (j == 1 and angles[k] > 80) or (j == 2 and angles[k] < 10), (k, j, angles[k])
                continue
            ctx = contexts[found[k, j]]
            assert ctx["face"] == face
            assert abs((slots[k, j] - ctx["yaw_deg"] + 180) % 360 - 180) < 3.0
        for image in (images[k], compare[k]):
            union = masks[found[k][found[k] >= 0]].max(0)
            assert image.sum() > 0 and (image * union).sum() / image.sum() > 0.8


def test_previews_exist(smoke_dataset):
    for name in ("contexts.png", "masks.png", "cubes.png"):
        data = (smoke_dataset / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", data[16:24])
        assert width >= 300 and height >= 200, name


@pytest.mark.slow
def test_same_seed_gives_same_bytes_and_a_rerun_is_a_no_op(mnist_root, smoke_dataset, tmp_path):
    again = tmp_path / "again"
    assert generate(mnist_root, again).returncode == 0
    first = runfolder.read_manifest(smoke_dataset, "dataset")["sha256"]
    second = runfolder.read_manifest(again, "dataset")["sha256"]
    assert first.pop("config.yaml") != second.pop("config.yaml")  # it names its own out folder
    assert first == second
    before = (again / "manifest.json").read_text()
    rerun = generate(mnist_root, again)
    assert rerun.returncode == 0 and "nothing to do" in rerun.stderr
    assert (again / "manifest.json").read_text() == before


@pytest.mark.slow
def test_another_seed_gives_other_digits(mnist_root, smoke_dataset, tmp_path):
    other = tmp_path / "other"
    assert generate(mnist_root, other, "seed=1", "digits.train=20", "digits.test=5", "cubes.count=4").returncode == 0
    assert not np.array_equal(np.load(other / "train_indices.npy"), np.load(smoke_dataset / "train_indices.npy")[:20])


@pytest.mark.slow
def test_refuses_an_out_folder_holding_a_different_dataset(mnist_root, smoke_dataset):
    before = {p.name: p.stat().st_mtime_ns for p in smoke_dataset.iterdir()}
    result = generate(mnist_root, smoke_dataset, "seed=7")
    assert_one_line_error(result, "already holds a different dataset", "run.overwrite=true", code=1)
    assert {p.name: p.stat().st_mtime_ns for p in smoke_dataset.iterdir()} == before


def test_half_finished_folder_is_refused_by_readers(smoke_dataset, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("config.yaml", "train_images.npy", "masks.npy"):
        (broken / name).write_bytes((smoke_dataset / name).read_bytes())
    with pytest.raises(DataError, match="no manifest.json"):
        runfolder.read_manifest(broken, "dataset")


BAD = [
    ("digits.train=0", "digits.train"),
    ("digits.test=-3", "digits.test"),
    ("render.size=0", "render.size"),
    ("render.chunk=0", "render.chunk"),
    ("render.supersample=0", "render.supersample"),
    ("cubes.count=0", "cubes.count"),
    ("cubes.digit=10", "cubes.digit"),
    ("cubes.compare_digit=-1", "cubes.compare_digit"),
    ("cubes.split=validation", "cubes.split"),
    ("contexts.n_side=0", "contexts.n_side"),
    ("contexts.n_top=-1", "contexts.n_top"),
    ("camera.fov_deg=12", "camera.fov_deg"),
    ("camera.distance=0.5", "camera.distance"),
    ("camera.elevation_deg=95", "camera.elevation_deg"),
    ("render.backend=magic", "render.backend"),
]


@pytest.mark.parametrize("override,fragment", BAD)
def test_validate_names_the_bad_key(override, fragment):
    with pytest.raises(ConfigError, match=fragment.replace(".", r"\.")) as info:
        compose("generate-cubes", "preset=smoke", override)
    assert "\n" not in str(info.value)


@pytest.mark.slow
@pytest.mark.parametrize("override,fragment", [BAD[0], BAD[6], BAD[11]])
def test_bad_inputs_are_one_line_errors(tmp_path, override, fragment):
    out = tmp_path / "never"
    result = run_sla("generate-cubes", "preset=smoke", f"run.out={out}", override)
    assert_one_line_error(result, fragment, code=2)
    assert not out.exists()


@pytest.mark.slow
def test_missing_mnist_is_a_one_line_error(tmp_path):
    out = tmp_path / "ds"
    result = run_sla("generate-cubes", "preset=smoke", f"run.out={out}", f"run.data_root={tmp_path / 'nowhere'}")
    assert_one_line_error(result, "MNIST not found", code=1)
    assert not (out / "manifest.json").exists()
