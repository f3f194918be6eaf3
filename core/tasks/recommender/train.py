"""Train, tune, evaluate and export task 09: `python -m core.train recommender` (about 10 minutes on 2 cores).

1. Split: each user's latest 20% of ratings are the test set; the latest 20% of the rest are the
   validation set (split.py). Everything is tuned on validation with models fitted on train.
2. Tune on validation: SVD hyperparameters (RMSE), the content model's block weights, k and
   shrinkage (RMSE), the new-user fold-in regularisation (RMSE of users folded in), the hybrid's
   candidate pool and blend weights (NDCG@10) and its rating blend (RMSE). The hybrid has a second
   blend for new users, tuned on 20% of the users held out of the fit and given only their first
   5 ratings (folded in), as a visitor of the tab would give them.
3. Compare surprise's SVD, SVD++, KNNBaseline and BaselineOnly by 5-fold cross-validation on
   train + validation (RMSE, MAE, fit time).
4. Test: every model refitted on train + validation with the chosen settings, scored on the
   held-out latest ratings (rating errors and top-10 metrics against the popularity baseline);
   and the new-user path: the held-out users' first 5 ratings folded in, their test ratings predicted.
5. Ship: the chosen models refitted on all ratings, exported as arrays into assets/models/recommender/,
   with the card (metrics.json + README.md) in model_cards/recommender/.

Progress goes to data/recommender/train.log (quick runs: next to their output).
"""
from __future__ import annotations

import copy
import itertools
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core.artifacts import hardware, training_log
from core.settings import apply_offline_defaults
from core.tasks.recommender.data import load_table, ratings_of
from core.tasks.recommender.evaluate import (evaluate_scorer, existing_users, fold_in_errors, new_users, pair_ratings,
                                             relevant_sets, surprise_pair_errors, surprise_scorer, variant_scorer)
from core.tasks.recommender.metrics import K, ndcg_at_k, rmse
from core.tasks.recommender.models import (CACHE, KNN_PARAMS, algorithm, build_model, catalogue_from, content_vectors,
                                           embeddings_cache, reduce_titles, title_embeddings, trainset)
from core.tasks.recommender.split import describe, three_way

apply_offline_defaults()

SEED = 0


@dataclass(frozen=True)
class Recipe:
    name: str = "full"
    sample: bool = False
    svd_grid: dict = field(default_factory=lambda: {"n_factors": [20, 50, 100], "reg_all": [0.05, 0.1, 0.15],
                                                    "n_epochs": [20, 40], "lr_all": [0.005, 0.01]})
    content_weights: tuple = ({"genre": 1.0, "year": 0.0, "title": 0.0}, {"genre": 0.7, "year": 0.3, "title": 0.0},
                              {"genre": 0.6, "year": 0.3, "title": 0.1}, {"genre": 0.5, "year": 0.2, "title": 0.3},
                              {"genre": 0.4, "year": 0.2, "title": 0.4}, {"genre": 0.3, "year": 0.1, "title": 0.6},
                              {"genre": 0.0, "year": 0.0, "title": 1.0})
    content_k: tuple = (20, 40)
    content_shrink: tuple = (0.5, 1.0, 2.0)
    user_damping: float = 5.0
    content_max_ratings: int = 300  # the content model reads a user's latest ratings only (latency)
    fold_in_regs: tuple = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
    blend_values: tuple = (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)
    pools: tuple = (200, 400, 1000, 100_000)  # the hybrid ranks the N most rated candidates (100,000: all)
    cold_fraction: float = 0.2  # users held out of the fit to tune and measure the new-user path
    cold_ratings: int = 5       # ... given their first ratings, as a visitor of the tab
    cv_folds: int = 5
    svdpp: dict = field(default_factory=lambda: {"n_epochs": 20})
    neighbours_k: int = 20
    rating_tolerance: float = 0.001  # fewer SVD factors are preferred within this much validation RMSE


FULL = Recipe()
QUICK = Recipe(name="quick", sample=True, svd_grid={"n_factors": [10, 20], "reg_all": [0.1], "n_epochs": [10], "lr_all": [0.01]},
               content_weights=({"genre": 0.6, "year": 0.3, "title": 0.1}, {"genre": 0.4, "year": 0.2, "title": 0.4}),
               content_k=(20,), content_shrink=(1.0,), fold_in_regs=(5.0, 20.0), blend_values=(0.0, 0.5, 1.0), pools=(50, 100_000),
               cv_folds=2, svdpp={"n_epochs": 2})

POPULAR = {"pool": 100_000, "weights": {"svd": 0.0, "content": 0.0, "popularity": 1.0}}
SURPRISE_NAMES = {"svd": "SVD (surprise)", "svdpp": "SVD++ (surprise)", "knn_baseline": "KNNBaseline (item-item, surprise)",
                  "baseline_only": "BaselineOnly (surprise)"}


def _config(recipe: Recipe, svd: dict, content: dict, fold_in_reg: float, hybrid: dict) -> dict:
    return {"version": 1, "task": "recommender", "variants": ["hybrid", "svd", "content", "popularity"],
            "svd": svd, "content": content, "fold_in_reg": fold_in_reg, "hybrid": hybrid,
            "popularity_damping": 10, "relevant_rating": 4.0, "k": K, "neighbours_k": recipe.neighbours_k}


def tune_svd(recipe: Recipe, parts: dict, log) -> tuple[dict, list[dict]]:
    """Every SVD setting of the grid fitted on train, RMSE on validation; the best (fewest factors
    within `rating_tolerance`)."""
    ts = trainset(parts["train"])
    rows = []
    keys = list(recipe.svd_grid)
    for values in itertools.product(*recipe.svd_grid.values()):
        params = dict(zip(keys, values))
        started = time.perf_counter()
        algo = algorithm("svd", params, SEED).fit(ts)
        errors = surprise_pair_errors(algo, parts["validation"])
        rows.append({**params, **errors, "fit_s": time.perf_counter() - started})
    best = min(r["rmse"] for r in rows)
    chosen = min((r for r in rows if r["rmse"] <= best + recipe.rating_tolerance),
                 key=lambda r: (r["n_factors"], r["n_epochs"], r["rmse"]))
    log.info("SVD: best validation RMSE %.4f; chosen %s (RMSE %.4f)", best, {k: chosen[k] for k in keys}, chosen["rmse"])
    return {k: chosen[k] for k in keys}, rows


def tune_content(recipe: Recipe, model, parts: dict, titles: np.ndarray, log) -> tuple[dict, list[dict]]:
    """Block weights, k and shrinkage of the content model by validation RMSE."""
    rows = []
    validation = parts["validation"]
    for weights in recipe.content_weights:
        model.content = content_vectors(model.catalogue, titles, weights)
        for k, shrink in itertools.product(recipe.content_k, recipe.content_shrink):
            model.config["content"].update(k=k, shrink=shrink)
            predicted = pair_ratings(model, "content", validation)
            rows.append({"weights": dict(weights), "k": k, "shrink": shrink, "rmse": rmse(validation["rating"], predicted)})
    chosen = min(rows, key=lambda r: r["rmse"])
    log.info("content: chosen %s", chosen)
    return {"weights": chosen["weights"], "k": chosen["k"], "shrink": chosen["shrink"],
            "user_damping": recipe.user_damping, "max_ratings": recipe.content_max_ratings}, rows


def tune_fold_in(recipe: Recipe, model, parts: dict, log) -> tuple[float, list[dict]]:
    rows = []
    for reg in recipe.fold_in_regs:
        model.config["fold_in_reg"] = reg
        rows.append({"reg": reg, **fold_in_errors(model, parts["validation"])})
    chosen = min(rows, key=lambda r: r["rmse"])["reg"]
    model.config["fold_in_reg"] = chosen
    log.info("fold-in: regularisation %s", chosen)
    return chosen, rows


def blend_grid(recipe: Recipe, model, users, relevant: dict[int, set[int]]) -> list[dict]:
    """Validation NDCG@10 of every (pool, weights) of the grid for `users` ({user: (profile, candidates)});
    the parts are computed once per user."""
    cached = [(user, model.svd_ratings(profile), model.content_ratings(profile), base)
              for user, (profile, base) in users.items() if relevant.get(user)]
    rows = []
    for pool in recipe.pools:
        parts = [(user, model.hybrid_parts(s, c, base, pool), base) for user, s, c, base in cached]
        for w_svd, w_content, w_pop in itertools.product(recipe.blend_values, recipe.blend_values, (0.0, 1.0)):
            if w_svd + w_content + w_pop == 0 or (w_pop == 0 and max(w_svd, w_content) < 1):
                continue  # without popularity only the ratio matters: one of the two is 1
            weights = {"svd": w_svd, "content": w_content, "popularity": w_pop}
            ndcg = [ndcg_at_k(model.catalogue.movies[model.top(model.blend(p, weights), base, K)].tolist(), relevant[user])
                    for user, p, base in parts]
            rows.append({"pool": pool, **weights, "ndcg_at_10": float(np.mean(ndcg)), "users": len(cached)})
    return rows


def best_setting(rows: list[dict]) -> dict:
    """The best row of `blend_grid` as a hybrid setting (weights summing to 1)."""
    best = max(rows, key=lambda r: r["ndcg_at_10"])
    total = best["svd"] + best["content"] + best["popularity"]
    return {"pool": best["pool"], "weights": {k: round(best[k] / total, 4) for k in ("svd", "content", "popularity")},
            "validation_ndcg_at_10": round(best["ndcg_at_10"], 4)}


def cold_users(ratings: pd.DataFrame, fraction: float, seed: int = SEED) -> list[int]:
    """A random `fraction` of the users, kept out of the models that measure the new-user path."""
    users = np.array(sorted(ratings["user"].unique()))
    return sorted(np.random.default_rng(seed).choice(users, max(1, round(fraction * len(users))), replace=False).tolist())


def cold_model(ratings: pd.DataFrame, cold: list[int], catalogue, content: np.ndarray, config: dict, svd_params: dict):
    """The served model refitted without the `cold` users (their ratings play no part in it)."""
    known = ratings[~ratings["user"].isin(cold)]
    svd = algorithm("svd", svd_params, SEED).fit(trainset(known))
    return build_model(known, catalogue, svd, None, content, copy.deepcopy(config))


def tune_hybrid(recipe: Recipe, model, parts: dict, cold: list[int], content: np.ndarray, log) -> tuple[dict, dict]:
    """Pool and weights by validation NDCG@10: "warm" for users of the fitted data, "cold" for users held
    out of the fit, given their first `cold_ratings` ratings; the rating blend by validation RMSE."""
    validation = parts["validation"]
    relevant = relevant_sets(validation)
    warm_rows = blend_grid(recipe, model, existing_users(model, sorted(u for u in relevant if model.has_user(u))), relevant)
    held_out = cold_model(parts["train"], cold, model.catalogue, content, model.config, model.config["svd"])
    newcomers = new_users(held_out, parts["train"][parts["train"]["user"].isin(cold)], recipe.cold_ratings)
    cold_rows = blend_grid(recipe, held_out, newcomers, relevant)
    svd_pairs, content_pairs = pair_ratings(model, "svd", validation), pair_ratings(model, "content", validation)
    blend = [(w, rmse(validation["rating"], np.clip(w * svd_pairs + (1 - w) * content_pairs, 0.5, 5)))
             for w in np.linspace(0, 1, 11)]
    config = {"warm": best_setting(warm_rows), "cold": {**best_setting(cold_rows), "first_ratings": recipe.cold_ratings},
              "rating_svd_weight": round(float(min(blend, key=lambda b: b[1])[0]), 2)}
    model.config["hybrid"] = config
    log.info("hybrid: %s", config)
    return config, {"warm": warm_rows, "cold": cold_rows}


def cross_validate_surprise(recipe: Recipe, ratings: pd.DataFrame, svd_params: dict, log) -> dict[str, dict]:
    """k-fold cross-validation (random folds) of surprise's four algorithms on `ratings`."""
    from surprise import Dataset, Reader
    from surprise.model_selection import KFold, cross_validate

    data = Dataset.load_from_df(ratings[["user", "movie", "rating"]], Reader(rating_scale=(0.5, 5.0)))
    out = {}
    for name, params in (("svd", svd_params), ("svdpp", recipe.svdpp), ("knn_baseline", KNN_PARAMS), ("baseline_only", {})):
        folds = KFold(n_splits=recipe.cv_folds, random_state=SEED, shuffle=True)
        result = cross_validate(algorithm(name, params, SEED), data, measures=["rmse", "mae"], cv=folds, n_jobs=1)
        out[name] = {"rmse": float(np.mean(result["test_rmse"])), "rmse_std": float(np.std(result["test_rmse"])),
                     "mae": float(np.mean(result["test_mae"])), "fit_s": float(np.mean(result["fit_time"])),
                     "test_s": float(np.mean(result["test_time"])), "params": params}
        log.info("cross-validation %s: %s", name, {k: round(v, 4) for k, v in out[name].items() if k != "params"})
    return out


def within_a_day(parts: dict) -> float:
    """Share of the test ratings given within a day of the same user's last rating before them."""
    last = parts["train_full"].groupby("user")["timestamp"].max()
    test = parts["test"]
    gap = test["timestamp"].to_numpy() - test["user"].map(last).fillna(-np.inf).to_numpy()
    return float((gap <= 86_400).mean())


def activity_table(lists_by_model: dict[str, dict], held_out: pd.DataFrame, fitted: pd.DataFrame) -> list[list]:
    """NDCG@10 per user-activity bucket (ratings in the fitted data) for each model."""
    relevant = relevant_sets(held_out)
    counts = fitted.groupby("user").size()
    buckets = [("< 30 ratings", 0, 29), ("30-99", 30, 99), ("100-299", 100, 299), ("300+", 300, 10**9)]
    rows = []
    for label, low, high in buckets:
        users = [u for u, items in relevant.items() if items and low <= counts.get(u, 0) <= high]
        row = [label, len(users)]
        for lists in lists_by_model.values():
            row.append(round(float(np.mean([ndcg_at_k(lists[u], relevant[u]) for u in users])) if users else 0.0, 4))
        rows.append(row)
    return rows


def train(out_dir: Path, card_dir: Path, quick: bool = False) -> dict:
    """The whole recipe (see the module docstring); returns the metrics written to the card."""
    from core.tasks.recommender.card import build_metrics, measure_latency, write_card

    recipe = QUICK if quick else FULL
    out_dir, card_dir = Path(out_dir), Path(card_dir)
    run = (out_dir.parent.parent / "runs" / "recommender_quick") if quick else CACHE
    run.mkdir(parents=True, exist_ok=True)
    log = training_log("recommender.train", run / "train.log")
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        timings[name] = round(time.perf_counter() - since, 1)
        log.info("%s done in %.1f s", name, timings[name])
        return time.perf_counter()

    t = time.perf_counter()
    table = load_table(sample=recipe.sample)
    catalogue = catalogue_from(table)
    ratings = ratings_of(table)
    parts = three_way(ratings)
    log.info("recipe %s; %s", recipe.name, describe(parts))
    cached = embeddings_cache(list(catalogue.titles)).exists()
    embeddings = title_embeddings(list(catalogue.titles))
    titles, variance = reduce_titles(embeddings)
    t = lap("data and title embeddings" + (" (embeddings from the cache)" if cached else ""), t)

    # ---------------------------------------------------------------- tuning on validation
    svd_params, svd_rows = tune_svd(recipe, parts, log)
    svd_train = algorithm("svd", svd_params, SEED).fit(trainset(parts["train"]))
    config = _config(recipe, svd_params, {"weights": dict(recipe.content_weights[0]), "k": recipe.content_k[0],
                                          "shrink": recipe.content_shrink[0], "user_damping": recipe.user_damping,
                                          "max_ratings": recipe.content_max_ratings},
                     recipe.fold_in_regs[0], {"warm": POPULAR, "cold": POPULAR, "rating_svd_weight": 1.0})
    validation_model = build_model(parts["train"], catalogue, svd_train, None, content_vectors(
        catalogue, titles, recipe.content_weights[0]), copy.deepcopy(config), recipe.neighbours_k)
    content_config, content_rows = tune_content(recipe, validation_model, parts, titles, log)
    config["content"] = content_config
    validation_model.config["content"] = content_config
    validation_model.content = content_vectors(catalogue, titles, content_config["weights"])
    fold_in_reg, fold_in_rows = tune_fold_in(recipe, validation_model, parts, log)
    config["fold_in_reg"] = fold_in_reg
    cold = cold_users(ratings, recipe.cold_fraction)
    hybrid_config, hybrid_rows = tune_hybrid(recipe, validation_model, parts, cold, validation_model.content, log)
    config["hybrid"] = hybrid_config
    t = lap("tuning on validation", t)

    cross_validation = cross_validate_surprise(recipe, parts["train_full"], svd_params, log)
    t = lap("cross-validation", t)

    # ---------------------------------------------------------------- test
    content = content_vectors(catalogue, titles, content_config["weights"])
    ts_full = trainset(parts["train_full"])
    fitted = {name: algorithm(name, params, SEED).fit(ts_full) for name, params in
              (("svd", svd_params), ("svdpp", recipe.svdpp), ("knn_baseline", KNN_PARAMS), ("baseline_only", {}))}
    test_model = build_model(parts["train_full"], catalogue, fitted["svd"], fitted["knn_baseline"], content,
                             copy.deepcopy(config), recipe.neighbours_k)
    test = parts["test"]
    results, lists = {}, {}
    for variant in ("popularity", "svd", "content", "hybrid"):
        results[variant], lists[variant] = evaluate_scorer(test_model, variant_scorer(test_model, variant), test,
                                                           rating_pairs=variant)
        log.info("test %s: %s", variant, {k: round(v, 4) for k, v in results[variant].items()})
    surprise_check = surprise_pair_errors(fitted["svd"], test)
    log.info("surprise's own predict for SVD: RMSE %.6f (served arrays: %.6f)", surprise_check["rmse"], results["svd"]["rmse"])
    for name in ("svdpp", "knn_baseline", "baseline_only"):
        scorer = surprise_scorer(fitted[name], name, test_model)
        metrics, lists[name] = evaluate_scorer(test_model, scorer, test)
        metrics.update(surprise_pair_errors(fitted[name], test))  # rating errors from surprise's own predict
        results[name] = metrics
        log.info("test %s: %s", name, {k: round(v, 4) for k, v in metrics.items()})
    cold_test_model = cold_model(parts["train_full"], cold, catalogue, content, config, svd_params)
    cold_seen = parts["train_full"][parts["train_full"]["user"].isin(cold)]
    newcomers = new_users(cold_test_model, cold_seen, recipe.cold_ratings)
    cold_results = {}
    for variant in ("popularity", "svd", "content", "hybrid"):
        cold_results[variant], _ = evaluate_scorer(cold_test_model, variant_scorer(cold_test_model, variant),
                                                   test[test["user"].isin(cold)], rating_pairs=variant, users=newcomers)
        log.info("test, new users (first %d ratings) %s: %s", recipe.cold_ratings, variant,
                 {k: round(v, 4) for k, v in cold_results[variant].items()})
    fold_in_test = fold_in_errors(test_model, test)
    log.info("fold-in on test (every user treated as new): %s", fold_in_test)
    activity = activity_table({m: lists[m] for m in ("popularity", "svd", "content", "hybrid")}, test, parts["train_full"])
    del fitted, test_model, cold_test_model
    t = lap("test evaluation", t)

    # ---------------------------------------------------------------- ship: refit on all ratings
    ts_all = trainset(ratings)
    svd_all = algorithm("svd", svd_params, SEED).fit(ts_all)
    knn_all = algorithm("knn_baseline", {}, SEED).fit(ts_all)
    served = build_model(ratings, catalogue, svd_all, knn_all, content, copy.deepcopy(config), recipe.neighbours_k)
    del knn_all
    paths = served.save(out_dir)
    t = lap("refit on all ratings and export", t)
    latency = measure_latency(out_dir, quick)
    lap("latency", t)
    minutes = round((time.perf_counter() - started) / 60, 2)
    log.info("finished in %.1f min", minutes)
    metrics = build_metrics(
        quick=quick, parts=describe(parts), catalogue_size=len(catalogue), results=results, activity=activity,
        cross_validation=cross_validation, tuning={"svd": svd_rows, "content": content_rows, "fold_in": fold_in_rows,
                                                   "hybrid": hybrid_rows},
        config=config, fold_in_test=fold_in_test, latency=latency, paths=paths, served=served,
        title_variance=variance, timings=timings, minutes=minutes, hardware=hardware(), recipe=asdict(recipe),
        users_evaluated=results["hybrid"]["users_evaluated"], surprise_check=surprise_check, cold_results=cold_results,
        cold_users=len(cold), same_day=within_a_day(parts))
    write_card(metrics, card_dir)
    return metrics


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    from core.train import run

    run("recommender", quick=args.quick)


if __name__ == "__main__":
    main()
