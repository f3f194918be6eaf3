"""Write the small data-set sample the tests use on machines without the full data set.

tests/fixtures/fashion_mnist_test_sample.npz holds the first 1,000 images and labels of the
official Fashion-MNIST TEST set (held-out images only, never training data), as uint8 arrays
``x_test`` (N, 28, 28) and ``y_test`` (N,). Fashion-MNIST is MIT-licensed (Zalando Research).
Generated from the Debian package dataset-fashion-mnist; the tests that have the full data set
check that the sample still equals its first test images. Run:
`python scripts/make_test_fixtures.py` (the output is byte-for-byte reproducible).
"""
from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from core.tasks.image_classification.data import load_fashion  # noqa: E402

OUT = REPO_ROOT / "tests" / "fixtures" / "fashion_mnist_test_sample.npz"
COUNT = 1000


def save_npz(path: Path, **arrays: np.ndarray) -> None:
    """Like np.savez_compressed, but with fixed zip timestamps so a rerun gives identical bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w") as handle:
                np.lib.format.write_array(handle, np.ascontiguousarray(array), allow_pickle=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=COUNT, help="how many of the first test images to keep")
    args = parser.parse_args()
    fashion = load_fashion()
    x_test = fashion.x_test[: args.count].astype(np.uint8)
    y_test = fashion.y_test[: args.count].astype(np.uint8)
    save_npz(OUT, x_test=x_test, y_test=y_test)
    print(f"wrote {OUT.relative_to(REPO_ROOT)}: {len(y_test)} test images, {OUT.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
