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
                                          ("elec_equip", "MS", 12), ("sunspots", "YS", 10)])
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


def test_a_yearly_series_gets_the_cycle_found_in_its_data_as_season():
    series, info = tsdata.load_bundled("sunspots")
    assert info.season_length == 10 and any("found a cycle of 10 steps" in note for note in info.notes)
    assert tsdata.detect_cycle(np.random.default_rng(0).normal(size=300)) is None  # noise has no cycle
    steps = np.arange(200)
    assert tsdata.detect_cycle(np.sin(2 * np.pi * steps / 7) + 0.01 * steps)[0] == 7
    _, chosen = tsdata.load_bundled("sunspots", season_length=11)  # a season the user sets wins
    assert chosen.season_length == 11 and not any("cycle" in note for note in chosen.notes)


def test_a_non_negative_series_gets_non_negative_intervals_and_a_poor_fit_says_so():
    series, _ = tsdata.load_bundled("sunspots")
    result = Forecaster(load_config(SPEC.model_dir), "seasonal_naive").forecast(series, 24, 10)
    numbers = result.forecast.drop(columns="timestamp")
    assert (numbers >= 0).all().all()
    assert any("floored at 0" in note for note in result.notes)
    unseasonal = Forecaster(load_config(SPEC.model_dir), "seasonal_naive").forecast(series, 24, 1)
    assert unseasonal.backtest.scores["seasonal_naive"]["mase"] >= 1
    assert any(note.startswith("hard to forecast") for note in unseasonal.notes)
    air, _ = tsdata.load_bundled("air_passengers")
    good = Forecaster(load_config(SPEC.model_dir), "auto").forecast(air, 12, 12)
    assert not any(note.startswith("hard to forecast") or "floored" in note for note in good.notes)


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
    csv_path = out[4]  # outputs: summary, chart, backtest table, forecast table, CSV, STL, JSON
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


# ------------------------------------------------------------------ input bounds (issue 5)
def workbook(tmp_path: Path, rows: int = 20, dimension: str | None = "keep", extra: dict[str, bytes] | None = None,
             name: str = "book.xlsx") -> Path:
    """A small real .xlsx (step, value) whose sheet <dimension> is rewritten by hand (None: removed),
    plus `extra` zip members: cheap stand-ins for huge or lying workbooks."""
    import re
    import zipfile

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["step", "value"])
    for i in range(rows):
        sheet.append([i, float(i % 7)])
    plain = tmp_path / "plain.xlsx"
    book.save(plain)
    path = tmp_path / name
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml" and dimension != "keep":
                new = b"" if dimension is None else f'<dimension ref="{dimension}"/>'.encode()
                data = re.sub(rb"<dimension [^>]*/>", new, data)
            dst.writestr(info, data)
        for member, data in (extra or {}).items():
            dst.writestr(member, data)
    return path


def refuse_parsing(monkeypatch) -> None:
    """Make any pandas parse fail loudly: the check under test must come before it."""
    def boom(*args, **kwargs):
        raise AssertionError("parsed although the file should have been refused before parsing")

    monkeypatch.setattr(pd, "read_csv", boom)
    monkeypatch.setattr(pd, "read_excel", boom)
    monkeypatch.setattr(pd.ExcelFile, "parse", boom)


@pytest.mark.parametrize("dimension, message", [("A1:B2000000", "1,999,999 rows"), ("A1:CZ10", "104 columns")])
def test_xlsx_declaring_too_many_rows_or_columns_is_refused_before_parsing(tmp_path, monkeypatch, dimension, message):
    path = workbook(tmp_path, dimension=dimension)
    refuse_parsing(monkeypatch)
    with pytest.raises(InputError, match=message):
        tsdata.read_table(path)


@pytest.mark.parametrize("dimension", [None, "A1:B2"])  # missing, or smaller than the data
def test_xlsx_with_missing_or_wrong_dimension_is_bounded_by_nrows(tmp_path, monkeypatch, dimension):
    monkeypatch.setattr(tsdata, "MAX_POINTS", 50)
    with pytest.raises(InputError, match="more than 50 rows"):
        tsdata.read_table(workbook(tmp_path, rows=80, dimension=dimension))
    frame = tsdata.read_table(workbook(tmp_path, rows=40, dimension=dimension))
    assert frame.shape == (40, 2)


def test_zip_bomb_workbook_is_refused_by_its_unpacked_size(tmp_path, monkeypatch):
    path = workbook(tmp_path, extra={"xl/media/padding.bin": bytes(tsdata.MAX_WORKBOOK_BYTES + 1)})
    assert path.stat().st_size < 100_000
    refuse_parsing(monkeypatch)
    with pytest.raises(InputError, match="unpacks to 10 MB.*save the sheet as CSV"):
        tsdata.read_table(path)


@pytest.mark.parametrize("name, content, message", [
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "legacy .xls.*save it as .xlsx or CSV"),
    ("broken.xlsx", b"PK\x03\x04 not really a zip", "not a valid .xlsx workbook"),
])
def test_legacy_or_broken_workbooks_get_clear_messages(tmp_path, name, content, message):
    with pytest.raises(InputError, match=message):
        tsdata.read_table(write(tmp_path, name, content))


def test_csv_with_too_many_lines_is_refused_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setattr(tsdata, "MAX_POINTS", 50)
    text = "date,value\n" + "\n".join(f"{d.date()},{i}" for i, d in enumerate(pd.date_range("2020-01-01", periods=60)))
    path = write(tmp_path, "long.csv", text + "\n\n")
    refuse_parsing(monkeypatch)
    with pytest.raises(InputError, match="has 60 rows; this demo reads up to 50"):
        tsdata.read_table(path)


def test_csv_parse_is_bounded_by_nrows(tmp_path, monkeypatch):
    seen = {}
    parse = pd.read_csv

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return parse(*args, **kwargs)

    monkeypatch.setattr(pd, "read_csv", spy)
    tsdata.read_table(EXAMPLES / "air_passengers.csv")
    assert seen["nrows"] == tsdata.MAX_POINTS + 1


def test_oversized_file_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.truncate(tsdata.MAX_FILE_BYTES + 1)  # sparse: no time or disk spent
    with pytest.raises(InputError, match="reads files up to 32 MB"):
        tsdata.read_table(path)


def test_csv_with_thousands_of_columns_is_refused_with_a_short_message(tmp_path, monkeypatch):
    header = ",".join(f"column_{i}" for i in range(10_000))
    path = write(tmp_path, "wide.csv", header + "\n" + ",".join("x" * 10_000) + "\n")
    refuse_parsing(monkeypatch)
    with pytest.raises(InputError, match="10,000 columns; this demo reads up to 50") as error:
        tsdata.read_table(path)
    assert len(str(error.value)) < 300


def test_messages_listing_columns_are_truncated():
    frame = pd.DataFrame({f"text_{i}": ["a", "b"] * 5 for i in range(60)})
    with pytest.raises(InputError, match="No numeric value column") as error:
        tsdata.to_series(frame, None, None)
    assert "and 55 more" in str(error.value) and "text_59" not in str(error.value)
    assert len(str(error.value)) < 400
    assert tsdata.short_list(["a", "b", "c", *range(9_997)], 3) == "a, b, c and 9,997 more"
    assert tsdata.short_list(["x" * 100], width=10) == "xxxxxxx..."


@pytest.fixture(scope="module")
def demo():
    """The forecasting tab's module (imports gradio once per module)."""
    import demos.time_series_forecasting as module

    return module


def test_unknown_column_names_are_errors_with_the_available_columns(tmp_path):
    load_input = tsdata.load_input
    with pytest.raises(InputError, match="'sales' is not in the bundled series 'air_passengers'"):
        load_input(None, "air_passengers", value_column="sales")
    with pytest.raises(InputError, match="'when' is not in the bundled series"):
        load_input(None, "air_passengers", date_column="when")
    with pytest.raises(InputError, match="'value' cannot be the date column of the bundled series"):
        load_input(None, "air_passengers", date_column="value", value_column="date")
    series, info = load_input(None, "air_passengers", date_column="date", value_column="value", season_length=4)
    assert info.season_length == 4 and len(series) == 144
    wide = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=10).astype(str),
                         **{f"v{i}": np.arange(10.0) for i in range(30)}})
    path = tmp_path / "wide.csv"
    wide.to_csv(path, index=False)
    with pytest.raises(InputError, match="'nope' is not in the file; its columns are date, v0, v1, v2, v3 and 26 more"):
        load_input(str(path), None, value_column="nope")
    with pytest.raises(InputError, match="'nope' is not in the file"):
        load_input(str(path), None, date_column="nope", value_column="v1")


@pytest.mark.parametrize("cell, shown", [("inf", "'inf'"), ('"-1e999"', "'-1e999'")])
def test_infinite_values_name_the_column_and_lines(tmp_path, cell, shown):
    rows = [f'2020-01-{d:02d},{cell if d in (5, 9) else d}' for d in range(1, 29)]
    rows[0] = '2020-01-01,"1,000"'  # quoted thousands: the column is text and goes through the text path
    path = write(tmp_path, "inf.csv", "date,value\n" + "\n".join(rows))
    with pytest.raises(InputError, match=f"Column 'value' contains 2 infinite value\\(s\\) \\({shown}, {shown} on "
                                         r"line\(s\) 6, 10\)\. Replace them"):
        tsdata.to_series(tsdata.read_table(path), None, None)


def test_forecaster_names_non_finite_values(air):
    series, _ = air
    broken = series.copy()
    broken.iloc[[3, 7]] = [np.inf, np.nan]
    with pytest.raises(InputError, match=r"2 missing or infinite value\(s\) \(at 1949-04-01.*1949-08-01"):
        Forecaster(model="seasonal_naive").forecast(broken, 6, 12)
    with pytest.raises(InputError, match="at least 8 observations"):
        Forecaster(model="seasonal_naive").forecast(series.iloc[:5], 3, 1)


def test_nan_heavy_and_non_positive_series_keep_their_behaviour(tmp_path):
    dates = pd.date_range("2021-01-01", periods=40, freq="D")
    rows = [f"{d.date()},{'' if i % 2 else i}" for i, d in enumerate(dates)]
    with pytest.raises(InputError, match="20 of 40 periods are missing or empty"):
        tsdata.to_series(tsdata.read_table(write(tmp_path, "holes.csv", "date,value\n" + "\n".join(rows))), None, None)
    rows = [f"{d.date()},{(i % 7) - 3}" for i, d in enumerate(dates)]  # negatives and zeros
    series, info = tsdata.to_series(tsdata.read_table(write(tmp_path, "signed.csv", "date,value\n" + "\n".join(rows))),
                                    None, None)
    result = Forecaster(model="theta").forecast(series, 7, info.season_length)
    assert not result.log_transform and np.all(np.isfinite(result.forecast["mean"]))


@pytest.mark.parametrize("season", [-3, 367, 10_000])
def test_season_length_outside_1_to_366_is_refused(air, season):
    series, _ = air
    frame = pd.DataFrame({"date": series.index, "value": series.to_numpy()})
    with pytest.raises(InputError, match="Season length must be between 1 and 366"):
        tsdata.to_series(frame, "date", "value", season_length=season)
    with pytest.raises(InputError, match="Season length must be between 1 and 366"):
        Forecaster(model="seasonal_naive").forecast(series, 6, season)


def test_long_series_are_fitted_on_a_bounded_window():
    forecaster = Forecaster(load_config(SPEC.model_dir), "auto")
    assert forecaster.fit_window(20_000, 7) == 1000 and forecaster.fit_window(20_000, 366) == 3 * 366
    assert forecaster.fit_window(500, 12) == 500
    index = pd.date_range("2000-01-01", periods=400, freq="D")
    series = pd.Series(10 + np.sin(np.arange(400) * 2 * np.pi / 7), index=index)
    result = Forecaster({"max_fit_points": 100}, "seasonal_naive").forecast(series, 14, 7)
    assert result.backtest.origins == [86, 93]  # backtest horizon 7, origins counted within the last 100 points
    assert len(result.fitted) == 400  # fitted values only inside the window (after seasonal naive's first lag)
    assert result.fitted.iloc[:307].isna().all() and result.fitted.iloc[307:].notna().all()
    assert any("last 100 of 400 points" in note for note in result.notes)


def test_long_seasons_say_which_models_ignore_them():
    y = 50 + 10 * np.sin(np.arange(300) * 2 * np.pi / 30) + np.arange(300) * 0.05
    result = Forecaster(model="sarima").forecast(pd.Series(y), 12, 30)
    assert result.season_length == 30 and "[30]" not in result.spec
    assert any("SARIMA is fitted without a seasonal component" in note for note in result.notes)


def test_dates_spanning_too_many_periods_are_refused_before_reindexing():
    dates = [*pd.date_range("2020-01-01", periods=30, freq="h").astype(str), "1700-01-01 00:00"]
    frame = pd.DataFrame({"date": dates, "value": np.arange(31.0)})
    with pytest.raises(InputError, match="hourly periods.*mistyped year"):
        tsdata.to_series(frame, None, None)


def test_decomposition_figure_is_bounded_for_long_series_and_seasons(demo):
    decomposition_figure = demo.decomposition_figure
    index = pd.date_range("2000-01-01", periods=3000, freq="D")
    series = pd.Series(np.sin(np.arange(3000) * 2 * np.pi / 120) + np.arange(3000) * 1e-3, index=index)
    fig = decomposition_figure(series, 120)
    assert "last 2,000 of 3,000 points" in fig.layout.title.text and "non-robust" in fig.layout.title.text
    assert all(len(trace.x) == 2000 for trace in fig.data)
    fig = decomposition_figure(series.iloc[:300], 12)
    assert fig.layout.title.text == "STL decomposition (season length 12)" and len(fig.data[0].x) == 300


def test_a_request_is_read_forecast_and_decomposed_by_one_adapter_call():
    """What the tab sends to its worker process: everything CPU-heavy in one call."""
    response = Forecaster(model="seasonal_naive").serve(None, "air_passengers", horizon=6)
    assert response.info.n == 144 and len(response.result.history) == 144
    assert response.result.to_json()["horizon"] == 6
    assert list(response.decomposition.parts) == ["observed", "trend", "seasonal", "remainder"]
    table = Forecaster.inspect(str(EXAMPLES / "us_macro_quarterly.csv"))
    assert table.value_column in table.columns and table.date_column in table.columns


def test_charts_show_a_bounded_number_of_points(tmp_path, demo):
    index = pd.date_range("2000-01-01", periods=5000, freq="D")
    frame = pd.DataFrame({"date": index.strftime("%Y-%m-%d"), "value": np.sin(np.arange(5000) / 3) + 10})
    path = tmp_path / "long.csv"
    frame.to_csv(path, index=False)
    response = Forecaster(model="seasonal_naive").serve(str(path), None, horizon=10)
    chart = demo.forecast_figure(response.result)
    history = next(trace for trace in chart.data if trace.name == "history")
    assert len(history.x) == demo.MAX_PLOTTED_HISTORY and "last 2,000 of 5,000 points" in chart.layout.title.text
    assert all(len(values) <= 2000 for values in response.decomposition.parts.values())
