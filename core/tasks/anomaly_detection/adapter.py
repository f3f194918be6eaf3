"""The anomaly-detection service the app runs, configured from assets/models/anomaly_detection/config.json.

Nothing is pre-trained: each request fits the chosen pyod detector on the request's own table.
The shipped artifact is the configuration (detector settings, the subsample bounds and the
members of "auto", picked by `train.py` from the benchmark). `load(variant, model_dir)` returns
an `AnomalyDetector` for one variant.

One request is one call, `serve`, run in the task's worker process: read the table, detect the
columns, fit, score, explain the top rows, project for the scatter plot and write the CSV. What it
returns (`Detection`) holds every row's score, so the tab re-flags at another contamination with
`payload(detection, contamination)` without fitting again.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core.artifacts import load_json
from core.errors import InputError
from core.tasks.anomaly_detection import data as bundled
from core.tasks.anomaly_detection.detectors import DETECTORS, LABELS, RULE_WORDS, VARIANTS, fit_score, merged_config
from core.tasks.anomaly_detection.evaluate import check_contamination, flag_metrics, ranking_metrics, threshold_for
from core.tasks.anomaly_detection.explain import contributions, top_features
from core.tasks.anomaly_detection.table import SCALINGS, prepare, read_table

TOP_EXPLAINED = 100   # rows (highest scores) whose features are explained
PLOT_POINTS = 2000    # points drawn in the scatter plot (the top rows always among them)
PLOT_TOP = 300
PCA_FIT_ROWS = 20_000
MAX_JSON_ROWS = 5_000  # per-row scores in the JSON; the CSV always has every row
OUTPUT_COLUMNS = ("anomaly_score", "anomaly_flag", "anomaly_rank")


@dataclass
class PlotData:
    """The rows drawn in the scatter plot: a bounded sample, the most anomalous rows included."""

    positions: np.ndarray      # (m,) positions in the score arrays
    values: np.ndarray         # (m, d) feature values (before scaling), float32
    pca: np.ndarray            # (m, 2)
    pca_variance: list[float]  # share of variance of each component
    default_axes: tuple[str, str]


@dataclass
class Detection:
    """What one request computed. Small enough to keep in the user's session (scores of every row,
    explanations of the top rows, a plot sample), and never changed after it is made."""

    name: str
    detector: str
    scaling: str
    scores: np.ndarray          # (n,) higher = more anomalous
    rows: np.ndarray            # (n,) positions of the rows in the table (0 = first data row)
    label: np.ndarray | None    # (n,) 1 / 0 / -1 unknown
    label_column: str | None
    table_columns: list[str]
    feature_names: list[str]
    columns: dict               # columns by role (the API's "columns")
    roles: list[dict]           # every column: name, role, reason, empty cells
    explanation: str
    top: list[dict]             # TOP_EXPLAINED rows, highest score first: position, features
    plot: PlotData
    ranking: dict | None        # ROC-AUC, AP, precision@n when labels are present
    members: list[str]
    fit_rows: int
    fit_ms: float
    score_ms: float
    latency_ms: float
    notes: list[str] = field(default_factory=list)
    csv_path: str | None = None
    csv_contamination: float | None = None

    @property
    def n_rows(self) -> int:
        return int(len(self.scores))


def _plot_data(X: np.ndarray, values: np.ndarray, names: list[str], scores: np.ndarray, top: list[dict],
               seed: int) -> PlotData:
    from sklearn.decomposition import PCA

    n = len(scores)
    order = np.argsort(-scores, kind="stable")
    if n <= PLOT_POINTS:
        positions = np.arange(n)
    else:
        rest = np.random.default_rng(seed).choice(order[PLOT_TOP:], size=PLOT_POINTS - PLOT_TOP, replace=False)
        positions = np.sort(np.r_[order[:PLOT_TOP], rest])
    if X.shape[1] >= 2:
        fit_rows = X if n <= PCA_FIT_ROWS else X[np.random.default_rng(seed).choice(n, PCA_FIT_ROWS, replace=False)]
        pca = PCA(n_components=2, random_state=seed).fit(fit_rows)
        coords, variance = pca.transform(X[positions]), [float(v) for v in pca.explained_variance_ratio_]
    else:
        coords, variance = np.c_[X[positions, 0], np.zeros(len(positions))], [1.0, 0.0]
    return PlotData(positions, values[positions].astype(np.float32), coords.astype(np.float32), variance,
                    _default_axes(values, names, top))


def _default_axes(values: np.ndarray, names: list[str], top: list[dict]) -> tuple[str, str]:
    """Two features when the table has at most three non-binary ones (the two that most often make
    the top rows unusual), else the first two principal components."""
    continuous = [j for j in range(values.shape[1]) if len(np.unique(values[: 5000, j])) > 2]
    if not 2 <= len(continuous) <= 3:
        return "PCA 1", "PCA 2"
    counts = {names[j]: 0.0 for j in continuous}
    for item in top[:50]:
        for rank, feature in enumerate(item["features"]):
            if feature["feature"] in counts:
                counts[feature["feature"]] += 1.0 / (rank + 1)
    first, second = sorted(counts, key=lambda name: (-counts[name], names.index(name)))[:2]
    return (first, second) if names.index(first) < names.index(second) else (second, first)


class AnomalyDetector:
    """Fits one detector (or "auto") on a table per request.

    Args:
        config: the shipped configuration (see detectors.DEFAULT_CONFIG for the keys).
        detector: "auto" or one of detectors.DETECTORS.
    """

    def __init__(self, config: dict | None = None, detector: str = "auto") -> None:
        if detector not in VARIANTS:
            raise KeyError(f"unknown detector {detector!r}; choose auto or one of {', '.join(DETECTORS)}")
        self.config = merged_config(config)
        self.detector = detector

    def warm(self) -> None:
        """One detection on a tiny table: the worker pays the imports (scikit-learn, pyod) and HBOS's
        numba compilation at start-up instead of in the first request (core.workers calls it)."""
        self.detect(pd.DataFrame(np.random.default_rng(0).normal(size=(64, 3)), columns=["a", "b", "c"]))

    # -- the request (core.workers runs it in the task's worker pool)
    def serve(self, file: str | None, dataset: str | None, label_column: str | None = None,
              contamination: float = 0.05, scaling: str = "robust", csv_path: str | None = None) -> Detection:
        """Read the uploaded file (else the bundled `dataset`), detect, and write the CSV to `csv_path`."""
        started = time.perf_counter()
        contamination = check_contamination(contamination)
        if file:
            frame, name = read_table(file), Path(file).name
        elif dataset:
            frame, name = bundled.load_bundled(dataset), bundled.BUNDLED[dataset].label if dataset in bundled.BUNDLED else dataset
        else:
            raise InputError("Upload a CSV or Excel file, or choose one of the bundled data sets.")
        detection = self.detect(frame, name, label_column, scaling)
        if csv_path:
            write_csv(frame, detection, contamination, csv_path)
            detection.csv_path, detection.csv_contamination = str(csv_path), contamination
        detection.latency_ms = (time.perf_counter() - started) * 1000
        return detection

    def detect(self, frame: pd.DataFrame, name: str = "table", label_column: str | None = None,
               scaling: str = "robust") -> Detection:
        """Columns -> features -> fit and score -> explanations, metrics and the plot sample."""
        started = time.perf_counter()
        if scaling not in SCALINGS:
            raise InputError(f"Unknown scaling {scaling!r}; choose one of {', '.join(SCALINGS)}.")
        prepared = prepare(frame, label_column, scaling)
        fit = fit_score(self.detector, prepared.X, self.config)
        scores = fit.scores
        contribution, direction, method = contributions(self.detector, prepared.values, fit.per_feature)
        order = np.argsort(-scores, kind="stable")[:TOP_EXPLAINED]
        features = top_features(contribution, direction, prepared.values, prepared.feature_names, order)
        top = [{"position": int(p), "features": f} for p, f in zip(order, features)]
        plot = _plot_data(prepared.X, prepared.values, prepared.feature_names, scores, top, int(self.config["seed"]))
        members = list(fit.members) if fit.members else [self.detector]
        notes = prepared.notes + fit.notes
        if self.detector == "auto":
            notes.insert(0, f"auto: the mean of the {RULE_WORDS[self.config['auto']['combine']]} scores of "
                         + ", ".join(LABELS[m] for m in members))
        return Detection(name=name, detector=self.detector, scaling=scaling, scores=scores,
                         rows=prepared.rows.astype(np.int64), label=prepared.label, label_column=prepared.label_column,
                         table_columns=list(map(str, frame.columns)), feature_names=prepared.feature_names,
                         columns=prepared.column_summary(), roles=[c.to_dict() for c in prepared.columns],
                         explanation=method, top=top, plot=plot,
                         ranking=ranking_metrics(prepared.label, scores), members=members, fit_rows=fit.fit_rows,
                         fit_ms=fit.fit_ms, score_ms=fit.score_ms,
                         latency_ms=(time.perf_counter() - started) * 1000, notes=notes)

    # -- re-flagging's CSV (also in the worker: it reads and writes the whole table)
    @staticmethod
    def export(source_csv: str, target_csv: str, scores: np.ndarray, contamination: float) -> str:
        """The CSV written by `serve`, with the flag column set for another contamination."""
        frame = pd.read_csv(source_csv, dtype=str, keep_default_na=False)
        _, flags = threshold_for(scores, contamination)
        if len(frame) != len(scores) or frame.shape[1] < len(OUTPUT_COLUMNS):
            raise InputError("The scored table is no longer available; run the detection again.")
        frame[frame.columns[-2]] = flags.astype(int)  # written by write_csv: ..., score, flag, rank
        frame.to_csv(target_csv, index=False)
        return target_csv


def _free_name(name: str, taken: set[str]) -> str:
    candidate, k = name, 2
    while candidate in taken:
        candidate, k = f"{name}_{k}", k + 1
    return candidate


def write_csv(frame: pd.DataFrame, detection: Detection, contamination: float, path: str | Path) -> Path:
    """The table's own columns plus anomaly_score, anomaly_flag (1 = flagged) and anomaly_rank (1 =
    most anomalous); a name already in the table gets a suffix."""
    _, flags = threshold_for(detection.scores, contamination)
    out = frame.copy()
    taken = set(map(str, out.columns))
    ranks = np.empty(len(detection.scores), dtype=np.int64)
    ranks[np.argsort(-detection.scores, kind="stable")] = np.arange(1, len(detection.scores) + 1)
    for column, values in zip(OUTPUT_COLUMNS, (detection.scores, flags.astype(int), ranks)):
        name = _free_name(column, taken)
        taken.add(name)
        out[name] = values
    path = Path(path)
    out.to_csv(path, index=False)
    return path


def payload(detection: Detection, contamination: float, max_rows: int = MAX_JSON_ROWS) -> dict:
    """The API's JSON for `detection` flagged at `contamination` (no refit: scores are kept)."""
    contamination = check_contamination(contamination)
    threshold, flags = threshold_for(detection.scores, contamination)
    scores, rows = detection.scores, detection.rows
    if detection.n_rows <= max_rows:
        chosen = np.arange(detection.n_rows)
    else:
        chosen = np.sort(np.argsort(-scores, kind="stable")[:max_rows])
    anomalies = [{"row": int(rows[item["position"]]), "score": float(scores[item["position"]]), "rank": rank,
                  "features": item["features"]}
                 for rank, item in enumerate(detection.top, start=1) if flags[item["position"]]]
    metrics = None
    if detection.ranking is not None:
        metrics = {**detection.ranking, "at_threshold": flag_metrics(detection.label, flags)}
    notes = list(detection.notes)
    if len(chosen) < detection.n_rows:
        notes.append(f"the JSON lists the {len(chosen):,} highest-scoring of {detection.n_rows:,} rows; the CSV has "
                     "every row")
    return {
        "detector": detection.detector, "detector_label": LABELS[detection.detector], "members": detection.members,
        "scaling": detection.scaling, "source": detection.name, "n_rows": detection.n_rows,
        "contamination": contamination, "threshold": threshold, "n_flagged": int(flags.sum()),
        "rows": [{"row": int(rows[i]), "score": float(scores[i]), "flag": bool(flags[i])} for i in chosen],
        "rows_truncated": bool(len(chosen) < detection.n_rows),
        "anomalies": anomalies, "explanation": detection.explanation, "columns": detection.columns,
        "label_column": detection.label_column, "metrics": metrics, "notes": notes,
        "timing": {"fit_ms": round(detection.fit_ms, 1), "score_ms": round(detection.score_ms, 1),
                   "fit_rows": detection.fit_rows},
        "latency_ms": round(detection.latency_ms, 1),
    }


def load_config(model_dir: Path) -> dict:
    path = Path(model_dir) / "config.json"
    return merged_config(load_json(path) if path.exists() else None)


def load(variant: str, model_dir: Path) -> AnomalyDetector:
    """Registry loader: an AnomalyDetector for `variant` ("auto" or a detector name)."""
    return AnomalyDetector(load_config(model_dir), detector=variant)
