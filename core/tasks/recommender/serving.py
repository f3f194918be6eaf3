"""The served recommender: arrays in, scores out. No pickle is ever read.

`RecommenderModel` holds everything the app needs, as plain numpy arrays and JSON:

- the catalogue (every MovieLens movie: id, title, year, genres);
- the ratings the model was fitted on (for histories, popularity, and the movies to leave out);
- surprise's SVD exported as arrays: global mean, user and item biases, user factors `pu`, item
  factors `qi`, and the raw ids behind the rows (`svd_users`; items follow the catalogue's order,
  with zero rows for movies the SVD never saw, which is exactly how surprise predicts them);
- the content model's item vectors (genres, year, MiniLM title embedding reduced by PCA);
- the KNNBaseline item-item neighbours (top-k by shrunk pearson-baseline similarity), for explanations;
- the hybrid's blend weights and the fold-in regularisation (config.json).

A `Profile` is one user's ratings (an existing user's, or a new user's) and their SVD vector: the
trained one, or one folded in by ridge regression on the item factors and biases (no retraining).
Scoring returns, for every movie of the catalogue, the ranking score of a variant and its predicted
rating; everything is computed per request from read-only arrays, so requests never share state.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.tasks.recommender.metrics import RELEVANT

VARIANTS = ("hybrid", "svd", "content", "popularity")
CONFIG, CATALOGUE, ARRAYS = "config.json", "catalogue.json", "arrays.npz"
RATING_MIN, RATING_MAX = 0.5, 5.0


@dataclass(frozen=True)
class Catalogue:
    """Every movie: ids, titles, years (0 = unknown), genres; `label` is "Title (Year)", unique."""

    movies: np.ndarray
    titles: list[str]
    years: np.ndarray
    genres: list[list[str]]
    labels: list[str]
    genre_names: list[str]
    genre_matrix: np.ndarray = field(repr=False)   # (movies, genres) 0/1
    index: dict[int, int] = field(repr=False)      # movie id -> row

    @classmethod
    def build(cls, movies: np.ndarray, titles: list[str], years: np.ndarray, genres: list[list[str]],
              labels: list[str] | None = None) -> "Catalogue":
        from collections import Counter

        counts = Counter(g for gs in genres for g in gs)
        names = [g for g, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        column = {g: i for i, g in enumerate(names)}
        matrix = np.zeros((len(movies), len(names)), dtype=np.float32)
        for row, gs in enumerate(genres):
            matrix[row, [column[g] for g in gs]] = 1
        if labels is None:
            from core.tasks.recommender.data import display_title

            plain = [display_title(t, y or None, int(m)) for t, y, m in zip(titles, years, movies)]
            seen = Counter(plain)
            labels = [f"{p} #{m}" if seen[p] > 1 else p for p, m in zip(plain, movies)]
        return cls(np.asarray(movies, np.int64), list(titles), np.asarray(years, np.int64), [list(g) for g in genres],
                   list(labels), names, matrix, {int(m): i for i, m in enumerate(movies)})

    def __len__(self) -> int:
        return len(self.movies)

    def to_json(self) -> dict:
        return {"movie": self.movies.tolist(), "title": self.titles, "year": self.years.tolist(),
                "genres": ["|".join(g) for g in self.genres]}

    @classmethod
    def from_json(cls, data: dict) -> "Catalogue":
        return cls.build(np.array(data["movie"]), data["title"], np.array(data["year"]),
                         [g.split("|") if g else [] for g in data["genres"]])


@dataclass(frozen=True)
class Ratings:
    """The ratings a model was fitted on, grouped by user (rows of one user are contiguous, oldest first)."""

    users: np.ndarray       # raw user ids, one per group
    offsets: np.ndarray     # group g is rows offsets[g]:offsets[g+1]
    items: np.ndarray       # catalogue rows
    values: np.ndarray      # stars
    timestamps: np.ndarray  # seconds since 1970

    @classmethod
    def build(cls, user: np.ndarray, item: np.ndarray, rating: np.ndarray, timestamp: np.ndarray) -> "Ratings":
        order = np.lexsort((item, timestamp, user))
        user, item, rating, timestamp = user[order], item[order], rating[order], timestamp[order]
        users, starts = np.unique(user, return_index=True)
        return cls(users.astype(np.int64), np.append(starts, len(user)).astype(np.int64), item.astype(np.int64),
                   rating.astype(np.float64), timestamp.astype(np.int64))

    @property
    def user_index(self) -> dict[int, int]:
        return {int(u): g for g, u in enumerate(self.users)}

    def of(self, group: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a, b = self.offsets[group], self.offsets[group + 1]
        return self.items[a:b], self.values[a:b], self.timestamps[a:b]

    def raters(self, n_items: int) -> np.ndarray:
        """How many users rated each catalogue row."""
        return np.bincount(self.items, minlength=n_items)


@dataclass(frozen=True)
class Profile:
    """One user as the models see them: rated catalogue rows and stars, and an SVD vector."""

    items: np.ndarray
    ratings: np.ndarray
    bu: float
    pu: np.ndarray
    user: int | None = None           # raw id of an existing user; None for a new one
    timestamps: np.ndarray | None = None

    @property
    def is_new(self) -> bool:
        return self.user is None


@dataclass
class RecommenderModel:
    """Everything served; see the module docstring. Built by training (`models.export`) or `load`."""

    catalogue: Catalogue
    ratings: Ratings
    mu: float
    bu: np.ndarray
    bi: np.ndarray
    pu: np.ndarray
    qi: np.ndarray
    svd_users: np.ndarray
    content: np.ndarray               # (movies, d) unit rows: the content model's item vectors
    neighbours: np.ndarray            # (movies, k) catalogue rows, -1 = none
    neighbour_sim: np.ndarray         # (movies, k)
    config: dict
    _svd_index: dict[int, int] = field(init=False, repr=False)
    _raters: np.ndarray = field(init=False, repr=False)
    _log_popularity: np.ndarray = field(init=False, repr=False)
    _damped_mean: np.ndarray = field(init=False, repr=False)
    _user_index: dict[int, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.catalogue)
        self._svd_index = {int(u): i for i, u in enumerate(self.svd_users)}
        self._user_index = self.ratings.user_index
        self._raters = self.ratings.raters(n)
        self._log_popularity = np.log1p(self._raters).astype(np.float64)
        sums = np.bincount(self.ratings.items, weights=self.ratings.values, minlength=n)
        damping = float(self.config.get("popularity_damping", 10))
        global_mean = float(self.ratings.values.mean()) if len(self.ratings.values) else self.mu
        self._damped_mean = (sums + damping * global_mean) / (self._raters + damping)
        for array in (self.bu, self.bi, self.pu, self.qi, self.content, self.neighbours, self.neighbour_sim,
                      self.catalogue.genre_matrix, self._raters, self._log_popularity, self._damped_mean):
            array.setflags(write=False)  # served arrays are read-only: no request can change them

    # ------------------------------------------------------------------ I/O
    def save(self, folder: Path) -> list[Path]:
        """config.json + catalogue.json + arrays.npz (compressed; factors float32, content float16)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        counts = np.diff(self.ratings.offsets)
        config = {**self.config, "genres": self.catalogue.genre_names,  # what the tab needs without loading the model
                  "users": [[int(u), int(n)] for u, n in zip(self.ratings.users, counts)]}
        (folder / CONFIG).write_text(json.dumps(config, indent=1))
        (folder / CATALOGUE).write_text(json.dumps(self.catalogue.to_json(), ensure_ascii=False, separators=(",", ":")))
        r = self.ratings
        users_per_row = np.repeat(np.arange(len(r.users)), np.diff(r.offsets))
        np.savez_compressed(
            folder / ARRAYS,
            mu=np.float64(self.mu), bu=self.bu.astype(np.float32), bi=self.bi.astype(np.float32),
            pu=self.pu.astype(np.float32), qi=self.qi.astype(np.float32), svd_users=self.svd_users.astype(np.int32),
            content=self.content.astype(np.float16), neighbours=self.neighbours.astype(np.int16),
            neighbour_sim=self.neighbour_sim.astype(np.float16),
            rating_users=r.users.astype(np.int32), rating_user=users_per_row.astype(np.int16),
            rating_item=r.items.astype(np.int16), rating_half_stars=np.round(r.values * 2).astype(np.uint8),
            rating_time=r.timestamps.astype(np.int64))
        return [folder / CONFIG, folder / CATALOGUE, folder / ARRAYS]

    @classmethod
    def load(cls, folder: Path) -> "RecommenderModel":
        folder = Path(folder)
        config = json.loads((folder / CONFIG).read_text())
        catalogue = Catalogue.from_json(json.loads((folder / CATALOGUE).read_text(encoding="utf-8")))
        with np.load(folder / ARRAYS, allow_pickle=False) as a:
            users = a["rating_users"].astype(np.int64)
            ratings = Ratings.build(users[a["rating_user"].astype(np.int64)], a["rating_item"].astype(np.int64),
                                    a["rating_half_stars"].astype(np.float64) / 2, a["rating_time"].astype(np.int64))
            content = a["content"].astype(np.float32)
            content /= np.maximum(np.linalg.norm(content, axis=1, keepdims=True), 1e-6)
            return cls(catalogue, ratings, float(a["mu"]), a["bu"].astype(np.float64), a["bi"].astype(np.float64),
                       a["pu"].astype(np.float64), a["qi"].astype(np.float64), a["svd_users"].astype(np.int64),
                       content, a["neighbours"].astype(np.int64), a["neighbour_sim"].astype(np.float32), config)

    # ------------------------------------------------------------------ users
    @property
    def popularity(self) -> np.ndarray:
        """Users who rated each movie in the fitted data."""
        return self._raters

    def has_user(self, user: int) -> bool:
        return int(user) in self._user_index

    def existing(self, user: int) -> Profile:
        """The profile of a user of the fitted data: their ratings and their trained SVD vector."""
        items, values, times = self.ratings.of(self._user_index[int(user)])
        row = self._svd_index.get(int(user))
        if row is None:
            return Profile(items, values, 0.0, np.zeros(self.qi.shape[1]), int(user), times)
        return Profile(items, values, float(self.bu[row]), self.pu[row], int(user), times)

    def fold_in(self, items: np.ndarray, ratings: np.ndarray) -> tuple[float, np.ndarray]:
        """A new user's (bu, pu) without retraining: ridge regression of (rating - mu - bi) on [1, qi]
        over the rated movies the SVD knows, regularisation `fold_in_reg` (chosen on validation)."""
        reg = float(self.config.get("fold_in_reg", 5.0))
        items = np.asarray(items, np.int64)
        known = np.abs(self.qi[items]).sum(1) > 0
        if not known.any():
            return 0.0, np.zeros(self.qi.shape[1])
        x = np.hstack([np.ones((int(known.sum()), 1)), self.qi[items[known]]])
        y = np.asarray(ratings, np.float64)[known] - self.mu - self.bi[items[known]]
        solution = np.linalg.solve(x.T @ x + reg * np.eye(x.shape[1]), x.T @ y)
        return float(solution[0]), solution[1:]

    def new_user(self, items: np.ndarray, ratings: np.ndarray) -> Profile:
        items, ratings = np.asarray(items, np.int64), np.asarray(ratings, np.float64)
        bu, pu = self.fold_in(items, ratings)
        return Profile(items, ratings, bu, pu)

    # ------------------------------------------------------------------ scores over the whole catalogue
    def svd_ratings(self, profile: Profile) -> np.ndarray:
        """surprise's SVD estimate for every movie: mu + bu + bi + qi.pu, clipped to the scale."""
        return np.clip(self.mu + profile.bu + self.bi + self.qi @ profile.pu, RATING_MIN, RATING_MAX)

    def user_baseline(self, profile: Profile) -> float:
        """The content model's baseline for a user: their mean rating, damped towards the global mean."""
        damping = float(self.config["content"]["user_damping"])
        return float((profile.ratings.sum() + damping * self.mu) / (len(profile.ratings) + damping))

    def content_ratings(self, profile: Profile, rows: np.ndarray | None = None) -> np.ndarray:
        """The content model: for each movie, its k most similar rated movies (positive similarity) among
        the user's `max_ratings` latest, r = baseline + sum(sim * (rating - baseline)) / (sum(sim) + shrink)."""
        cfg = self.config["content"]
        n = len(self.catalogue) if rows is None else len(rows)
        base = self.user_baseline(profile)
        if len(profile.items) == 0:
            return np.full(n, base)
        latest = int(cfg.get("max_ratings", 0)) or len(profile.items)
        items, ratings = profile.items[-latest:], profile.ratings[-latest:]  # a user's latest ratings (time order)
        target = self.content if rows is None else self.content[rows]
        sim = np.maximum(target @ self.content[items].T, 0)
        k = int(cfg["k"])
        residual = (ratings - base).astype(np.float32)
        if sim.shape[1] > k:
            top = np.argpartition(-sim, k - 1, axis=1)[:, :k]
            weights = np.take_along_axis(sim, top, axis=1)
            numerator = (weights * residual[top]).sum(1)
        else:
            weights = sim
            numerator = sim @ residual
        return np.clip(base + numerator / (weights.sum(1) + float(cfg["shrink"])), RATING_MIN, RATING_MAX)

    def popularity_ratings(self) -> np.ndarray:
        """The popularity model's rating: each movie's mean rating, damped towards the global mean."""
        return self._damped_mean

    def scores(self, profile: Profile, variant: str, base: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(ranking score, predicted rating) of every movie for `variant`; -inf marks movies the variant
        does not rank. `base` is the boolean mask of the candidates before any "not interested"
        (default: every movie the user has not rated): the hybrid draws its pool from it."""
        if variant == "popularity":
            return self._log_popularity.copy(), self._damped_mean.copy()
        if variant == "svd":
            rating = self.svd_ratings(profile)
            return rating, rating
        if variant == "content":
            rating = self.content_ratings(profile)
            return rating, rating
        if variant != "hybrid":
            raise KeyError(f"Unknown model {variant!r}; choose one of {', '.join(VARIANTS)}")
        svd, content = self.svd_ratings(profile), self.content_ratings(profile)
        base = self.unseen(profile) if base is None else base
        return self.hybrid_score(svd, content, base, self.hybrid_setting(profile)), self.hybrid_rating(svd, content)

    def hybrid_setting(self, profile: Profile) -> dict:
        """The blend for this user: "cold" (tuned on users held out of training, from their first ratings)
        for a new user, "warm" for a user of the fitted data."""
        return self.config["hybrid"]["cold" if profile.is_new else "warm"]

    def hybrid_rating(self, svd: np.ndarray, content: np.ndarray) -> np.ndarray:
        w = float(self.config["hybrid"]["rating_svd_weight"])
        return np.clip(w * svd + (1 - w) * content, RATING_MIN, RATING_MAX)

    def pool(self, base: np.ndarray, size: int) -> np.ndarray:
        """The `size` most rated movies of `base` (all of them when there are fewer)."""
        rows = np.flatnonzero(base)
        if len(rows) > size:
            rows = rows[np.lexsort((rows, -self._raters[rows]))[:size]]
        mask = np.zeros(len(base), dtype=bool)
        mask[rows] = True
        return mask

    def hybrid_parts(self, svd: np.ndarray, content: np.ndarray, base: np.ndarray, pool_size: int) -> dict[str, np.ndarray]:
        """The hybrid's parts standardised over the pool (the `pool_size` most rated movies of `base`), -inf
        outside it."""
        pool = self.pool(base, pool_size)
        parts = {}
        for name, part in (("svd", svd), ("content", content), ("popularity", self._log_popularity)):
            values = part[pool]
            spread = (values.std() or 1.0) if len(values) else 1.0
            parts[name] = np.where(pool, (part - (values.mean() if len(values) else 0.0)) / spread, -np.inf)
        return parts

    @staticmethod
    def blend(parts: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
        pool = np.isfinite(parts["svd"])
        total = np.zeros(len(pool))
        for name, values in parts.items():
            if weights.get(name, 0):
                total += float(weights[name]) * np.where(pool, values, 0.0)
        return np.where(pool, total, -np.inf)

    def hybrid_score(self, svd: np.ndarray, content: np.ndarray, base: np.ndarray, setting: dict) -> np.ndarray:
        """The hybrid ranks a pool: the `pool` most rated movies of `base`, scored by a weighted sum of the
        SVD rating, the content rating and log popularity, each standardised over the pool; -inf outside."""
        return self.blend(self.hybrid_parts(svd, content, base, int(setting["pool"])), setting["weights"])

    def unseen(self, profile: Profile) -> np.ndarray:
        mask = np.ones(len(self.catalogue), dtype=bool)
        mask[profile.items] = False
        return mask

    def top(self, score: np.ndarray, candidates: np.ndarray, k: int) -> np.ndarray:
        """The k best candidate rows with a finite score, best first (ties: more popular first, then
        catalogue order)."""
        rows = np.flatnonzero(candidates & np.isfinite(score))
        if len(rows) == 0:
            return rows
        if len(rows) > k:  # only the movies scoring at least the k-th best can make the list (ties included)
            values = score[rows]
            rows = rows[values >= np.partition(values, len(rows) - k)[len(rows) - k]]
        order = np.lexsort((rows, -self._raters[rows], -score[rows]))
        return rows[order[:k]]

    def liked_threshold(self) -> float:
        return RELEVANT
