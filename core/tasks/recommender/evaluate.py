"""Evaluating models on a temporal holdout: rating errors on the held-out pairs, and top-K lists
ranked among each user's unrated movies (metrics.py defines every figure).

The served variants are scored through `RecommenderModel` itself (what is measured is what the app
runs). surprise's other algorithms are scored from their fitted arrays: BaselineOnly (mu + bu + bi),
SVD++ (mu + bu + bi + qi.(pu + |N(u)|^-1/2 sum yj)) and KNNBaseline (its own formula over the k most
similar rated movies), which for rating pairs equals their `predict` (a test checks SVD's).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from core.tasks.recommender.metrics import K, RELEVANT, mae, ranking_report, rmse
from core.tasks.recommender.serving import RATING_MAX, RATING_MIN, Profile, RecommenderModel

Scorer = Callable[..., tuple[np.ndarray, np.ndarray]]  # (profile, candidates) -> (ranking score, rating) per movie


def relevant_sets(held_out: pd.DataFrame, threshold: float = RELEVANT) -> dict[int, set[int]]:
    """user -> the held-out movies they rated >= threshold (catalogue ids)."""
    liked = held_out[held_out["rating"] >= threshold]
    return {int(u): set(map(int, g)) for u, g in liked.groupby("user")["movie"]}


def variant_scorer(model: RecommenderModel, variant: str) -> Scorer:
    return lambda profile, base=None: model.scores(profile, variant, base)


Users = dict[int, tuple[Profile, np.ndarray]]  # user -> (profile, candidate mask before ranking)


def existing_users(model: RecommenderModel, users) -> Users:
    """Users of the model's data with their trained profiles; candidates: every movie they had not rated."""
    out = {}
    for user in users:
        profile = model.existing(int(user))
        out[int(user)] = (profile, model.unseen(profile))
    return out


def pair_ratings(model: RecommenderModel, scorer: Scorer | str, pairs: pd.DataFrame, users: Users | None = None) -> np.ndarray:
    """Predicted stars for each (user, movie) row of `pairs` (users of the model's data, or `users`)."""
    out = np.zeros(len(pairs))
    rows = pairs["movie"].map(model.catalogue.index).to_numpy()
    for user, positions in pairs.groupby("user").indices.items():
        profile = users[int(user)][0] if users is not None else model.existing(int(user))
        if scorer == "svd":  # the cheap path, exactly the served formula
            out[positions] = model.svd_ratings(profile)[rows[positions]]
        elif scorer == "content":
            out[positions] = model.content_ratings(profile, rows[positions])
        elif scorer == "hybrid":
            out[positions] = model.hybrid_rating(model.svd_ratings(profile)[rows[positions]],
                                                 model.content_ratings(profile, rows[positions]))
        elif scorer == "popularity":
            out[positions] = model.popularity_ratings()[rows[positions]]
        else:
            out[positions] = scorer(profile)[1][rows[positions]]
    return out


def top_lists(model: RecommenderModel, scorer: Scorer, users: Users, k: int = K) -> dict[int, list[int]]:
    """user -> their top-k movie ids among their candidates."""
    lists = {}
    for user, (profile, base) in users.items():
        score, _ = scorer(profile, base)
        lists[user] = model.catalogue.movies[model.top(score, base, k)].tolist()
    return lists


def evaluate_scorer(model: RecommenderModel, scorer: Scorer, held_out: pd.DataFrame, k: int = K,
                    rating_pairs: str | None = None, users: Users | None = None) -> tuple[dict, dict[int, list[int]]]:
    """Rating errors on every held-out pair and the top-k metrics; returns (metrics, lists). `users`
    (default: every held-out user, as the model knows them) gives each user's profile and candidates."""
    if users is None:
        users = existing_users(model, sorted(int(u) for u in held_out["user"].unique() if model.has_user(int(u))))
    held_out = held_out[held_out["user"].isin(list(users))]
    predicted = pair_ratings(model, rating_pairs or scorer, held_out, users)
    metrics = {"rmse": rmse(held_out["rating"], predicted), "mae": mae(held_out["rating"], predicted)}
    lists = top_lists(model, scorer, users, k)
    report = ranking_report(lists, relevant_sets(held_out), {int(m): int(c) for m, c in
                                                              zip(model.catalogue.movies, model.popularity) if c},
                            n_users=len(model.ratings.users), catalogue_size=len(model.catalogue), k=k)
    return {**metrics, **report}, lists


def new_users(model: RecommenderModel, seen: pd.DataFrame, first: int) -> Users:
    """Users unknown to `model` as the app meets them: each one's `first` ratings in time order are
    folded in; their candidates leave out every movie in `seen` (what they had rated before the
    held-out ratings, which the evaluation knows even if the model does not)."""
    out = {}
    ordered = seen.sort_values(["user", "timestamp", "movie"], kind="stable")
    for user, frame in ordered.groupby("user"):
        rows = frame["movie"].map(model.catalogue.index).to_numpy()
        profile = model.new_user(rows[:first], frame["rating"].to_numpy()[:first])
        base = np.ones(len(model.catalogue), dtype=bool)
        base[rows] = False
        out[int(user)] = (profile, base)
    return out


# ----------------------------------------------------------------------------- surprise's other algorithms
def _inner_items(algo, model: RecommenderModel) -> tuple[np.ndarray, np.ndarray]:
    """(catalogue rows of the algorithm's inner items, inner index per catalogue row or -1)."""
    ts = algo.trainset
    rows = np.array([model.catalogue.index[int(ts.to_raw_iid(i))] for i in range(ts.n_items)])
    inner = np.full(len(model.catalogue), -1)
    inner[rows] = np.arange(len(rows))
    return rows, inner


def surprise_scorer(algo, name: str, model: RecommenderModel) -> Scorer:
    """Full-catalogue estimates of a fitted surprise BaselineOnly, SVD++ or KNNBaseline (item-based),
    for users of its trainset, as `predict` computes them (unknown movies: the baseline's mu + bu)."""
    ts = algo.trainset
    rows, inner_of = _inner_items(algo, model)
    mu = ts.global_mean
    bu, bi = algo.bu, algo.bi  # KNNBaseline keeps its baselines there too
    item_bias = np.zeros(len(model.catalogue))
    item_bias[rows] = bi

    def score(profile: Profile, base: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        u = ts.to_inner_uid(profile.user)
        estimate = mu + bu[u] + item_bias
        if name == "svdpp":
            rated = np.array([j for j, _ in ts.ur[u]])
            implicit = algo.yj[rated].sum(0) / np.sqrt(len(rated))
            extra = np.zeros(len(model.catalogue))
            extra[rows] = algo.qi @ (algo.pu[u] + implicit)
            estimate = estimate + extra
        elif name == "knn_baseline":
            rated = np.array([j for j, _ in ts.ur[u]])
            stars = np.array([r for _, r in ts.ur[u]])
            residual = stars - (mu + bu[u] + bi[rated])
            sim = np.asarray(algo.sim[:, rated], dtype=np.float64)       # (inner items, rated)
            k = algo.k
            if sim.shape[1] > k:
                top = np.argpartition(-sim, k - 1, axis=1)[:, :k]
            else:
                top = np.tile(np.arange(sim.shape[1]), (sim.shape[0], 1))
            weights = np.take_along_axis(sim, top, axis=1)
            positive = weights > 0
            numerator = (np.where(positive, weights, 0) * residual[top]).sum(1)
            denominator = np.where(positive, weights, 0).sum(1)
            enough = positive.sum(1) >= algo.min_k
            extra = np.where(enough & (denominator > 0), numerator / np.where(denominator > 0, denominator, 1), 0)
            full = np.zeros(len(model.catalogue))
            full[rows] = extra
            estimate = estimate + full
        estimate = np.clip(estimate, RATING_MIN, RATING_MAX)
        return estimate, estimate

    return score


def surprise_pair_errors(algo, held_out: pd.DataFrame) -> dict[str, float]:
    """RMSE and MAE of surprise's own `predict` on the held-out pairs."""
    predictions = algo.test(list(held_out[["user", "movie", "rating"]].itertuples(index=False, name=None)))
    actual = np.array([p.r_ui for p in predictions])
    estimate = np.array([p.est for p in predictions])
    return {"rmse": rmse(actual, estimate), "mae": mae(actual, estimate)}


def fold_in_errors(model: RecommenderModel, held_out: pd.DataFrame) -> dict[str, float]:
    """Every held-out user treated as new: their fitted ratings folded in (no trained vector used),
    their held-out ratings predicted by SVD. Measures the new-user path of the app."""
    actual, predicted = [], []
    rows = held_out["movie"].map(model.catalogue.index).to_numpy()
    for user, positions in held_out.groupby("user").indices.items():
        if not model.has_user(int(user)):
            continue
        known = model.existing(int(user))
        profile = model.new_user(known.items, known.ratings)
        predicted.append(model.svd_ratings(profile)[rows[positions]])
        actual.append(held_out["rating"].to_numpy()[positions])
    actual, predicted = np.concatenate(actual), np.concatenate(predicted)
    return {"rmse": rmse(actual, predicted), "mae": mae(actual, predicted)}
