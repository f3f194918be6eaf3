"""Metrics of rating prediction and of top-K lists, small enough to check by hand.

A held-out movie is *relevant* to a user when the user gave it 4 stars or more (RELEVANT). Ranking
metrics are averaged over the users with at least one relevant held-out movie; each user's list is
ranked among the movies they had not rated in the data the model was fitted on.

- precision@K = relevant movies in the top K / K; recall@K = relevant in the top K / all relevant.
- NDCG@K: binary gains, DCG = sum of 1 / log2(rank + 1) over relevant movies in the top K, divided by
  the DCG of a perfect list (min(K, relevant) hits first). The same as `sklearn.metrics.ndcg_score`
  on 0/1 relevance (a test checks it).
- AP@K: the mean of precision@r over the ranks r of the relevant movies in the top K, divided by
  min(K, relevant); MAP@K is its mean over users. Hit rate@K: share of users with at least one hit.
- coverage: share of the catalogue recommended to at least one user.
- novelty: mean self-information -log2(p) of the recommended movies, p = (users who rated the movie
  in training + 1) / (users + 1): higher means less popular movies.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

RELEVANT = 4.0
K = 10


def rmse(actual: Sequence[float], predicted: Sequence[float]) -> float:
    actual, predicted = np.asarray(actual, float), np.asarray(predicted, float)
    return float(np.sqrt(np.mean((actual - predicted) ** 2)))


def mae(actual: Sequence[float], predicted: Sequence[float]) -> float:
    actual, predicted = np.asarray(actual, float), np.asarray(predicted, float)
    return float(np.mean(np.abs(actual - predicted)))


def _hits(recommended: Sequence[int], relevant: Iterable[int], k: int) -> np.ndarray:
    relevant = set(relevant)
    return np.array([item in relevant for item in list(recommended)[:k]], dtype=float)


def precision_at_k(recommended: Sequence[int], relevant: Iterable[int], k: int = K) -> float:
    return float(_hits(recommended, relevant, k).sum() / k)


def recall_at_k(recommended: Sequence[int], relevant: Iterable[int], k: int = K) -> float:
    relevant = set(relevant)
    return float(_hits(recommended, relevant, k).sum() / len(relevant)) if relevant else 0.0


def ndcg_at_k(recommended: Sequence[int], relevant: Iterable[int], k: int = K) -> float:
    relevant = set(relevant)
    if not relevant:
        return 0.0
    hits = _hits(recommended, relevant, k)
    discounts = 1 / np.log2(np.arange(2, k + 2))
    ideal = discounts[:min(k, len(relevant))].sum()
    return float((hits * discounts[:len(hits)]).sum() / ideal)


def average_precision_at_k(recommended: Sequence[int], relevant: Iterable[int], k: int = K) -> float:
    relevant = set(relevant)
    if not relevant:
        return 0.0
    hits = _hits(recommended, relevant, k)
    precision_at_rank = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float((precision_at_rank * hits).sum() / min(k, len(relevant)))


def hit_at_k(recommended: Sequence[int], relevant: Iterable[int], k: int = K) -> float:
    return float(_hits(recommended, relevant, k).any())


def coverage(lists: Iterable[Sequence[int]], catalogue_size: int) -> float:
    """Share of the catalogue that appears in at least one list."""
    shown = {item for items in lists for item in items}
    return len(shown) / catalogue_size


def novelty(lists: Iterable[Sequence[int]], raters: dict[int, int], n_users: int) -> float:
    """Mean -log2((raters + 1) / (n_users + 1)) over every recommended movie of every list."""
    values = [-np.log2((raters.get(item, 0) + 1) / (n_users + 1)) for items in lists for item in items]
    return float(np.mean(values)) if values else 0.0


def ranking_report(lists: dict[int, Sequence[int]], relevant: dict[int, set[int]], raters: dict[int, int],
                   n_users: int, catalogue_size: int, k: int = K) -> dict[str, float]:
    """Every top-K metric for `lists` (user -> ranked movies) against `relevant` (user -> held-out movies
    rated >= RELEVANT). Accuracy metrics average over users with a relevant movie; coverage and
    novelty are over every user's list."""
    users = [u for u, items in relevant.items() if items and u in lists]
    per_user = {name: [fn(lists[u], relevant[u], k) for u in users] for name, fn in (
        ("precision", precision_at_k), ("recall", recall_at_k), ("ndcg", ndcg_at_k), ("map", average_precision_at_k),
        ("hit_rate", hit_at_k))}
    top = [list(items)[:k] for items in lists.values()]
    return {**{f"{name}_at_{k}": float(np.mean(values)) if values else 0.0 for name, values in per_user.items()},
            f"coverage_at_{k}": coverage(top, catalogue_size), f"novelty_at_{k}": novelty(top, raters, n_users),
            "users_evaluated": len(users)}
