"""Image loaders on small synthetic files in the exact official formats (IDX, CIFAR-10 binary and python)."""

from __future__ import annotations

import gzip
import io
import os
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from pinn.errors import PinnError
from pinn.vision import datasets
from pinn.vision.datasets import (
    DatasetName,
    load_cifar10,
    load_digits,
    load_fashion_mnist,
    read_cifar_binary,
    read_cifar_python,
    read_idx,
    split_validation,
)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def idx_bytes(array: np.ndarray) -> bytes:
    """IDX encoding: 00 00 <type 0x08 = ubyte> <ndim>, big-endian int32 sizes, then the bytes."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">i", d) for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_fashion(folder: Path, rng: np.random.Generator, n_train: int = 30, n_test: int = 10,
                  compress: bool = True) -> dict[str, np.ndarray]:
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
              "train-labels-idx1-ubyte": np.arange(n_train) % 10,
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
              "t10k-labels-idx1-ubyte": (np.arange(n_test) * 3) % 10}
    for stem, array in arrays.items():
        raw = idx_bytes(array)
        if compress:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / stem).write_bytes(raw)
    return arrays


def cifar_records(rng: np.random.Generator, n: int) -> tuple[bytes, np.ndarray, np.ndarray]:
    """n CIFAR-10 binary records: label byte + 1024 R + 1024 G + 1024 B bytes."""
    labels = rng.integers(0, 10, n).astype(np.uint8)
    pixels = rng.integers(0, 256, (n, 3072)).astype(np.uint8)
    raw = np.concatenate([labels[:, None], pixels], axis=1).tobytes()
    return raw, labels, pixels


def cifar_binary_archive(path: Path, rng: np.random.Generator, per_batch: int = 4) -> dict[str, tuple]:
    """A tar.gz laid out like cifar-10-binary.tar.gz, with ``per_batch`` images per batch file."""
    content = {}
    with tarfile.open(path, "w:gz") as tar:
        for name in [f"data_batch_{k}.bin" for k in range(1, 6)] + ["test_batch.bin"]:
            raw, labels, pixels = cifar_records(rng, per_batch)
            content[name] = (labels, pixels)
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
        meta = "\n".join(datasets.CIFAR10_CLASSES).encode()
        info = tarfile.TarInfo("cifar-10-batches-bin/batches.meta.txt")
        info.size = len(meta)
        tar.addfile(info, io.BytesIO(meta))
    return content


def test_idx_reader_returns_shapes_dtype_and_values(tmp_path, rng):
    arrays = write_fashion(tmp_path / "gz", rng)
    write_fashion(tmp_path / "raw", np.random.default_rng(7), compress=False)
    for folder, suffix in ((tmp_path / "gz", ".gz"), (tmp_path / "raw", "")):
        images = read_idx(folder / f"train-images-idx3-ubyte{suffix}")
        labels = read_idx(folder / f"train-labels-idx1-ubyte{suffix}")
        assert images.shape == (30, 28, 28) and images.dtype == np.uint8
        np.testing.assert_array_equal(images, arrays["train-images-idx3-ubyte"])
        np.testing.assert_array_equal(labels, np.arange(30) % 10)


@pytest.mark.parametrize("damage", ["truncate", "magic", "gzip"])
def test_idx_reader_refuses_corrupt_files(tmp_path, rng, damage):
    raw = idx_bytes(rng.integers(0, 256, (5, 28, 28)))
    path = tmp_path / "x-idx3-ubyte.gz"
    if damage == "truncate":
        path.write_bytes(gzip.compress(raw[:-100]))
    elif damage == "magic":
        path.write_bytes(gzip.compress(b"\x12\x34" + raw[2:]))
    else:
        path.write_bytes(gzip.compress(raw)[:-40])
    with pytest.raises(PinnError):
        read_idx(path)


def test_fashion_mnist_from_data_dir(tmp_path, rng):
    arrays = write_fashion(tmp_path, rng)
    images = load_fashion_mnist(tmp_path)
    assert images.name is DatasetName.fashion_mnist
    assert images.x_train.shape == (30, 1, 28, 28) and images.x_train.dtype == torch.uint8
    assert images.y_train.dtype == torch.int64 and images.x_test.shape == (10, 1, 28, 28)
    np.testing.assert_array_equal(images.x_test[:, 0].numpy(), arrays["t10k-images-idx3-ubyte"])
    np.testing.assert_array_equal(images.y_test.numpy(), (np.arange(10) * 3) % 10)
    assert images.class_names[9] == "Ankle boot"


def test_fashion_mnist_is_found_in_the_cache_before_the_system_folder(tmp_path, rng, monkeypatch):
    monkeypatch.setenv("PINN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(datasets, "FASHION_MNIST_SYSTEM_DIRS", (tmp_path / "system",))
    write_fashion(tmp_path / "system", rng, n_train=20)
    assert len(load_fashion_mnist().y_train) == 20
    write_fashion(tmp_path / "cache" / "fashion-mnist", rng, n_train=40)
    assert len(load_fashion_mnist().y_train) == 40


def test_fashion_mnist_missing_folder_or_files_is_a_user_error(tmp_path, rng):
    with pytest.raises(PinnError, match="does not exist"):
        load_fashion_mnist(tmp_path / "nowhere")
    write_fashion(tmp_path, rng)
    os.remove(tmp_path / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(PinnError, match="t10k-labels"):
        load_fashion_mnist(tmp_path)


def test_cifar_binary_batch_is_read_as_rgb_planes(tmp_path, rng):
    raw, labels, pixels = cifar_records(rng, 6)
    (tmp_path / "b.bin").write_bytes(raw)
    x, y = read_cifar_binary(tmp_path / "b.bin")
    assert x.shape == (6, 3, 32, 32) and x.dtype == np.uint8
    np.testing.assert_array_equal(y, labels)
    np.testing.assert_array_equal(x[:, 0].reshape(6, -1), pixels[:, :1024])  # red plane first
    np.testing.assert_array_equal(x[:, 2].reshape(6, -1), pixels[:, 2048:])
    (tmp_path / "cut.bin").write_bytes(raw[:-10])
    with pytest.raises(PinnError, match="truncated"):
        read_cifar_binary(tmp_path / "cut.bin")


def test_cifar_archive_in_data_dir_is_extracted_to_the_cache_and_loaded(tmp_path, rng, monkeypatch):
    monkeypatch.setenv("PINN_CACHE", str(tmp_path / "cache"))
    content = cifar_binary_archive(tmp_path / "cifar-10-binary.tar.gz", rng)
    images = load_cifar10(tmp_path)
    assert images.x_train.shape == (20, 3, 32, 32) and images.x_test.shape == (4, 3, 32, 32)
    assert images.x_train.dtype == torch.uint8 and images.y_train.dtype == torch.int64
    np.testing.assert_array_equal(images.y_train[:4].numpy(), content["data_batch_1.bin"][0])
    np.testing.assert_array_equal(images.y_test.numpy(), content["test_batch.bin"][0])
    assert (tmp_path / "cache" / "cifar10").is_dir()


def test_cifar_python_batches_load_without_running_pickled_code(tmp_path, rng):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    expected = {}
    for name in [f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (3, 3072)).astype(np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, 3)]
        expected[name] = (data, labels)
        (folder / name).write_bytes(pickle.dumps({b"batch_label": b"x", b"labels": labels, b"data": data}))
    images = load_cifar10(tmp_path)
    assert images.x_train.shape == (15, 3, 32, 32)
    np.testing.assert_array_equal(images.x_test.reshape(3, -1).numpy(), expected["test_batch"][0])
    np.testing.assert_array_equal(images.y_test.numpy(), expected["test_batch"][1])

    class Exploit:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    (tmp_path / "evil").write_bytes(pickle.dumps({b"data": Exploit(), b"labels": [0]}))
    with pytest.raises(PinnError, match="refusing"):
        read_cifar_python(tmp_path / "evil")
    assert not (tmp_path / "pwned").exists()


def test_digits_split_is_stratified_80_20_and_seeded():
    a, b = load_digits(0), load_digits(0)
    assert a.x_train.shape == (1437, 1, 8, 8) and a.x_test.shape == (360, 1, 8, 8)
    assert a.x_train.dtype == torch.uint8 and int(a.x_train.max()) == 255
    assert torch.equal(a.y_test, b.y_test)
    assert not torch.equal(a.y_test, load_digits(1).y_test)
    counts = torch.bincount(a.y_test, minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37  # 10 % of each class of ~180, up to rounding


def test_validation_split_is_stratified_and_disjoint():
    images = load_digits(0)
    x_fit, y_fit, x_val, y_val = split_validation(images.x_train, images.y_train, 0.1, seed=3)
    assert len(y_fit) + len(y_val) == 1437 and abs(len(y_val) - 144) <= 1
    assert torch.bincount(y_val, minlength=10).min() >= 13
    rows = {tuple(r.flatten().tolist()) for r in x_val}
    assert sum(tuple(r.flatten().tolist()) in rows for r in x_fit[:200]) < 5  # (digits has a few duplicates)
