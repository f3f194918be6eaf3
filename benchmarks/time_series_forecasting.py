"""Request latency of /forecast's core per model and series length (no UI, no network).

    python benchmarks/time_series_forecasting.py

Prints the median wall time of Forecaster.forecast (backtest + fit + forecast), the work
one /forecast request does, for each model on each bundled series, horizon 12.
"""
from __future__ import annotations

from core.settings import apply_offline_defaults

apply_offline_defaults()

from core.artifacts import measure_latency_ms  # noqa: E402
from core.registry import TASKS, get_model  # noqa: E402
from core.tasks.time_series_forecasting.data import BUNDLED, load_bundled  # noqa: E402


def main() -> None:
    spec = TASKS["time_series_forecasting"]
    print(f"{'series':16s} {'points':>6s} " + " ".join(f"{v:>15s}" for v in spec.variants) + "   (median ms, horizon 12)")
    for key in BUNDLED:
        series, info = load_bundled(key)
        cells = []
        for variant in spec.variants:
            forecaster = get_model(spec.name, variant)
            cells.append(measure_latency_ms(lambda: forecaster.forecast(series, 12, info.season_length), repeats=3, warmup=1))
        print(f"{key:16s} {len(series):6d} " + " ".join(f"{c:15.0f}" for c in cells))


if __name__ == "__main__":
    main()
