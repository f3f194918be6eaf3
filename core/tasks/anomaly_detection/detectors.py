"""The detectors (pyod) and the "auto" ensemble: build, fit on a table, return one score per row.

Every detector is fitted per request on the request's own matrix; nothing is shared between
requests (each call builds its own pyod object), so concurrent requests cannot disturb each other.
The one exception is pyod's AutoEncoder, which seeds Python's, numpy's and torch's global random
generators when it is built and draws from them while it trains: it is built and trained under
`_TORCH_LOCK`, so two AutoEncoder fits in one process never interleave their random draws.

LOF, KNN and OCSVM cost grows with the square of the rows (and OCSVM's fit faster still). They
are fitted on a seeded random subsample of at most `max_fit_rows` rows, fewer for wide tables
(`fit_rows`), and every row is then scored against that sample. Rows of the sample keep their
training score, which excludes the row itself (a row is always its own nearest neighbour).
The AutoEncoder is trained on at most `max_fit_rows` rows too; IForest subsamples by design.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from scipy.stats import rankdata

from core.errors import InputError
from core.tasks.anomaly_detection.table import MIN_ROWS

DETECTORS = ("iforest", "lof", "knn", "ecod", "copod", "hbos", "ocsvm", "autoencoder")
VARIANTS = ("auto",) + DETECTORS
LABELS = {"auto": "auto (ensemble)", "iforest": "Isolation Forest", "lof": "Local Outlier Factor",
          "knn": "k-nearest neighbours", "ecod": "ECOD", "copod": "COPOD", "hbos": "HBOS",
          "ocsvm": "One-class SVM", "autoencoder": "AutoEncoder (torch)"}
PER_FEATURE = {"ecod", "copod"}  # detectors whose score is a sum of per-feature tail scores
SELF_EXCLUDING = {"lof", "knn"}  # training scores leave the row itself out

DEFAULT_CONFIG: dict = {
    "version": 1,
    "seed": 0,
    "pairwise_budget": 2e9,  # rows scored x rows fitted x features, for LOF / KNN / OCSVM
    "min_fit_rows": 500,
    "detectors": {
        "iforest": {"n_estimators": 100, "max_samples": 256},
        "lof": {"n_neighbors": 20, "max_fit_rows": 5000},
        "knn": {"n_neighbors": 5, "method": "largest", "max_fit_rows": 5000},
        "ecod": {},
        "copod": {},
        "hbos": {"n_bins": 10},
        "ocsvm": {"nu": 0.5, "max_fit_rows": 2000},
        "autoencoder": {"epochs": 20, "batch_size": 64, "max_fit_rows": 5000, "lr": 1e-3, "dropout": 0.1,
                        "max_hidden": 64},
    },
    # "auto": the mean of the members' normalised scores. train.py picks members and rule by benchmark and
    # writes them to config.json; this default is that choice (a test checks they agree)
    "auto": {"members": ["iforest", "copod", "hbos", "knn"], "combine": "mean_robust_z"},
}

SCORE_BATCH = 4096  # rows per forward pass when the AutoEncoder scores rows it was not trained on
_TORCH_LOCK = threading.Lock()


@dataclass
class FitResult:
    """One detector's scores on a table (higher = more anomalous) and what it took."""

    detector: str
    scores: np.ndarray                 # (n,)
    per_feature: np.ndarray | None     # (n, d) tail scores summing to `scores` (ECOD, COPOD), else None
    fit_rows: int
    fit_ms: float
    score_ms: float
    notes: list[str]
    members: dict[str, np.ndarray] | None = None  # auto: each member's scores


def merged_config(config: dict | None) -> dict:
    """DEFAULT_CONFIG updated by `config` (one level deep for the detector settings)."""
    config = config or {}
    merged = {**DEFAULT_CONFIG, **config}
    merged["detectors"] = {name: {**DEFAULT_CONFIG["detectors"][name], **config.get("detectors", {}).get(name, {})}
                           for name in DETECTORS}
    merged["auto"] = {**DEFAULT_CONFIG["auto"], **config.get("auto", {})}
    return merged


def min_rows(name: str, config: dict) -> int:
    """The fewest rows `name` can be fitted on."""
    settings = config["detectors"].get(name, {})
    if name in SELF_EXCLUDING:
        return max(MIN_ROWS, int(settings["n_neighbors"]) + 1)
    if name == "auto":
        return max(min_rows(member, config) for member in config["auto"]["members"])
    return MIN_ROWS


def fit_rows(name: str, n: int, d: int, config: dict) -> int:
    """How many rows `name` is fitted on: all of them, or a bounded subsample (module docstring)."""
    cap = config["detectors"][name].get("max_fit_rows")
    if cap is None:
        return n
    if name == "autoencoder":
        return min(n, int(cap))
    by_budget = int(float(config["pairwise_budget"]) / max(1, n * d))
    return min(n, int(cap), max(int(config["min_fit_rows"]), by_budget))


def build(name: str, config: dict, seed: int, n_fit: int, d: int) -> Any:
    """A fresh, unfitted pyod detector."""
    s = config["detectors"][name]
    if name == "iforest":
        from pyod.models.iforest import IForest

        return IForest(n_estimators=int(s["n_estimators"]), max_samples=min(int(s["max_samples"]), n_fit),
                       random_state=seed, n_jobs=1)
    if name == "lof":
        from pyod.models.lof import LOF

        return LOF(n_neighbors=int(s["n_neighbors"]), novelty=True, n_jobs=1)
    if name == "knn":
        from pyod.models.knn import KNN

        return KNN(n_neighbors=int(s["n_neighbors"]), method=s["method"], n_jobs=1)
    if name == "ecod":
        from pyod.models.ecod import ECOD

        return ECOD()
    if name == "copod":
        from pyod.models.copod import COPOD

        return COPOD()
    if name == "hbos":
        from pyod.models.hbos import HBOS

        return HBOS(n_bins=s["n_bins"])
    if name == "ocsvm":
        from pyod.models.ocsvm import OCSVM

        return OCSVM(nu=float(s["nu"]))
    if name == "autoencoder":
        import torch
        from pyod.models.auto_encoder import AutoEncoder

        first = int(min(s["max_hidden"], max(8, d)))
        hidden = [first, max(4, first // 2)]
        return AutoEncoder(epoch_num=int(s["epochs"]), batch_size=int(min(s["batch_size"], n_fit)), lr=float(s["lr"]),
                           hidden_neuron_list=hidden, dropout_rate=float(s["dropout"]), device=torch.device("cpu"),
                           random_state=seed, verbose=0)
    raise KeyError(f"unknown detector {name!r}")


def _finite(scores: np.ndarray) -> np.ndarray:
    """Scores as float64 with NaN / inf replaced by the finite extremes (a constant feature can give
    a 0/0 in some detectors)."""
    scores = np.asarray(scores, dtype=float).ravel().copy()
    finite = scores[np.isfinite(scores)]
    high, low = (finite.max(), finite.min()) if len(finite) else (0.0, 0.0)
    scores[np.isposinf(scores)] = high
    scores[np.isneginf(scores) | np.isnan(scores)] = low
    return scores


def _fit_single(name: str, X: np.ndarray, config: dict, seed: int) -> FitResult:
    n, d = X.shape
    m = fit_rows(name, n, d, config)
    notes = []
    sample = None
    if m < n:
        sample = np.sort(np.random.default_rng(seed).choice(n, size=m, replace=False))
        notes.append(f"{LABELS[name]} was fitted on a random sample of {m:,} of the {n:,} rows (its cost grows with "
                     "the square of the rows); every row was scored against it")
    detector = build(name, config, seed, m, d)
    start = time.perf_counter()
    detector.fit(X if sample is None else X[sample])
    fitted = time.perf_counter()
    if sample is None:
        scores = np.asarray(detector.decision_scores_, dtype=float)
    else:
        scores = np.asarray(detector.decision_function(X, batch_size=SCORE_BATCH) if name == "autoencoder"
                            else detector.decision_function(X), dtype=float)
        if name in SELF_EXCLUDING:
            scores[sample] = detector.decision_scores_
    scored = time.perf_counter()
    per_feature = np.asarray(detector.O, dtype=float).copy() if name in PER_FEATURE and sample is None else None
    return FitResult(name, _finite(scores), per_feature, m, (fitted - start) * 1000, (scored - fitted) * 1000, notes)


def _with_torch(fn: Callable[[], FitResult]) -> FitResult:
    """Run an AutoEncoder fit alone in this process, with one torch thread (module docstring)."""
    import torch

    with _TORCH_LOCK:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return fn()
        finally:
            torch.set_num_threads(threads)


def rank_normalise(scores: np.ndarray) -> np.ndarray:
    """Ranks scaled to (0, 1]: makes scores of different detectors comparable (ties share a rank)."""
    return rankdata(scores) / len(scores)


def robust_z_normalise(scores: np.ndarray) -> np.ndarray:
    """(score - median) / interquartile range (standard deviation, then 1, when that is 0): comparable
    across detectors like ranks, but a row far beyond the others stays far beyond them."""
    scores = np.asarray(scores, dtype=float)
    q75, q25 = np.percentile(scores, [75, 25])
    spread = (q75 - q25) or scores.std() or 1.0
    return (scores - np.median(scores)) / spread


COMBINE = {"mean_rank": rank_normalise, "mean_robust_z": robust_z_normalise}
RULE_WORDS = {"mean_rank": "rank-normalised", "mean_robust_z": "robust-z-normalised (median, interquartile range)"}


def combine(member_scores: list[np.ndarray], rule: str) -> np.ndarray:
    """The auto score: the mean of the members' scores after normalising each by `rule`."""
    if rule not in COMBINE:
        raise KeyError(f"unknown combination rule {rule!r}; one of {', '.join(COMBINE)}")
    return np.mean([COMBINE[rule](s) for s in member_scores], axis=0)


def fit_score(name: str, X: np.ndarray, config: dict | None = None, seed: int | None = None) -> FitResult:
    """Fit detector `name` ("auto" or one of DETECTORS) on X and score every row."""
    config = merged_config(config)
    seed = int(config["seed"] if seed is None else seed)
    if name not in VARIANTS:
        raise InputError(f"Unknown detector {name!r}; choose one of {', '.join(VARIANTS)}.")
    n = len(X)
    needed = min_rows(name, config)
    if n < needed:
        why = (f"{LABELS[name]} compares each row with its {config['detectors'][name]['n_neighbors']} nearest "
               "neighbours, so it" if name in SELF_EXCLUDING else f"{LABELS[name]}")
        raise InputError(f"{why} needs at least {needed} rows; this table has {n}. Upload more rows or choose "
                         "another detector (ECOD, HBOS or Isolation Forest work from 10 rows).")
    if name != "auto":
        fit = (lambda: _fit_single(name, X, config, seed))
        return _with_torch(fit) if name == "autoencoder" else fit()
    members = {}
    results = []
    for member in config["auto"]["members"]:
        result = fit_score(member, X, config, seed)
        results.append(result)
        members[member] = result.scores
    scores = combine(list(members.values()), config["auto"]["combine"])
    notes = [note for r in results for note in r.notes]
    return FitResult("auto", scores, None, max(r.fit_rows for r in results), sum(r.fit_ms for r in results),
                     sum(r.score_ms for r in results), notes, members)


def is_random(name: str, n: int, d: int, config: dict | None = None) -> bool:
    """Whether the seed changes `name`'s scores on an n x d table (random trees, weights or subsample)."""
    config = merged_config(config)
    if name == "auto":
        return any(is_random(member, n, d, config) for member in config["auto"]["members"])
    return name in {"iforest", "autoencoder"} or fit_rows(name, n, d, config) < n
