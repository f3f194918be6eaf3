"""Request latency of /forecast's core per model and series length (no UI, no network).

    python benchmarks/time_series_forecasting.py            # bundled series + worst cases
    python benchmarks/time_series_forecasting.py --bundled  # bundled series only

Prints the median wall time of Forecaster.forecast (backtest + fit + forecast), the work
one /forecast request does, for each model on each bundled series, horizon 12. Then the
worst cases the input bounds allow (core/tasks/time_series_forecasting/data.py): 20,000
daily or hourly points (MAX_POINTS) with the largest season lengths, horizon 120, the STL
figure, and reading the largest accepted / the oversized uploads.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.settings import apply_offline_defaults  # noqa: E402

apply_offline_defaults()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from core.artifacts import measure_latency_ms  # noqa: E402
from core.errors import InputError  # noqa: E402
from core.registry import TASKS, get_model  # noqa: E402
from core.tasks.time_series_forecasting import data as tsdata  # noqa: E402
from core.tasks.time_series_forecasting.data import BUNDLED, load_bundled  # noqa: E402


def bundled() -> None:
    spec = TASKS["time_series_forecasting"]
    print(f"{'series':16s} {'points':>6s} " + " ".join(f"{v:>15s}" for v in spec.variants) + "   (median ms, horizon 12)")
    for key in BUNDLED:
        series, info = load_bundled(key)
        cells = []
        for variant in spec.variants:
            forecaster = get_model(spec.name, variant)
            cells.append(measure_latency_ms(lambda: forecaster.forecast(series, 12, info.season_length), repeats=3, warmup=1))
        print(f"{key:16s} {len(series):6d} " + " ".join(f"{c:15.0f}" for c in cells))


def synthetic(n: int, freq: str, period: int) -> pd.DataFrame:
    """A noisy trending series with a short and a long season, as an uploaded table."""
    rng = np.random.default_rng(0)
    t = np.arange(n)
    y = 100 + 0.01 * t + 10 * np.sin(2 * np.pi * t / period) + 5 * np.sin(2 * np.pi * t / (52 * period))
    dates = pd.date_range("1970-01-01", periods=n, freq=freq).strftime("%Y-%m-%d %H:%M")
    return pd.DataFrame({"date": dates, "value": y + rng.normal(0, 2, n)})


def worst_forecasts() -> None:
    from demos.time_series_forecasting import decomposition_figure

    spec = TASKS["time_series_forecasting"]
    print(f"\n{'20,000 points':26s} " + " ".join(f"{v:>15s}" for v in spec.variants) + f" {'STL figure':>11s}"
          + "   (ms, horizon 120, one run)")
    for freq, period, season in (("D", 7, 366), ("D", 7, 7), ("D", 7, 0), ("h", 24, 0), ("h", 24, 168)):
        series, info = tsdata.to_series(synthetic(tsdata.MAX_POINTS, freq, period), None, None,
                                        season_length=season or None)
        m = info.season_length
        cells = [measure_latency_ms(lambda: get_model(spec.name, v).forecast(series, 120, m), repeats=1, warmup=0)
                 for v in spec.variants]
        cells.append(measure_latency_ms(lambda: decomposition_figure(series, m), repeats=1, warmup=0))
        label = f"{freq} season {season or 'inferred'} (m={m})"
        print(f"{label:26s} " + " ".join(f"{c:15.0f}" for c in cells))


def worst_uploads() -> None:
    rows = tsdata.MAX_POINTS
    dates = pd.date_range("1970-01-01", periods=rows, freq="D").strftime("%Y-%m-%d")
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        widest = pd.DataFrame({"date": dates, **{f"v{i}": rng.normal(size=rows).round(4)
                                                 for i in range(tsdata.MAX_COLUMNS - 1)}})
        widest.to_csv(folder / "accepted_20k_rows_50_columns.csv", index=False)
        widest.iloc[:, :8].to_excel(folder / "accepted_20k_rows_8_columns.xlsx", index=False)
        wide = pd.DataFrame({f"c{i}": ["x"] * 20 for i in range(10_000)})
        wide.to_csv(folder / "refused_10k_columns.csv", index=False)
        (folder / "refused_2M_rows.csv").write_text("step,value\n" + "1,2\n" * 2_000_000)
        print(f"\n{'upload':36s} {'ms':>8s}  result (read_table + to_series)")
        for path in sorted(folder.iterdir()):
            start = time.perf_counter()
            try:
                tsdata.to_series(tsdata.read_table(path), None, None)
                outcome = "accepted"
            except InputError as exc:
                outcome = f"refused: {str(exc)[:70]}..."
            print(f"{path.name:36s} {(time.perf_counter() - start) * 1000:8.0f}  {outcome}")


def main() -> None:
    bundled()
    if "--bundled" not in sys.argv:
        worst_forecasts()
        worst_uploads()


if __name__ == "__main__":
    main()
