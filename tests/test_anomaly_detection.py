"""Task 11, anomaly detection: column detection, detectors, re-flagging, explanations, metrics,
limits, CSV / Excel round trips, the /detect_anomalies API and the card."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.errors import InputError
from core.registry import EXAMPLES_DIR, TASKS, get_model
from core.tasks.anomaly_detection import data as addata
from core.tasks.anomaly_detection import table as adtable
from core.tasks.anomaly_detection.adapter import AnomalyDetector, load_config, payload, write_csv
from core.tasks.anomaly_detection.detectors import (DEFAULT_CONFIG, DETECTORS, VARIANTS, fit_rows, fit_score,
                                                    merged_config)
from core.tasks.anomaly_detection.evaluate import (check_contamination, flag_metrics, ranking_metrics,
                                                   threshold_for)
from core.tasks.anomaly_detection.explain import contributions, robust_z, top_features

FIXTURES = Path(__file__).parent / "fixtures" / "anomaly_detection"
MIXED = FIXTURES / "mixed_columns.csv"
EXAMPLES = EXAMPLES_DIR / "anomaly_detection"
SPEC = TASKS["anomaly_detection"]


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def gaussian_table(n: int = 200, d: int = 4, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(size=(n, d)), columns=[f"f{j}" for j in range(d)])


# ------------------------------------------------------------------ column detection
@pytest.fixture(scope="module")
def mixed() -> adtable.Prepared:
    return adtable.prepare(adtable.read_table(MIXED))


def test_every_kind_of_column_gets_its_role(mixed):
    roles = {c.name: (c.role, c.reason) for c in mixed.columns}
    assert roles["record_id"][0] == "dropped" and roles["record_id"][1].startswith("an id")
    assert roles["timestamp"][0] == "dropped" and "timestamps" in roles["timestamp"][1]
    assert roles["site"] == ("categorical", "text with 3 values: one-hot encoded")
    assert roles["firmware"][0] == "dropped" and "constant" in roles["firmware"][1]
    assert roles["comment"][0] == "dropped" and "free text" in roles["comment"][1]
    assert roles["mostly_empty"][0] == "dropped" and "30 of 40 cells are empty" in roles["mostly_empty"][1]
    assert roles["is_anomaly"][0] == "label"
    assert mixed.feature_names == ["site=east", "site=north", "site=south", "temperature", "pressure", "humidity"]
    assert mixed.label_column == "is_anomaly" and mixed.label.tolist().count(1) == 2
    assert mixed.label[17] == 1 and mixed.label[33] == 1


def test_numbers_with_thousands_separators_and_missing_cells_are_imputed(mixed):
    pressure = mixed.values[:, mixed.feature_names.index("pressure")]
    assert 1000 < pressure.min() and pressure.max() < 1030  # "1,013.2" read as 1013.2
    temperature = mixed.values[:, mixed.feature_names.index("temperature")]
    others = np.delete(temperature, [5, 30])
    assert temperature[5] == temperature[30] == pytest.approx(np.median(others))
    summary = mixed.column_summary()
    assert summary["imputed"] == {"temperature": 2} and summary["label"] == "is_anomaly"
    assert any("filled 2 empty cell(s) of temperature with the column's median" in note for note in mixed.notes)


def test_robust_scaling_centres_on_the_median_and_standard_on_the_mean(mixed):
    frame = adtable.read_table(MIXED)
    robust = adtable.prepare(frame, scaling="robust").X[:, 3]
    standard = adtable.prepare(frame, scaling="standard").X[:, 3]
    assert np.median(robust) == pytest.approx(0, abs=1e-9)
    assert standard.mean() == pytest.approx(0, abs=1e-9) and standard.std() == pytest.approx(1)
    with pytest.raises(InputError, match="Unknown scaling"):
        adtable.prepare(frame, scaling="minmax")


def test_sensor_counter_is_dropped_and_the_mote_id_one_hot_encoded():
    prepared = adtable.prepare(addata.load_bundled("sensor_single_hop"))
    roles = {c.name: c.role for c in prepared.columns}
    assert roles == {"reading": "dropped", "mote_id": "categorical", "indoor": "feature", "humidity": "feature",
                     "temperature": "feature", "label": "label"}
    assert prepared.feature_names[:4] == ["mote_id=1", "mote_id=2", "mote_id=3", "mote_id=4"]


@pytest.mark.parametrize("values, expected", [
    (["normal"] * 18 + ["anomaly"] * 2, [0] * 18 + [1] * 2),        # the positive word wins
    (["ok"] * 18 + ["weird"] * 2, [0] * 18 + [1] * 2),              # else the rarer value
    ([True] * 3 + [False] * 17, [1] * 3 + [0] * 17),
    (["1"] * 5 + ["0"] * 14 + [""], [1] * 5 + [0] * 14 + [-1]),      # an empty label is unknown
])
def test_binary_label_columns_are_recognised(values, expected):
    frame = gaussian_table(20)
    frame["class"] = values
    prepared = adtable.prepare(frame)
    assert prepared.label_column == "class" and prepared.label.tolist() == expected
    assert "class" not in prepared.feature_names


def test_a_label_named_column_with_many_values_stays_a_feature_and_labels_can_be_chosen_or_refused():
    frame = gaussian_table(30)
    frame["target"] = np.arange(30) % 5 * 1.5  # not binary: a measurement
    frame["flag"] = [1] * 3 + [0] * 27
    prepared = adtable.prepare(frame)
    assert prepared.label is None and "target" in prepared.feature_names and "flag" in prepared.feature_names
    chosen = adtable.prepare(frame, label_column="flag")
    assert chosen.label_column == "flag" and chosen.label.sum() == 3 and "flag" not in chosen.feature_names
    assert adtable.prepare(frame.assign(label=[0, 1] * 15), label_column="none").label is None
    with pytest.raises(InputError, match="must hold two values"):
        adtable.prepare(frame, label_column="target")
    with pytest.raises(InputError, match="'nope' is not in the table"):
        adtable.prepare(frame, label_column="nope")


@pytest.mark.parametrize("name, text, column, expected", [
    ("european.csv", "a;b\n" + "\n".join(f"{i % 7},5;{i % 3},25" for i in range(20)), "a", 6.5),  # decimal commas
    ("thousands.csv", "a,b\n" + "\n".join(f'"{1000 + i * 37 % 500:,}",{i % 3}' for i in range(20)), "a", 1481.0),
    ("tabs.csv", "a\tb\n" + "\n".join(f"{i % 5}\t{i % 4}" for i in range(20)), "a", 4.0),
    ("quoted.csv", "a,note\n" + "\n".join(f'{i % 5},"two\nlines {i}"' for i in range(20)), "a", 4.0),
])
def test_common_csv_dialects_are_read(tmp_path, name, text, column, expected):
    prepared = adtable.prepare(adtable.read_table(write(tmp_path, name, text)))
    assert prepared.n_rows == 20 and prepared.values[:, prepared.feature_names.index(column)].max() == expected


def test_row_positions_survive_empty_rows(tmp_path):
    text = "a,b\n" + "\n".join(f"{i},{i % 3}" if i != 4 else "," for i in range(15))
    prepared = adtable.prepare(adtable.read_table(write(tmp_path, "gaps.csv", text)))
    assert 4 not in prepared.rows.tolist() and prepared.rows[-1] == 14 and prepared.n_rows == 14


# ------------------------------------------------------------------ detectors
@pytest.mark.parametrize("detector", VARIANTS)
def test_each_detector_ranks_an_obvious_outlier_first(detector):
    frame = gaussian_table(200, 4, seed=1)
    frame.loc[57] = [8.0, -8.0, 8.0, 8.0]  # far out in every feature (ECOD, COPOD and HBOS judge features one by one)
    prepared = adtable.prepare(frame)
    result = fit_score(detector, prepared.X, merged_config(None))
    assert result.scores.shape == (200,) and np.isfinite(result.scores).all()
    assert int(np.argmax(result.scores)) == 57


@pytest.mark.parametrize("rule", ["mean_rank", "mean_robust_z"])
def test_seeded_detectors_are_reproducible_and_auto_is_the_mean_of_its_normalised_members(rule):
    from scipy.stats import rankdata

    X = adtable.prepare(gaussian_table(150, 3, seed=2)).X
    config = merged_config({"auto": {"members": ["iforest", "ecod", "knn"], "combine": rule}})
    first, again = fit_score("auto", X, config, seed=3), fit_score("auto", X, config, seed=3)
    assert np.array_equal(first.scores, again.scores)
    members = [fit_score(m, X, config, seed=3).scores for m in ("iforest", "ecod", "knn")]
    if rule == "mean_rank":
        expected = np.mean([rankdata(s) / 150 for s in members], axis=0)
    else:
        expected = np.mean([(s - np.median(s)) / np.subtract(*np.percentile(s, [75, 25])) for s in members], axis=0)
    assert np.allclose(first.scores, expected)
    assert not np.array_equal(fit_score("iforest", X, config, seed=4).scores, fit_score("iforest", X, config, seed=3).scores)


def test_quadratic_detectors_are_fitted_on_a_bounded_sample_and_still_score_every_row():
    config = merged_config(None)
    assert fit_rows("knn", 20_000, 10, config) == 5000 and fit_rows("ocsvm", 20_000, 10, config) == 2000
    assert fit_rows("lof", 100_000, 200, config) == config["min_fit_rows"]  # wide and long: the floor
    assert fit_rows("ecod", 100_000, 200, config) == 100_000
    small = merged_config({"detectors": {"knn": {"max_fit_rows": 600}, "lof": {"max_fit_rows": 600}},
                           "min_fit_rows": 100})
    frame = gaussian_table(3000, 3, seed=5)
    frame.loc[2999, "f0"] = 15.0
    X = adtable.prepare(frame).X
    for name in ("knn", "lof"):
        result = fit_score(name, X, small)
        assert result.fit_rows == 600 and len(result.scores) == 3000
        assert int(np.argmax(result.scores)) == 2999
        assert any("random sample of 600 of the 3,000 rows" in note for note in result.notes)


def test_autoencoder_requests_in_parallel_answer_as_one_alone():
    """pyod's AutoEncoder seeds and draws from global random generators: the lock keeps parallel
    fits from interleaving (without it, these scores differ from run to run)."""
    X = adtable.prepare(addata.load_bundled("wine")).X
    alone = fit_score("autoencoder", X).scores
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda _: fit_score("autoencoder", X).scores, range(4)))
    assert all(np.array_equal(alone, scores) for scores in together)


# ------------------------------------------------------------------ threshold, explanations, metrics
def test_threshold_flags_the_top_share_and_contamination_is_checked():
    scores = np.arange(100, dtype=float)
    threshold, flags = threshold_for(scores, 0.05)
    assert threshold == 95 and flags.sum() == 5 and flags[95:].all()
    assert threshold_for(scores, 0.001)[1].sum() == 1  # at least one row
    assert threshold_for(scores, 0.5)[1].sum() == 50
    for bad in (0, -0.1, 0.51, float("nan"), "lots"):
        with pytest.raises(InputError, match="Contamination"):
            check_contamination(bad)


def test_the_threshold_re_flags_without_refitting(monkeypatch):
    import core.tasks.anomaly_detection.adapter as adapter
    import demos.anomaly_detection as tab

    detection = AnomalyDetector(detector="ecod").serve(None, "wine")

    def no_fit(*args, **kwargs):
        raise AssertionError("re-flagging fitted a detector again")

    monkeypatch.setattr(adapter, "fit_score", no_fit)
    monkeypatch.setattr(tab, "run_heavy", no_fit)
    flagged = []
    for contamination in (0.05, 0.2, 0.5):
        summary, scatter, histogram, top, result = tab.reflag(detection, contamination, "", "")
        flagged.append(result["n_flagged"])
        assert result["n_flagged"] == int(np.ceil(contamination * 129))
        assert sum(row["flag"] for row in result["rows"]) == result["n_flagged"]
        assert f"Flagged **{result['n_flagged']:,}** rows" in summary
        assert histogram.layout.shapes[0].x0 == pytest.approx(result["threshold"])  # the threshold line moved
        red = next(trace for trace in scatter.data if trace.name.startswith("flagged"))
        assert len(red.x) == result["n_flagged"]
        assert (top["flagged"] == "yes").sum() == min(20, result["n_flagged"])
    assert flagged == sorted(flagged) and len(set(flagged)) == 3


@pytest.mark.parametrize("detector, method", [("ecod", "ECOD per-feature"), ("copod", "COPOD per-feature"),
                                              ("iforest", "robust z-score"), ("auto", "robust z-score")])
def test_contributions_point_at_the_perturbed_feature(detector, method):
    frame = gaussian_table(300, 5, seed=7)
    frame.loc[7, "f3"] = 9.0
    frame.loc[123, "f1"] = -9.0
    detection = AnomalyDetector(detector=detector).detect(frame)
    assert method in detection.explanation
    top = {item["position"]: item["features"] for item in detection.top}
    assert top[7][0]["feature"] == "f3" and top[7][0]["direction"] == "high"
    assert top[123][0]["feature"] == "f1" and top[123][0]["direction"] == "low"


def test_ecod_contributions_add_up_to_its_score():
    X = adtable.prepare(gaussian_table(100, 3)).X
    result = fit_score("ecod", X)
    contribution, _, _ = contributions("ecod", X, result.per_feature)
    assert np.allclose(contribution.sum(axis=1), result.scores)


def test_robust_z_and_top_features():
    values = np.array([[1.0, 10], [2, 10], [3, 10], [4, 10], [100, 11]])
    z = robust_z(values)
    assert z[4, 0] == pytest.approx(97 / 1.4826)  # median 3, MAD 1
    features = top_features(np.abs(z), np.sign(z), values, ["a", "b"], np.array([4]), k=2)[0]
    assert [f["feature"] for f in features] == ["a", "b"] and features[0]["direction"] == "high"


def test_ranking_and_flag_metrics_by_hand():
    label = np.array([0, 0, 1, 1, -1])
    scores = np.array([0.1, 0.4, 0.35, 0.8, 5.0])  # the unlabelled row is left out
    metrics = ranking_metrics(label, scores)
    assert metrics["roc_auc"] == pytest.approx(0.75)
    assert metrics["average_precision"] == pytest.approx((1 + 2 / 3) / 2)
    assert metrics["precision_at_n"] == pytest.approx(0.5) and metrics["n_labelled"] == 4
    flags = np.array([False, True, False, True, True])
    assert flag_metrics(label, flags) == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "true_positives": 1, "flagged": 2}
    assert ranking_metrics(np.zeros(5), scores) is None and ranking_metrics(None, scores) is None


def test_metrics_with_labels_on_a_real_set():
    detection = AnomalyDetector(detector="iforest").serve(None, "wbc")
    result = payload(detection, 0.05)
    assert 0.85 < result["metrics"]["roc_auc"] <= 1.0 and result["metrics"]["n_anomalies"] == 21
    assert 0 < result["metrics"]["average_precision"] < 1
    at = result["metrics"]["at_threshold"]
    assert at["flagged"] == result["n_flagged"] == 19 and 0 <= at["precision"] <= 1


# ------------------------------------------------------------------ limits
@pytest.mark.parametrize("name, content, message", [
    ("text_only.csv", "name,colour\n" + "\n".join(f"item{i},{['red', 'blue'][i % 2]}" for i in range(20)),
     "no numeric column"),
    ("one_row.csv", "a,b\n1,2\n", "at least 10 rows; this table has 1"),
    ("empty.csv", "", "The file is empty"),
    ("picture.csv", b"\x89PNG\r\n\x1a\n" + bytes(200), "not a text CSV"),
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "legacy .xls"),
    ("broken.xlsx", b"PK\x03\x04 not really a zip", "not a valid .xlsx workbook"),
    ("latin1.csv", "a,b\n" + "\n".join(f"{i},caf\xe9" for i in range(12)), None),
    ("text_in_numbers.csv", "a,b\n" + "\n".join(f"{i},{'n/a?' if i == 3 else i * 1.5}" for i in range(30)),
     r"Column 'b' is numeric but has text in 1 cell\(s\) \('n/a\?' on line\(s\) 5\)"),
    ("infinite.csv", "a,b\n" + "\n".join(f"{i},{'inf' if i == 6 else i}" for i in range(30)), "infinite value"),
])
def test_bad_tables_get_clear_messages(tmp_path, name, content, message):
    if message is None:  # Latin-1 text: refused as not UTF-8
        content = content.encode("latin-1")
        message = "not UTF-8"
    with pytest.raises(InputError, match=message):
        AnomalyDetector(detector="ecod").serve(str(write(tmp_path, name, content)), None)


def test_detectors_that_need_more_rows_say_so():
    X = adtable.prepare(gaussian_table(15)).X
    with pytest.raises(InputError, match="20 nearest neighbours, so it needs at least 21 rows; this table has 15"):
        fit_score("lof", X)
    assert len(fit_score("ecod", X).scores) == 15
    with pytest.raises(InputError, match="Unknown detector"):
        fit_score("svm", X)


def refuse_parsing(monkeypatch) -> None:
    def boom(*args, **kwargs):
        raise AssertionError("parsed although the file should have been refused before parsing")

    monkeypatch.setattr(pd, "read_csv", boom)
    monkeypatch.setattr(pd.ExcelFile, "parse", boom)


def test_row_and_column_limits_come_from_the_environment_and_refuse_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setenv("MAX_TABLE_ROWS", "50")
    monkeypatch.setenv("MAX_TABLE_COLUMNS", "20")
    assert (adtable.limits().max_rows, adtable.limits().max_columns) == (50, 20)
    long = write(tmp_path, "long.csv", "a,b\n" + "\n".join(f"{i},{i}" for i in range(60)))
    wide = write(tmp_path, "wide.csv", ",".join(f"c{i}" for i in range(30)) + "\n" + ",".join("1" * 30) + "\n")
    book = tmp_path / "long.xlsx"
    pd.DataFrame({"a": range(80), "b": range(80)}).to_excel(book, index=False)
    refuse_parsing(monkeypatch)
    with pytest.raises(InputError, match="has 60 rows; this demo reads up to 50"):
        adtable.read_table(long)
    with pytest.raises(InputError, match="has 30 columns; this demo reads up to 20"):
        adtable.read_table(wide)
    with pytest.raises(InputError, match="has 80 rows; this demo reads up to 50"):
        adtable.read_table(book)
    monkeypatch.delenv("MAX_TABLE_ROWS")
    monkeypatch.delenv("MAX_TABLE_COLUMNS")
    assert (adtable.limits().max_rows, adtable.limits().max_columns) == (100_000, 200)


def test_oversized_file_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.truncate(adtable.MAX_FILE_BYTES + 1)
    with pytest.raises(InputError, match="reads files up to 32 MB"):
        adtable.read_table(path)


def test_too_many_one_hot_features_are_refused(monkeypatch):
    monkeypatch.setattr(adtable, "MAX_FEATURES", 8)
    frame = gaussian_table(40, 2)
    for k in range(3):
        frame[f"cat{k}"] = [f"v{i % 4}" for i in range(40)]
    with pytest.raises(InputError, match="14 features after one-hot encoding"):
        adtable.prepare(frame)


# ------------------------------------------------------------------ files in and out
def test_csv_and_excel_give_the_same_features():
    from_csv = adtable.prepare(adtable.read_table(MIXED))
    from_excel = adtable.prepare(adtable.read_table(FIXTURES / "mixed_columns.xlsx"))
    assert from_excel.feature_names == from_csv.feature_names
    assert np.allclose(from_excel.values, from_csv.values)
    assert [c.role for c in from_excel.columns] == [c.role for c in from_csv.columns]


def test_scored_csv_round_trip_and_re_export(tmp_path):
    service = AnomalyDetector(detector="auto")
    detection = service.serve(str(MIXED), None, contamination=0.05, csv_path=str(tmp_path / "scored.csv"))
    scored = pd.read_csv(detection.csv_path)
    original = pd.read_csv(MIXED)
    assert list(scored.columns) == list(original.columns) + ["anomaly_score", "anomaly_flag", "anomaly_rank"]
    pd.testing.assert_frame_equal(scored[original.columns], original)
    assert np.allclose(scored["anomaly_score"], detection.scores)
    assert scored["anomaly_flag"].tolist() == threshold_for(detection.scores, 0.05)[1].astype(int).tolist()
    assert {17, 33} <= set(scored.index[scored["anomaly_flag"] == 1])  # the two planted anomalies
    assert scored.loc[scored["anomaly_rank"] == 1].index[0] in (17, 33)
    again = AnomalyDetector.export(detection.csv_path, str(tmp_path / "again.csv"), detection.scores, 0.25)
    rescored = pd.read_csv(again)
    assert rescored["anomaly_flag"].tolist() == threshold_for(detection.scores, 0.25)[1].astype(int).tolist()
    assert rescored["anomaly_flag"].sum() >= 10
    pd.testing.assert_frame_equal(rescored.drop(columns="anomaly_flag"), scored.drop(columns="anomaly_flag"))


def test_the_tabs_download_follows_the_slider(tmp_path, monkeypatch):
    import demos.anomaly_detection as tab
    from core.workers import call_model

    calls = []

    def in_process(task, variant, method, *args, **kwargs):  # what the worker pool would run
        calls.append(method)
        return call_model(task, variant, method, *args)

    monkeypatch.setattr(tab, "run_heavy", in_process)
    monkeypatch.setattr(tab, "output_file", lambda name: tmp_path / f"{len(calls)}_{name}")
    outputs = tab.detect_source("bundled", None, "wine", "copod", 0.05, "", "robust")
    detection = outputs[6]
    assert calls == ["serve"] and pd.read_csv(outputs[4])["anomaly_flag"].sum() == 7
    assert tab.export_csv(detection, 0.05) == detection.csv_path and calls == ["serve"]  # nothing to rewrite
    path = tab.export_csv(detection, 0.3)
    assert calls == ["serve", "export"] and Path(path).name.endswith("anomalies_wine.csv")
    assert pd.read_csv(path)["anomaly_flag"].sum() == 39 and pd.read_csv(detection.csv_path)["anomaly_flag"].sum() == 7


def test_output_columns_never_overwrite_the_tables_own(tmp_path):
    frame = gaussian_table(30).assign(anomaly_score=1.0)
    detection = AnomalyDetector(detector="ecod").detect(frame)
    path = write_csv(frame, detection, 0.1, tmp_path / "out.csv")
    columns = list(pd.read_csv(path).columns)
    assert columns[-4:] == ["anomaly_score", "anomaly_score_2", "anomaly_flag", "anomaly_rank"]


def test_json_rows_are_capped_for_long_tables():
    detection = AnomalyDetector(detector="hbos").serve(None, "sensor_multi_hop")
    result = payload(detection, 0.05, max_rows=1000)
    assert len(result["rows"]) == 1000 and result["rows_truncated"] and result["n_rows"] == 18_760
    assert result["n_flagged"] >= 938  # 5 %, more when rows tie with the last one (HBOS: one score per bin)
    assert sum(r["flag"] for r in result["rows"]) == min(result["n_flagged"], 1000)  # the highest scores are listed
    assert any("1,000 highest-scoring of 18,760 rows" in note for note in result["notes"])
    assert len(result["anomalies"]) == 100 and result["anomalies"][0]["rank"] == 1
    json.dumps(result)  # plain JSON types only


def test_bundled_sets_are_shipped_small_and_match_their_recipes():
    files = sorted(EXAMPLES.glob("*.csv"))
    assert [p.stem for p in files] == sorted(addata.SHIPPED)
    assert sum(p.stat().st_size for p in EXAMPLES.iterdir()) < 1_000_000
    wbc = addata.load_bundled("wbc")
    assert len(wbc) == 378 and wbc["label"].sum() == 21
    pd.testing.assert_frame_equal(wbc, addata.wbc(), check_exact=False, rtol=1e-12)
    wine = addata.load_bundled("wine")
    assert len(wine) == 129 and wine["label"].sum() == 10
    digits = addata.load_bundled("digits")
    assert digits["label"].sum() == 49 and len(digits) == 1668
    single = addata.load_bundled("sensor_single_hop")
    assert single.shape == (18_914, 6) and single["label"].sum() == 149


# ------------------------------------------------------------------ registry, card, API
def test_registry_adapter_and_shipped_config():
    model = get_model("anomaly_detection", "knn")
    assert isinstance(model, AnomalyDetector) and model.detector == "knn"
    config = load_config(SPEC.model_dir)
    metrics = json.loads((SPEC.card_dir / "metrics.json").read_text())
    assert set(config["auto"]["members"]) <= set(DETECTORS)
    assert config["auto"] == DEFAULT_CONFIG["auto"]  # the code's default is the benchmark's choice
    chosen = f"{config['auto']['combine']}: {'+'.join(config['auto']['members'])}"
    assert chosen in config["benchmark"]["auto_candidates"] or config["auto"]["members"] == ["ecod"]
    assert set(metrics["variants"]) == set(VARIANTS) == set(SPEC.variants)
    assert all((SPEC.card_dir / f).exists() for f in metrics["figures"])
    assert metrics["headline"]["metric"] == "roc_auc_mean" and not metrics["quick"]


def test_card_figures_are_reproduced_by_the_benchmark_code():
    """A spot check that the shipped numbers come from the code: re-run two cheap cells."""
    from core.tasks.anomaly_detection.benchmark import run_benchmark

    metrics = json.loads((SPEC.card_dir / "metrics.json").read_text())["variants"]
    config = load_config(SPEC.model_dir)
    result = run_benchmark(("wbc",), ("iforest", "copod"), tuple(config["benchmark"]["seeds"]), config, candidates=())
    assert result.mean("wbc", "iforest", "roc_auc") == pytest.approx(metrics["iforest"]["metrics"]["roc_auc_wbc"], abs=1e-12)
    assert result.mean("wbc", "copod", "average_precision") == pytest.approx(
        metrics["copod"]["metrics"]["average_precision_wbc"], abs=1e-12)


def test_quick_trainer_writes_the_card(tmp_path):
    from core.tasks.anomaly_detection.train import train

    metrics = train(tmp_path / "model", tmp_path / "card", quick=True)
    assert metrics["quick"] and metrics["headline"]["variant"] == "auto"
    assert set(metrics["variants"]) == set(VARIANTS)
    assert 0.5 < metrics["headline"]["value"] <= 1 and metrics["variants"]["auto"]["model"]["latency_ms"] > 0
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    assert set(config["auto"]["members"]) <= set(DETECTORS) and config["auto"]["combine"] in ("mean_rank", "mean_robust_z")
    assert len(config["benchmark"]["auto_candidates"]) == 7
    card = (tmp_path / "card" / "README.md").read_text()
    assert "Quick smoke run" in card and "Isolation Forest on wbc" in card
    assert all((tmp_path / "card" / f).exists() for f in metrics["figures"])


def test_api_with_a_file_upload(client):
    from gradio_client import handle_file

    out = client.predict(file=handle_file(str(EXAMPLES / "wine.csv")), detector="ecod", contamination=0.1,
                         api_name="/detect_anomalies")
    result = out[-1]
    assert result["detector"] == "ecod" and result["n_rows"] == 129 and len(result["rows"]) == 129
    assert result["n_flagged"] == 13 and sum(r["flag"] for r in result["rows"]) == 13
    assert result["label_column"] == "label" and 0.6 < result["metrics"]["roc_auc"] <= 1
    assert result["anomalies"][0]["features"] and result["explanation"].startswith("ECOD")
    assert result["latency_ms"] > 0 and result["timing"]["fit_rows"] == 129
    scored = pd.read_csv(out[4])  # outputs: summary, scatter, histogram, top rows, CSV, JSON
    assert len(scored) == 129 and scored["anomaly_flag"].sum() == 13


def test_api_excel_upload_bundled_default_and_label_choice(client):
    from gradio_client import handle_file

    result = client.predict(file=handle_file(str(FIXTURES / "mixed_columns.xlsx")), api_name="/detect_anomalies")[-1]
    assert result["detector"] == "auto" and result["n_rows"] == 40
    assert {r["row"] for r in result["rows"] if r["flag"]} == {17, 33}
    assert result["columns"]["imputed"] == {"temperature": 2}
    assert {d["column"] for d in result["columns"]["dropped"]} == {"record_id", "timestamp", "firmware", "comment",
                                                                     "mostly_empty"}
    unlabelled = client.predict(file=handle_file(str(MIXED)), label_column="none", api_name="/detect_anomalies")[-1]
    assert unlabelled["metrics"] is None and "is_anomaly" in unlabelled["columns"]["features"]
    bundled = client.predict(file=None, dataset="wbc", detector="iforest", api_name="/detect_anomalies")[-1]
    assert bundled["n_rows"] == 378 and bundled["metrics"]["n_anomalies"] == 21


@pytest.mark.parametrize("name, content, kwargs, message", [
    ("one_row.csv", "a,b\n1,2\n", {}, "at least 10 rows"),
    ("picture.csv", b"\x89PNG\r\n\x1a\n" + bytes(200), {}, "not a text CSV"),
    ("ok.csv", "a,b\n" + "\n".join(f"{i},{i % 4}" for i in range(30)), {"contamination": 0.7}, "greater than maximum"),
    ("ok.csv", "a,b\n" + "\n".join(f"{i},{i % 4}" for i in range(30)), {"detector": "svm"}, "not in the list of choices"),
    ("small.csv", "a,b\n" + "\n".join(f"{i * 1.5},{i % 4}" for i in range(12)), {"detector": "lof"}, "at least 21 rows"),
])
def test_api_bad_input_then_good_call(client, tmp_path, name, content, kwargs, message):
    from gradio_client import handle_file

    with pytest.raises(Exception, match=message):
        client.predict(file=handle_file(str(write(tmp_path, name, content))), **kwargs, api_name="/detect_anomalies")
    result = client.predict(file=None, dataset="wine", detector="hbos", api_name="/detect_anomalies")[-1]
    assert result["n_rows"] == 129


def test_demo_figures_and_axis_choice():
    import demos.anomaly_detection as tab

    detection = AnomalyDetector(detector="knn").serve(None, "sensor_single_hop")
    assert detection.plot.default_axes == ("humidity", "temperature")
    assert len(detection.plot.positions) == 2000 and set(detection.top[i]["position"] for i in range(100)) <= set(
        detection.plot.positions.tolist())
    _, flags = threshold_for(detection.scores, 0.05)
    figure = tab.scatter_figure(detection, flags, "PCA 1", "temperature")
    assert figure.layout.xaxis.title.text.startswith("PCA 1") and figure.layout.yaxis.title.text == "temperature"
    assert "2,000 of 18,914 rows shown" in figure.layout.title.text
    assert [trace.name for trace in figure.data][-1] == "labelled anomaly"
    with pytest.raises(InputError, match="not a feature"):
        tab.scatter_figure(detection, flags, "pressure", "temperature")
    table = tab.columns_table(detection)
    assert table.set_index("column").loc["reading", "used as"] == "dropped"
