"""Issue 9, before any work: NaN and infinity in a config, out that is an input, a file or
unwritable, run.device=cuda in a sweep, unquoted paths Hydra cannot parse, memory a run cannot have,
and MNIST files that are corrupt, unreadable or missing. Each is one line, no folder made."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
import torch

from data_gen import mnist
from data_gen.errors import InputDataError
from helpers.stages import compose, run_stage
from sla_cli import memory
from sla_cli.commands import BY_NAME
from sla_cli.errors import ConfigError, DataError
from sla_cli.hydra_app import _environment_error, check_out, precheck


@pytest.mark.parametrize(
    "command, override, key",
    [
        ("train", "train.lr=nan", "train.lr=nan"),
        ("train", "train.cross_weight=inf", "train.cross_weight=inf"),
        ("generate-cubes", "camera.distance=inf", "camera.distance=inf"),
        ("classify", "classify.adversarial.eps=[0.1,nan]", "classify.adversarial.eps[1]=nan"),
    ],
)
def test_nan_or_infinity_anywhere_in_a_config_is_refused(command, override, key):
    with pytest.raises(ConfigError, match="must be a finite number") as e:
        compose(command, "dataset_dir=x", override) if command == "train" else compose(command, override)
    assert key in str(e.value)


def test_out_equal_to_an_input_folder_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="is the input folder dataset_dir"):
        compose("train", f"dataset_dir={tmp_path}", f"run.out={tmp_path}/.")


def test_out_that_is_a_file_or_unwritable_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        check_out(str(tmp_path / "file"))
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        check_out(str(tmp_path / "file" / "below"))
    with pytest.raises(ConfigError, match="cannot be written"):
        check_out("/proc/x")
    check_out(str(tmp_path / "new" / "deeper"))
    assert not (tmp_path / "new").exists() and [p.name for p in tmp_path.iterdir()] == ["file"]


def test_out_on_a_read_only_mount_is_refused(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    if not _mount(ro, "ro,size=64k"):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        with pytest.raises(ConfigError, match="Read-only file system"):
            check_out(str(ro / "run"))
    finally:
        _umount(ro)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_device_cuda_in_any_sweep_job_fails_before_the_first(tmp_path):
    with pytest.raises(ConfigError, match="run.device=cuda but no CUDA device"):
        precheck(BY_NAME["generate-cubes"], [f"run.out={tmp_path}/sweep", "run.device=cpu,cuda", "preset=smoke"], True)
    assert not (tmp_path / "sweep").exists()


@pytest.mark.parametrize("override", ["run.out=données", "run.out=my dir (1)"])
def test_paths_hydra_cannot_parse_get_a_quoting_hint(override):
    with pytest.raises(ConfigError, match="bad override") as e:
        precheck(BY_NAME["classify"], [override], False)
    key, _, val = override.partition("=")
    assert f"\"{key}='{val}'\"" in str(e.value)


@pytest.mark.parametrize(
    "overrides, part",
    [
        (("model.hidden=100000000",), "model.hidden"),
        (("train.batch_size=1000000000",), "train.batch_size"),
    ],
)
def test_train_sizes_memory_cannot_hold_are_refused_before_any_folder(tmp_path, overrides, part):
    data = tmp_path / "data"
    data.mkdir()
    (data / "manifest.json").write_text('{"n_contexts": 100, "image_size": 32, "counts": {"train": 3000}}')
    with pytest.raises(ConfigError, match=f"needs about .* for .*{part}.* of RAM is available"):
        run_stage("train", "preset=smoke", f"dataset_dir={data}", *overrides, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_render_sizes_memory_cannot_hold_are_refused(tmp_path):
    cfg = compose("generate-cubes", "preset=smoke", "render.size=512", "render.chunk=100000")
    with pytest.raises(ConfigError, match="render.chunk"):
        memory.check("generate-cubes", cfg, torch.device("cpu"))
    with pytest.raises(ConfigError, match="render.size"):
        memory.check("generate-cubes", compose("generate-cubes", "render.size=512"), torch.device("cpu"), have=2**33)


@pytest.mark.parametrize("command", ["generate-cubes", "classify"])
@pytest.mark.parametrize("preset", ["smoke", "demo", "paper"])
def test_every_preset_fits_in_8_gib(command, preset):
    memory.check(command, compose(command, f"preset={preset}"), torch.device("cpu"), have=8 * 2**30)


def test_out_of_memory_is_caught_once_as_a_last_resort(tmp_path):
    assert "out of memory" in str(_environment_error(MemoryError(), tmp_path))
    assert "out of memory" in str(_environment_error(torch.OutOfMemoryError("CUDA out of memory"), tmp_path))
    assert "no space left" in str(_environment_error(OSError(28, "No space left on device"), tmp_path))
    assert _environment_error(RuntimeError("a bug"), tmp_path) is None


# -- MNIST --------------------------------------------------------------------------------------
@pytest.fixture
def mnist_copy(tmp_path, mnist_root):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in mnist.FILES.values():
        src = mnist.find_file(mnist_root, name)
        shutil.copy(src, raw / src.name)
    return tmp_path


def _gz(root: Path, name: str) -> Path:
    return root / "MNIST" / "raw" / f"{name}.gz"


def test_a_corrupt_compressed_block_is_one_line(mnist_copy):
    path = _gz(mnist_copy, "t10k-labels-idx1-ubyte")
    if not path.exists():
        pytest.skip("the shared MNIST is not gzipped")
    data = bytearray(path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = bytes(64)  # zeros in the middle of the deflate stream
    path.write_bytes(bytes(data))
    with pytest.raises(InputDataError, match="truncated or corrupt") as e:
        mnist.load_split(mnist_copy, "test")
    assert "t10k-labels" in str(e.value)
    path.write_bytes(path.read_bytes()[: len(data) // 3])  # cut short: EOFError
    with pytest.raises(InputDataError, match="truncated or corrupt"):
        mnist.load_split(mnist_copy, "test")


@pytest.mark.parametrize("command", ["generate-cubes", "classify"])
def test_corrupt_mnist_fails_the_stage_in_one_line_and_leaves_no_folder(mnist_copy, tmp_path, command):
    path = _gz(mnist_copy, "train-labels-idx1-ubyte")
    if not path.exists():
        pytest.skip("the shared MNIST is not gzipped")
    path.write_bytes(gzip.compress(b"x" * 100)[:-12] + bytes(12))  # a bad CRC and length
    out = tmp_path / "out"
    with pytest.raises(InputDataError, match="train-labels-idx1-ubyte.gz is truncated or corrupt"):
        run_stage(command, "preset=smoke", f"run.data_root={mnist_copy}", out=out)
    assert not out.exists()


def test_permission_denied_is_reported_as_such(mnist_copy, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(mnist.gzip, "open", refuse)  # root reads any file: simulate a user who cannot
    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(InputDataError, match="cannot be read: permission denied"):
        mnist.load_split(mnist_copy, "test")


def test_a_missing_file_is_named_alone(mnist_copy):
    path = mnist.find_file(mnist_copy, "t10k-images-idx3-ubyte")
    path.unlink()
    with pytest.raises(InputDataError) as e:
        mnist.load_split(mnist_copy, "test")
    message = str(e.value)
    assert "need t10k-images-idx3-ubyte (gzip or raw)" in message
    assert all(other not in message for other in mnist.FILES.values() if other != "t10k-images-idx3-ubyte")


# -- tmpfs helpers (also used by the disk-full tests) -----------------------------------------------
def _mount(folder: Path, options: str) -> bool:
    import subprocess

    return (
        subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True).returncode
        == 0
    )


def _umount(folder: Path) -> None:
    import subprocess

    subprocess.run(["umount", str(folder)], capture_output=True)


def test_environment_error_names_unreadable_paths(tmp_path):
    error = _environment_error(PermissionError(13, "Permission denied", str(tmp_path / "x")), tmp_path)
    assert isinstance(error, DataError) and str(error) == f"{tmp_path / 'x'}: Permission denied"
