"""The benchmark behind the card: every detector on every bundled labelled set.

Each set goes through the tab's own column detection and scaling (`table.prepare`), each detector
is fitted on all rows and scores all rows (unsupervised: the labels are used only to score), with
the tab's subsample bounds, and is judged by ROC-AUC, average precision (AP) and precision@n
(n = the number of true anomalies). Detectors whose result depends on the seed (random trees,
network weights, or a random subsample on the larger sets) are run with several seeds and averaged.

"auto" is chosen here, by code: each candidate of AUTO_CANDIDATES (ECOD alone, or the mean of the
normalised scores of a few robust detectors, normalised by rank or by a robust z-score) is scored
from the members' own runs, and the one with the best mean ROC-AUC on the DESIGN_SETS wins. The HELD_OUT_SETS take no part in
that choice; the card reports them apart.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from core.tasks.anomaly_detection import data
from core.tasks.anomaly_detection.detectors import COMBINE, DETECTORS, combine, fit_score, is_random, merged_config
from core.tasks.anomaly_detection.evaluate import ranking_metrics
from core.tasks.anomaly_detection.table import Prepared, prepare

DESIGN_SETS = ("wbc", "wine", "sensor_single_hop")
HELD_OUT_SETS = ("sensor_multi_hop", "digits")
SEEDS = (0, 1, 2)
MEMBER_SETS: tuple[tuple[str, ...], ...] = (("iforest", "ecod", "knn"), ("iforest", "copod", "knn"),
                                          ("iforest", "copod", "hbos", "knn"))
Candidate = tuple[tuple[str, ...], str]  # (members, combination rule)
AUTO_CANDIDATES: tuple[Candidate, ...] = ((("ecod",), "mean_rank"),) + tuple(
    (members, rule) for rule in COMBINE for members in MEMBER_SETS)


def candidate_name(candidate: Candidate) -> str:
    """'ecod' or 'mean_robust_z: iforest+copod+hbos+knn'."""
    members, rule = candidate
    return members[0] if len(members) == 1 else f"{rule}: {'+'.join(members)}"
METRICS = ("roc_auc", "average_precision", "precision_at_n")


@dataclass
class Run:
    """One detector, one seed, one data set."""

    dataset: str
    detector: str
    seed: int
    roc_auc: float
    average_precision: float
    precision_at_n: float
    fit_ms: float    # the detector's fit call
    total_ms: float  # fit + a score for every row
    fit_rows: int


@dataclass
class BenchmarkResult:
    runs: list[Run]
    candidates: dict[str, dict[str, float]]  # candidate_name -> dataset -> mean ROC-AUC
    auto: Candidate | None                   # the chosen (members, rule)
    datasets: dict[str, dict]                # key -> rows, features, anomalies
    scores: dict[tuple[str, str, int], np.ndarray] = field(default_factory=dict)

    def mean(self, dataset: str, detector: str, metric: str) -> float:
        values = [getattr(r, metric) for r in self.runs if r.dataset == dataset and r.detector == detector]
        return float(np.mean(values))

    def std(self, dataset: str, detector: str, metric: str) -> float:
        values = [getattr(r, metric) for r in self.runs if r.dataset == dataset and r.detector == detector]
        return float(np.std(values))

    def seeds(self, dataset: str, detector: str) -> int:
        return sum(1 for r in self.runs if r.dataset == dataset and r.detector == detector)


def _run(prepared: Prepared, dataset: str, name: str, config: dict, seed: int) -> tuple[Run, np.ndarray]:
    start = time.perf_counter()
    fit = fit_score(name, prepared.X, config, seed)
    total = (time.perf_counter() - start) * 1000
    metrics = ranking_metrics(prepared.label, fit.scores)
    return Run(dataset, name, seed, metrics["roc_auc"], metrics["average_precision"], metrics["precision_at_n"],
               fit.fit_ms, total, fit.fit_rows), fit.scores


def warm_up(detectors, config: dict) -> None:
    """Fit each detector once on a tiny table, so imports and compilation (HBOS's numba, torch) are
    not timed as the first data set's fit."""
    X = np.random.default_rng(0).normal(size=(60, 3))
    for name in detectors:
        fit_score(name, X, config, 0)


def _ensemble(prepared: Prepared, dataset: str, candidate: Candidate, seed: int, runs: dict, scores: dict) -> Run:
    """A candidate scored from its members' runs with the same seed (exactly what fit_score("auto")
    computes); a member that does not depend on the seed was run once, with the first seed."""
    members, rule = candidate
    keys = [(dataset, m, seed) if (dataset, m, seed) in scores else min(k for k in scores if k[:2] == (dataset, m))
            for m in members]
    combined = combine([scores[key] for key in keys], rule) if len(members) > 1 else scores[keys[0]]
    metrics = ranking_metrics(prepared.label, combined)
    member_runs = [runs[key] for key in keys]
    return Run(dataset, candidate_name(candidate), seed, metrics["roc_auc"], metrics["average_precision"],
               metrics["precision_at_n"], sum(r.fit_ms for r in member_runs), sum(r.total_ms for r in member_runs),
               max(r.fit_rows for r in member_runs))


def run_benchmark(datasets: tuple[str, ...] = DESIGN_SETS + HELD_OUT_SETS, detectors: tuple[str, ...] = DETECTORS,
                  seeds: tuple[int, ...] = SEEDS, config: dict | None = None,
                  candidates: tuple[Candidate, ...] = AUTO_CANDIDATES, progress=None) -> BenchmarkResult:
    """Run every detector (and every auto candidate) on every data set; one BLAS thread, as in the
    app's workers. `progress(message)` is called before each data set."""
    config = merged_config(config)
    runs: dict[tuple[str, str, int], Run] = {}
    scores: dict[tuple[str, str, int], np.ndarray] = {}
    info: dict[str, dict] = {}
    candidate_runs: list[Run] = []
    needed = [name for name in DETECTORS if name in detectors or any(name in members for members, _ in candidates)]
    with threadpool_limits(1):
        warm_up(needed, config)
        for dataset in datasets:
            if progress:
                progress(dataset)
            prepared = prepare(data.load_bundled(dataset))
            n, d = prepared.X.shape
            info[dataset] = {"rows": n, "features": d, "anomalies": int((prepared.label == 1).sum()),
                             "anomaly_share": float((prepared.label == 1).mean())}
            for name in needed:
                for seed in (seeds if is_random(name, n, d, config) else seeds[:1]):
                    runs[(dataset, name, seed)], scores[(dataset, name, seed)] = _run(prepared, dataset, name, config, seed)
            for candidate in candidates:
                random = any(is_random(m, n, d, config) for m in candidate[0])
                for seed in (seeds if random else seeds[:1]):
                    candidate_runs.append(_ensemble(prepared, dataset, candidate, seed, runs, scores))
    names = [candidate_name(c) for c in candidates]
    table = {name: {ds: float(np.mean([r.roc_auc for r in candidate_runs if r.dataset == ds and r.detector == name]))
                    for ds in datasets} for name in names}
    design = [ds for ds in datasets if ds in DESIGN_SETS] or list(datasets)
    best = max(candidates, default=None, key=lambda c: (
        round(float(np.mean([table[candidate_name(c)][ds] for ds in design])), 6), -len(c[0])))
    result = [r for r in runs.values() if r.detector in detectors]
    if best is not None:
        result += [Run(r.dataset, "auto", r.seed, r.roc_auc, r.average_precision, r.precision_at_n, r.fit_ms,
                       r.total_ms, r.fit_rows) for r in candidate_runs if r.detector == candidate_name(best)]
    return BenchmarkResult(result, table, best, info, scores)
