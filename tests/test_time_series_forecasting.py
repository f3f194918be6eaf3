"""Task 10, time-series forecasting: parsing, models, auto selection, the /forecast API and bad input."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.errors import InputError
from core.metrics import forecast_errors
from core.registry import EXAMPLES_DIR, TASKS, get_model
from core.tasks.time_series_forecasting import data as tsdata
from core.tasks.time_series_forecasting.adapter import Forecaster, load_config
from core.tasks.time_series_forecasting.backtest import origins, rolling_origin
from core.tasks.time_series_forecasting.models import MODELS, fit_predict, use_log

EXAMPLES = EXAMPLES_DIR / "time_series_forecasting"
SPEC = TASKS["time_series_forecasting"]


@pytest.fixture(scope="module")
def air() -> tuple[pd.Series, tsdata.SeriesInfo]:
    return tsdata.load_bundled("air_passengers")


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


# ------------------------------------------------------------------ data
@pytest.mark.parametrize("key, freq, m", [("air_passengers", "MS", 12), ("co2", "MS", 12),
                                          ("elec_equip", "MS", 12), ("sunspots", "YS", 1)])
def test_bundled_series_load_offline(key, freq, m):
    series, info = tsdata.load_bundled(key)
    assert info.frequency == freq and info.season_length == m
    assert series.notna().all() and len(series) > 100
    assert series.index.is_monotonic_increasing


def test_air_passengers_matches_the_textbook_values(air):
    series, _ = air
    assert series.iloc[0] == 112 and series.iloc[-1] == 432 and str(series.index[0].date()) == "1949-01-01"


def test_detects_date_and_value_columns_and_flags_ambiguity():
    frame = tsdata.read_table(EXAMPLES / "us_macro_quarterly.csv")
    guess = tsdata.detect_columns(frame)
    assert guess.date_column == "quarter"
    assert guess.value_candidates == ["realgdp", "realcons", "unemp"] and guess.ambiguous
    series, info = tsdata.to_series(frame, None, "unemp")
    assert info.frequency == "QS" and info.season_length == 4 and series.iloc[0] == pytest.approx(5.8)


def test_excel_upload_is_read(tmp_path):
    frame = tsdata.read_table(EXAMPLES / "elec_equip.xlsx")
    series, info = tsdata.to_series(frame, None, None)
    assert info.frequency == "MS" and len(series) == 257


def test_month_strings_semicolons_and_month_end_dates(tmp_path):
    text = "Month;Sales\n" + "\n".join(f"{d.date()};{i + 10}" for i, d in
                                       enumerate(pd.date_range("2020-01-31", periods=30, freq="ME")))
    series, info = tsdata.to_series(tsdata.read_table(write(tmp_path, "s.csv", text)), None, None)
    assert info.frequency == "MS" and info.season_length == 12
    assert series.index[0] == pd.Timestamp("2020-01-01") and series.iloc[-1] == 39


def test_gaps_and_empty_cells_are_filled_by_interpolation(tmp_path):
    dates = pd.date_range("2021-01-01", periods=40, freq="D")
    keep = [d for i, d in enumerate(dates) if i not in (5, 6, 20)]  # three missing days
    rows = [f"{d.date()},{'' if i == 10 else float(i)}" for i, d in enumerate(keep)]
    series, info = tsdata.to_series(tsdata.read_table(write(tmp_path, "g.csv", "date,value\n" + "\n".join(rows))), None, None)
    assert info.frequency == "D" and info.season_length == 7 and len(series) == 40
    assert info.filled_missing == 4 and series.notna().all()
    assert any("interpolation" in note for note in info.notes)


def test_weekly_series_with_real_gaps():
    frame = tsdata.read_table(EXAMPLES / "co2_weekly_with_gaps.csv")
    series, info = tsdata.to_series(frame, None, None)
    assert info.frequency == "W" and info.filled_missing == 5 and series.index.freqstr == "W-MON"


def test_decimal_year_time_column_and_no_date_column(tmp_path):
    text = "time,value\n" + "\n".join(f"{1990 + i / 4},{v}" for i, v in enumerate(range(20)))
    series, info = tsdata.to_series(tsdata.read_table(write(tmp_path, "q.csv", text)), None, None)
    assert info.frequency == "QS" and series.index[1] == pd.Timestamp("1990-04-01")
    series, info = tsdata.to_series(pd.DataFrame({"y": np.arange(30.0)}), None, None, season_length=5)
    assert info.frequency == "step" and info.season_length == 5 and info.date_column is None


@pytest.mark.parametrize("name, content, message", [
    ("text.csv", "date,value\n" + "\n".join(f"2020-{m:02d}-01,{'abc' if m == 3 else m}" for m in range(1, 13)),
     "must be numeric"),
    ("one.csv", "date,value\n2020-01-01,5\n", "at least"),
    ("empty.csv", "", "empty"),
    ("header.csv", "date,value\n", "no data rows"),
    ("image.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "not a text CSV"),
    ("words.csv", "a,b\nx,y\nz,w\n", "No numeric value column"),
])
def test_bad_files_get_clear_messages(tmp_path, name, content, message):
    with pytest.raises(InputError, match=message):
        frame = tsdata.read_table(write(tmp_path, name, content))
        tsdata.to_series(frame, None, None)


# ------------------------------------------------------------------ models
@pytest.mark.parametrize("model", MODELS)
def test_each_model_gives_sane_nested_intervals(air, model):
    series, _ = air
    y = series.to_numpy()
    result = fit_predict(model, y, 12, 18, log=True, settings=load_config(SPEC.model_dir))
    assert result.mean.shape == (18,) and np.all(np.isfinite(result.mean))
    assert np.all(result.lower[95] <= result.lower[80]) and np.all(result.lower[80] <= result.mean)
    assert np.all(result.mean <= result.upper[80]) and np.all(result.upper[80] <= result.upper[95])
    assert np.all(result.upper[95] - result.lower[95] > 0)
    assert 300 < result.mean.mean() < 700  # AirPassengers 1961 is in the 400s-600s


def test_seasonal_naive_repeats_the_last_season():
    y = np.tile(np.arange(4.0), 5) + np.repeat(np.arange(5.0), 4) * 0.01
    result = fit_predict("seasonal_naive", y, 4, 6)
    assert np.allclose(result.mean, np.r_[y[-4:], y[-4:-2]])
    width = result.upper[95] - result.lower[95]
    assert width[4] > width[0]  # the second season ahead is less certain


def test_log_transform_rule(air):
    series, _ = air
    assert use_log(series.to_numpy(), 12)  # swings grow with the level
    assert not use_log(np.sin(np.arange(120) * np.pi / 6) + 10, 12)  # constant swings
    assert not use_log(series.to_numpy() - 200, 12)  # non-positive values


def test_forecast_errors_and_backtest(air):
    series, _ = air
    y = series.to_numpy()
    errors = forecast_errors(np.array([2.0, 4.0]), np.array([1.0, 5.0]), np.arange(30.0), 12)
    assert errors["mae"] == 1 and errors["rmse"] == 1 and errors["mase"] == pytest.approx(1 / 12)
    assert origins(100, 12, 3, 30) == [64, 76, 88] and origins(40, 12, 3, 30) == []
    result = rolling_origin(y, 12, ["seasonal_naive", "theta"], 12, 2, 26, log=True)
    assert result.origins == [120, 132] and set(result.scores) == {"seasonal_naive", "theta"}
    assert 0 <= result.scores["theta"]["coverage_95"] <= 1
    assert result.scores["theta"]["mase"] < result.scores["seasonal_naive"]["mase"]


def test_auto_picks_the_best_backtest_model(air):
    series, _ = air
    result = Forecaster(load_config(SPEC.model_dir), "auto").forecast(series, 12, 12)
    ranking = result.backtest.ranking()
    assert result.model == ranking[0] and set(ranking) == set(MODELS)
    assert result.model != "seasonal_naive"  # on AirPassengers every model beats the baseline
    payload = result.to_json()
    assert len(payload["forecast"]) == 12 and payload["forecast"][0]["timestamp"].startswith("1961-01-01")
    assert {c["model"] for c in payload["candidates"]} == set(MODELS)
    json.dumps(payload)


def test_registry_adapter_and_fixed_model(air):
    series, _ = air
    forecaster = get_model("time_series_forecasting", "ets")
    result = forecaster.forecast(series, 6, 12)
    assert result.model == "ets" and set(result.backtest.scores) == {"seasonal_naive", "ets"}
    with pytest.raises(InputError, match="Horizon"):
        forecaster.forecast(series, 0, 12)


def test_shipped_config_matches_the_code():
    config = load_config(SPEC.model_dir)
    assert (SPEC.model_dir / "config.json").exists()
    assert config["candidates"] == list(MODELS) and len(config["sarima_grid"]) <= 8


def test_quick_training_smoke(tmp_path):
    from core.tasks.time_series_forecasting.train import train

    metrics = train(tmp_path / "model", tmp_path / "card", quick=True)
    assert metrics["quick"] and metrics["headline"]["variant"] == "auto"
    assert set(metrics["variants"]) == {"auto", *MODELS}
    assert (tmp_path / "model" / "config.json").exists() and (tmp_path / "card" / "README.md").exists()
    assert 0 <= metrics["variants"]["auto"]["metrics"]["held_out_coverage_95"] <= 1


# ------------------------------------------------------------------ API
def test_api_forecast_with_file_upload(client):
    from gradio_client import handle_file

    out = client.predict(file=handle_file(str(EXAMPLES / "air_passengers.csv")), horizon=24, api_name="/forecast")
    payload = out[-1]
    assert payload["model"] in MODELS and payload["horizon"] == 24
    first = payload["forecast"][0]
    assert first["timestamp"].startswith("1961-01-01")
    assert first["lower_95"] <= first["lower_80"] <= first["mean"] <= first["upper_80"] <= first["upper_95"]
    assert payload["series"]["value_column"] == "passengers" and payload["latency_ms"] > 0
    assert {"mae", "rmse", "smape", "mase"} <= set(payload["candidates"][0])
    csv_path = out[3]
    assert pd.read_csv(csv_path).shape == (24, 6)


def test_api_bundled_series_excel_and_column_choice(client):
    from gradio_client import handle_file

    payload = client.predict(file=None, series="co2", model="theta", horizon=6, api_name="/forecast")[-1]
    assert payload["model"] == "theta" and payload["series"]["n"] > 500
    payload = client.predict(file=handle_file(str(EXAMPLES / "us_macro_quarterly.csv")), value_column="unemp",
                             model="seasonal_naive", horizon=4, api_name="/forecast")[-1]
    assert payload["series"]["value_column"] == "unemp" and payload["season_length"] == 4
    payload = client.predict(file=handle_file(str(EXAMPLES / "elec_equip.xlsx")), model="sarima", horizon=12,
                             api_name="/forecast")[-1]
    assert payload["model"] == "sarima" and payload["model_spec"].startswith("SARIMA")


@pytest.mark.parametrize("name, content, message", [
    ("text.csv", "date,value\n" + "\n".join(f"2020-{m:02d}-01,{'n/a?' if m == 3 else m}" for m in range(1, 13)),
     "must be numeric"),
    ("one_row.csv", "date,value\n2020-01-01,5\n", "at least"),
    ("empty.csv", "", "empty"),
    ("picture.csv", b"\x89PNG\r\n\x1a\n" + bytes(200), "not a text CSV"),
    ("picture.png", b"\x89PNG\r\n\x1a\n" + bytes(200), "Invalid file type"),
])
def test_api_bad_input_then_good_call(client, tmp_path, name, content, message):
    from gradio_client import handle_file

    with pytest.raises(Exception, match=message):
        client.predict(file=handle_file(str(write(tmp_path, name, content))), api_name="/forecast")
    payload = client.predict(file=None, series="air_passengers", model="seasonal_naive", horizon=3,
                             api_name="/forecast")[-1]
    assert payload["model"] == "seasonal_naive" and len(payload["forecast"]) == 3
