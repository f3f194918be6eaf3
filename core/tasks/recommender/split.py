"""The per-user temporal holdout: each user's latest ratings are what the models must predict.

For every user the ratings are ordered by time (ties by movie id, so the split is deterministic) and
the last `fraction` of them (at least one; the user keeps at least `min_keep`) go to the held-out
side. Applied once to all ratings it gives train+validation | test; applied again to the training
part it gives train | validation, which chooses hyperparameters and blend weights. Nothing a model
sees was rated after anything it is tested on, for the same user.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def temporal_holdout(ratings: pd.DataFrame, fraction: float = 0.2, min_keep: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(earlier, later): per user, the last `fraction` of the ratings in time order go to `later`.

    A user with fewer than `min_keep + 1` ratings stays whole in `earlier`."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    ordered = ratings.sort_values(["user", "timestamp", "movie"], kind="stable")
    position = ordered.groupby("user").cumcount().to_numpy()
    size = ordered.groupby("user")["movie"].transform("size").to_numpy()
    held = np.maximum(1, np.round(size * fraction)).astype(int)
    held = np.where(size - held >= min_keep, held, np.maximum(0, size - min_keep))
    later = position >= size - held
    return ordered[~later].reset_index(drop=True), ordered[later].reset_index(drop=True)


def three_way(ratings: pd.DataFrame, fraction: float = 0.2) -> dict[str, pd.DataFrame]:
    """{"train", "validation", "test", "train_full"}: test = each user's last `fraction`; validation =
    the last `fraction` of what is left; train_full = train + validation (what the tested models fit)."""
    train_full, test = temporal_holdout(ratings, fraction)
    train, validation = temporal_holdout(train_full, fraction)
    return {"train": train, "validation": validation, "test": test, "train_full": train_full}


def describe(parts: dict[str, pd.DataFrame]) -> dict[str, dict]:
    """Ratings, users and movies per part (for the card)."""
    return {name: {"ratings": len(frame), "users": int(frame["user"].nunique()), "movies": int(frame["movie"].nunique())}
            for name, frame in parts.items()}
