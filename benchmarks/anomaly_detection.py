"""Fit + score time of every detector on tables of growing size, a whole request on the largest
uploads the limits allow, and concurrent requests answering exactly as a request alone.

    python benchmarks/anomaly_detection.py            # everything (a few minutes on 2 cores)
    python benchmarks/anomaly_detection.py --quick    # small tables and the concurrency check only

1. Synthetic tables (Gaussian rows with 1 % shifted rows): the time of detectors.fit_score
   (fit, with the tab's subsample bounds, and a score for every row), one BLAS / torch thread as
   in the app's workers.
2. A whole request (AnomalyDetector.serve: read the CSV, detect columns, fit, explain, write the
   scored CSV) on the largest tables a 20 MB upload holds: 100,000 rows x 20 columns and
   10,000 rows x 200 columns.
3. Concurrency: the same requests from 4 threads at once give the same scores as one at a time
   (the AutoEncoder's global random state is behind a lock; every other detector is built per call).
"""
from __future__ import annotations

import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.settings import apply_offline_defaults  # noqa: E402

apply_offline_defaults()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from core.registry import TASKS  # noqa: E402
from core.tasks.anomaly_detection.adapter import AnomalyDetector, load_config  # noqa: E402
from core.tasks.anomaly_detection.detectors import VARIANTS, fit_score  # noqa: E402

SPEC = TASKS["anomaly_detection"]


def synthetic(n: int, d: int, seed: int = 0) -> np.ndarray:
    """Standard normal rows, 1 % of them shifted by 4 in every feature, already scaled."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    X[rng.choice(n, max(1, n // 100), replace=False)] += 4.0
    return X


def growing_sizes(sizes: list[tuple[int, int]]) -> None:
    config = load_config(SPEC.model_dir)
    for variant in VARIANTS:  # imports (sklearn, torch) and numba compilation, untimed
        fit_score(variant, synthetic(64, 3), config)
    print(f"{'rows x features':>16s} " + " ".join(f"{v:>12s}" for v in VARIANTS) + "   (ms: fit + score every row)")
    for n, d in sizes:
        X = synthetic(n, d)
        cells = []
        for variant in VARIANTS:
            start = time.perf_counter()
            fit_score(variant, X, config)
            cells.append((time.perf_counter() - start) * 1000)
        print(f"{n:>9,} x {d:<4d} " + " ".join(f"{c:12,.0f}" for c in cells), flush=True)


def whole_requests(variants: tuple[str, ...]) -> None:
    config = load_config(SPEC.model_dir)
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        tables = {"100k_rows_22_columns.csv": (100_000, 20), "10k_rows_200_columns.csv": (10_000, 198)}  # + id, site
        for name, (n, d) in tables.items():
            frame = pd.DataFrame(synthetic(n, d, 1).round(4), columns=[f"x{i}" for i in range(d)])
            frame.insert(0, "id", np.arange(n))
            frame["site"] = rng.choice(["north", "south", "east"], size=n)
            frame.to_csv(folder / name, index=False)
        print(f"\n{'whole request':28s} {'MB':>5s} " + " ".join(f"{v:>12s}" for v in variants) + "   (ms, one run)")
        for name in tables:
            path = folder / name
            cells = []
            for variant in variants:
                start = time.perf_counter()
                AnomalyDetector(config, variant).serve(str(path), None, csv_path=str(folder / "out.csv"))
                cells.append((time.perf_counter() - start) * 1000)
            print(f"{name:28s} {path.stat().st_size / 2**20:5.1f} " + " ".join(f"{c:12,.0f}" for c in cells), flush=True)


def concurrency(variants: tuple[str, ...] = ("auto", "knn", "autoencoder", "iforest"), dataset: str = "wbc",
                users: int = 4) -> bool:
    """Each variant: the scores of `users` simultaneous requests equal those of one request alone."""
    config = load_config(SPEC.model_dir)
    ok = True
    print(f"\nconcurrency: {users} simultaneous requests per detector on {dataset}")
    for variant in variants:
        alone = AnomalyDetector(config, variant).serve(None, dataset).scores
        with ThreadPoolExecutor(users) as pool:
            together = list(pool.map(lambda _: AnomalyDetector(config, variant).serve(None, dataset).scores,
                                     range(users)))
        same = all(np.array_equal(alone, scores) for scores in together)
        ok &= same
        print(f"  {variant:12s} {'identical' if same else 'DIFFERENT'} to a request alone")
    return ok


def main() -> int:
    quick = "--quick" in sys.argv
    import torch

    torch.set_num_threads(1)
    with threadpool_limits(1):
        sizes = [(1_000, 10), (10_000, 10)] if quick else [(1_000, 10), (10_000, 10), (10_000, 50), (100_000, 10),
                                                           (100_000, 20), (10_000, 200)]
        growing_sizes(sizes)
        if not quick:
            whole_requests(VARIANTS)
        return 0 if concurrency() else 1


if __name__ == "__main__":
    sys.exit(main())
