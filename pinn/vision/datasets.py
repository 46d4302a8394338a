"""Image data sets as uint8 tensors: scikit-learn's 8x8 digits, Fashion-MNIST (IDX) and CIFAR-10.

Every loader returns an :class:`ImageSet` with images ``(n, C, H, W)`` uint8 in [0, 255] and labels
``(n,)`` int64; the network's first layer does the float conversion and normalisation. Files are read as
raw bytes (IDX, CIFAR binary) or, for CIFAR's python archive, with an unpickler that only admits numpy's
array constructors, so no code from a data file is ever executed.
"""

from __future__ import annotations

import gzip
import pickle
import shutil
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from pinn.errors import PinnError
from pinn.vision.download import cache_dir, download, extract_tar, one_line
from pinn.vision.names import DatasetName

FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
# md5 of the official gzip files, from the Fashion-MNIST README (zalandoresearch/fashion-mnist).
FASHION_MNIST_FILES = {
    "train-images-idx3-ubyte": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte": "bb300cfdad3c16e7a12a480ee83cd310",
}
FASHION_MNIST_SYSTEM_DIRS = (Path("/usr/share/datasets/fashion-mnist"),)  # Debian's dataset-fashion-mnist
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                         "Sneaker", "Bag", "Ankle boot")

# The official archive and md5 from https://www.cs.toronto.edu/~kriz/cifar.html
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
CIFAR10_MD5 = "c32a1d4ab5d03f1284b67883e8d87530"
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CIFAR10_TRAIN_BATCHES = tuple(f"data_batch_{k}" for k in range(1, 6))
CIFAR10_RECORD = 1 + 3 * 32 * 32  # label byte, then the R, G and B planes of 32 x 32 pixels


@dataclass(frozen=True)
class ImageSet:
    """Train and test images of one data set.

    x_train: (n, C, H, W) uint8; y_train: (n,) int64 in [0, n_classes); likewise x_test, y_test.
    """

    name: DatasetName
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    class_names: tuple[str, ...]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        return tuple(self.x_train.shape[1:])  # type: ignore[return-value]

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


# ---------------------------------------------------------------------------------------------- digits

def load_digits(split_seed: int = 0, test_fraction: float = 0.2) -> ImageSet:
    """scikit-learn's 1,797 8x8 handwritten digits, split stratified 80/20 with ``split_seed`` (as in the notes).

    The 17 grey levels 0..16 are scaled to 0..255.
    """
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    bunch = sklearn_digits()
    images = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)[:, None]  # (1797, 1, 8, 8)
    labels = bunch.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(images, labels, test_size=test_fraction, stratify=labels,
                                              random_state=split_seed)
    return ImageSet(DatasetName.digits, torch.from_numpy(x_tr), torch.from_numpy(y_tr),
                    torch.from_numpy(x_te), torch.from_numpy(y_te), tuple(str(k) for k in range(10)))


# ----------------------------------------------------------------------------------------- Fashion-MNIST

_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (gzipped or raw): magic ``00 00 <type> <ndim>``, ndim big-endian int32 sizes, data.

    Raises :class:`PinnError` for a bad magic number, a truncated file or trailing bytes.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise PinnError(f"{path} is not a readable IDX file ({type(exc).__name__}: {one_line(exc)})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES or raw[3] == 0:
        raise PinnError(f"{path} is not an IDX file (bad magic number {raw[:4].hex()})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    dims = tuple(int(d) for d in np.frombuffer(raw[4:header], dtype=">i4")) if len(raw) >= header else ()
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    if len(dims) != ndim or len(raw) != header + int(np.prod(dims)) * dtype.itemsize:
        raise PinnError(f"{path} is truncated or corrupt: the header promises shape {dims} "
                        f"but the file holds {len(raw)} bytes")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def _idx_file(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def _fashion_folder(data_dir: Path | None, url: str, console) -> Path:
    """Where the four IDX files are: ``data_dir``, else the cache, else Debian's folder, else downloaded."""
    if data_dir is not None:
        data_dir = Path(data_dir)
        if not data_dir.is_dir():
            raise PinnError(f"data folder {data_dir} does not exist")
        missing = [s for s in FASHION_MNIST_FILES if _idx_file(data_dir, s) is None]
        if missing:
            raise PinnError(f"data folder {data_dir} lacks the Fashion-MNIST files {', '.join(missing)}(.gz)")
        return data_dir
    cached = cache_dir() / "fashion-mnist"
    for folder in (cached, *FASHION_MNIST_SYSTEM_DIRS):
        if all(_idx_file(folder, s) is not None for s in FASHION_MNIST_FILES):
            return folder
    for stem, md5 in FASHION_MNIST_FILES.items():
        download(url.rstrip("/") + f"/{stem}.gz", cached / f"{stem}.gz", md5, console=console)
    return cached


def load_fashion_mnist(data_dir: Path | None = None, url: str = FASHION_MNIST_URL, console=None) -> ImageSet:
    """Fashion-MNIST: 60,000 train and 10,000 test 28x28 grey images of 10 kinds of clothing."""
    folder = _fashion_folder(data_dir, url, console)
    arrays = {s: read_idx(_idx_file(folder, s)) for s in FASHION_MNIST_FILES}  # type: ignore[arg-type]
    x_tr, y_tr = arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"]
    x_te, y_te = arrays["t10k-images-idx3-ubyte"], arrays["t10k-labels-idx1-ubyte"]
    for x, y, kind in ((x_tr, y_tr, "train"), (x_te, y_te, "t10k")):
        if x.ndim != 3 or y.ndim != 1 or x.shape[0] != y.shape[0] or x.dtype != np.uint8:
            raise PinnError(f"Fashion-MNIST {kind} files in {folder} disagree: images {x.shape} {x.dtype}, "
                            f"labels {y.shape}")
        if y.size and int(y.max()) >= len(FASHION_MNIST_CLASSES):
            raise PinnError(f"Fashion-MNIST {kind} labels in {folder} exceed 9: the file is corrupt")
    return ImageSet(DatasetName.fashion_mnist, torch.from_numpy(x_tr[:, None].copy()),
                    torch.from_numpy(y_tr.astype(np.int64)), torch.from_numpy(x_te[:, None].copy()),
                    torch.from_numpy(y_te.astype(np.int64)), FASHION_MNIST_CLASSES)


# ------------------------------------------------------------------------------------------------ CIFAR-10

def read_cifar_binary(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 binary batch: records of 1 label byte + 3072 pixel bytes -> x (n, 3, 32, 32) uint8, y (n,)."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % CIFAR10_RECORD:
        raise PinnError(f"{path} is truncated or corrupt: {raw.size} bytes is not a multiple of the "
                        f"{CIFAR10_RECORD}-byte CIFAR-10 record")
    records = raw.reshape(-1, CIFAR10_RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() >= len(CIFAR10_CLASSES):
        raise PinnError(f"{path} is corrupt: label {labels.max()} outside 0..9")
    return records[:, 1:].reshape(-1, 3, 32, 32).copy(), labels


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Unpickler that builds numpy arrays and nothing else (CIFAR's python batches need only these)."""

    allowed = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar")}

    def find_class(self, module: str, name: str):
        if (module, name) not in self.allowed:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        try:
            from numpy._core import multiarray  # numpy >= 2
        except ImportError:  # pragma: no cover - numpy 1.x
            from numpy.core import multiarray
        return {"ndarray": np.ndarray, "dtype": np.dtype}.get(name) or getattr(multiarray, name)


def read_cifar_python(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 python batch (a pickled dict with b'data' (n, 3072) uint8 and b'labels'), safely."""
    try:
        with open(path, "rb") as handle:
            batch = _ArrayOnlyUnpickler(handle, encoding="bytes").load()
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PinnError(f"{path} is not a valid CIFAR-10 python batch ({one_line(exc)})") from None
    if data.ndim != 2 or data.shape[1] != 3072 or labels.shape != (data.shape[0],):
        raise PinnError(f"{path} is corrupt: data {data.shape}, labels {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= len(CIFAR10_CLASSES)):
        raise PinnError(f"{path} is corrupt: labels outside 0..9")
    return data.reshape(-1, 3, 32, 32), labels


def _cifar_batches(folder: Path) -> tuple[list[Path], Path, object] | None:
    """The 5 train batches, the test batch and the reader, if ``folder`` holds a complete set."""
    for suffix, reader in ((".bin", read_cifar_binary), ("", read_cifar_python)):
        train = [folder / f"{b}{suffix}" for b in CIFAR10_TRAIN_BATCHES]
        test = folder / f"test_batch{suffix}"
        if all(p.is_file() for p in train) and test.is_file():
            return train, test, reader
    return None


def _find_cifar(folder: Path) -> tuple[list[Path], Path, object] | None:
    for candidate in (folder, folder / "cifar-10-batches-bin", folder / "cifar-10-batches-py"):
        found = _cifar_batches(candidate)
        if found:
            return found
    return None


def _cifar_from_archive(archive: Path, downloaded: bool) -> tuple[list[Path], Path, object]:
    """Extract ``archive`` into the cache (once) and find the batches; a downloaded archive that turns out
    unusable is deleted so that the next run fetches it again (a user's own copy is never touched)."""
    target = cache_dir() / "cifar10" / ("extracted-" + archive.name.split(".")[0])
    found = _find_cifar(target) if target.is_dir() else None
    if found:
        return found
    try:
        extract_tar(archive, target)
        found = _find_cifar(target)
        if not found:
            shutil.rmtree(target, ignore_errors=True)
            raise PinnError(f"archive {archive} lacks the CIFAR-10 batches (data_batch_1..5, test_batch)")
    except PinnError:
        if downloaded:
            archive.unlink(missing_ok=True)
        raise
    return found


def load_cifar10(data_dir: Path | None = None, url: str = CIFAR10_URL, md5: str | None = CIFAR10_MD5,
                 console=None) -> ImageSet:
    """CIFAR-10: 50,000 train and 10,000 test 32x32 colour images in 10 classes.

    ``data_dir`` may hold the batches (binary or python version, directly or in their archive folder) or
    the archive itself; without it the binary archive is downloaded to the cache, md5-checked and extracted.
    """
    if data_dir is not None:
        data_dir = Path(data_dir)
        if not data_dir.exists():
            raise PinnError(f"data folder {data_dir} does not exist")
        archives = [data_dir] if data_dir.is_file() else \
            [data_dir / n for n in ("cifar-10-binary.tar.gz", "cifar-10-python.tar.gz") if (data_dir / n).is_file()]
        found = _find_cifar(data_dir) if data_dir.is_dir() else None
        if not found and archives:
            found = _cifar_from_archive(archives[0], downloaded=False)
        if not found:
            raise PinnError(f"{data_dir} holds neither the CIFAR-10 batches nor cifar-10-binary.tar.gz")
    else:
        archive = download(url, cache_dir() / "cifar10" / Path(url).name, md5, console=console)
        found = _cifar_from_archive(archive, downloaded=True)
    train_files, test_file, reader = found
    parts = [reader(p) for p in train_files]  # type: ignore[operator]
    x_te, y_te = reader(test_file)  # type: ignore[operator]
    x_tr = np.concatenate([p[0] for p in parts])
    y_tr = np.concatenate([p[1] for p in parts])
    return ImageSet(DatasetName.cifar10, torch.from_numpy(x_tr), torch.from_numpy(y_tr), torch.from_numpy(x_te),
                    torch.from_numpy(y_te), CIFAR10_CLASSES)


def load_images(name: DatasetName, data_dir: Path | None = None, split_seed: int = 0, console=None) -> ImageSet:
    """The named data set (``split_seed`` only matters for digits, whose test split is drawn)."""
    name = DatasetName(name)
    if name is DatasetName.digits:
        if data_dir is not None:
            raise PinnError("digits ship with scikit-learn: drop --data-dir")
        return load_digits(split_seed)
    if name is DatasetName.fashion_mnist:
        return load_fashion_mnist(data_dir, console=console)
    return load_cifar10(data_dir, console=console)


def data_source(name: DatasetName, data_dir: Path | None = None) -> str:
    """Where ``load_images`` would read the data set from, checked without reading or downloading it:
    'scikit-learn', a local folder, the cache, or the URL to download. PinnError for an unusable
    ``data_dir`` (missing, or lacking the files)."""
    name = DatasetName(name)
    if name is DatasetName.digits:
        if data_dir is not None:
            raise PinnError("digits ship with scikit-learn: drop --data-dir")
        return "scikit-learn"
    if data_dir is not None and "\x00" in str(data_dir):
        raise PinnError(f"data folder {str(data_dir)!r} contains a NUL character")
    if name is DatasetName.fashion_mnist:
        if data_dir is not None:
            return str(_fashion_folder(data_dir, FASHION_MNIST_URL, None))
        for folder in (cache_dir() / "fashion-mnist", *FASHION_MNIST_SYSTEM_DIRS):
            if all(_idx_file(folder, s) is not None for s in FASHION_MNIST_FILES):
                return str(folder)
        return f"download from {FASHION_MNIST_URL}"
    if data_dir is not None:
        data_dir = Path(data_dir)
        if not data_dir.exists():
            raise PinnError(f"data folder {data_dir} does not exist")
        archives = [n for n in ("cifar-10-binary.tar.gz", "cifar-10-python.tar.gz") if (data_dir / n).is_file()]
        if data_dir.is_dir() and not _find_cifar(data_dir) and not archives:
            raise PinnError(f"{data_dir} holds neither the CIFAR-10 batches nor cifar-10-binary.tar.gz")
        return str(data_dir)
    archive = cache_dir() / "cifar10" / Path(CIFAR10_URL).name
    return str(archive) if archive.is_file() else f"download from {CIFAR10_URL}"


NOMINAL_SIZES = {DatasetName.digits: (1437, 360, (1, 8, 8)), DatasetName.fashion_mnist: (60000, 10000, (1, 28, 28)),
                 DatasetName.cifar10: (50000, 10000, (3, 32, 32))}
"""(train images, test images, image shape) of each data set as published (digits: the 80/20 split)."""


def check_image_counts(images: ImageSet, val_fraction: float) -> None:
    """PinnError unless there are images to train on, to validate on (when ``val_fraction`` > 0) and to
    test on: a data folder with zero or one image is refused here, not deep inside a split."""
    import math

    n_train, n_test = len(images.y_train), len(images.y_test)
    n_val = math.ceil(val_fraction * n_train) if val_fraction > 0 else 0
    if n_train - n_val < 1 or n_train < 2 or n_test < 1:
        raise PinnError(f"{images.name.value}: {n_train} training and {n_test} test images are too few (with "
                        f"--val-fraction {val_fraction:g}, {n_val} go to validation); a run needs at least 2 "
                        "training images and 1 test image")


def split_validation(x: torch.Tensor, y: torch.Tensor, fraction: float, seed: int,
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Hold out a stratified ``fraction`` of (x, y) for validation: returns x_fit, y_fit, x_val, y_val.

    Falls back to an unstratified seeded split when some class has too few images to be stratified."""
    if fraction <= 0:
        return x, y, x[:0], y[:0]
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    labels = y.cpu().numpy()
    try:
        fit, val = train_test_split(idx, test_size=fraction, stratify=labels, random_state=seed)
    except ValueError:  # a class too rare to appear on both sides (tiny data sets): plain random split
        fit, val = train_test_split(idx, test_size=fraction, random_state=seed)
    fit, val = torch.from_numpy(np.sort(fit)), torch.from_numpy(np.sort(val))
    return x[fit], y[fit], x[val], y[val]


def describe(images: ImageSet) -> str:
    """One line: name, sizes and image shape."""
    c, h, w = images.image_shape
    return (f"{images.name.value}: {len(images.y_train)} train / {len(images.y_test)} test images of "
            f"{c}x{h}x{w}, {images.n_classes} classes")


__all__: Sequence[str] = ("DatasetName", "ImageSet", "load_images", "load_digits", "load_fashion_mnist",
                          "load_cifar10", "read_idx", "read_cifar_binary", "read_cifar_python",
                          "split_validation", "describe")
