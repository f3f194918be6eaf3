"""Inference adapter of task 09: top-K movies for an existing user or for a new one, with reasons.

`Recommender.recommend(user, k, genre, year_min, year_max, exclude)` is the whole request:
parse and check the inputs (preprocess), score the catalogue with the variant (forward), filter,
rank and explain (postprocess). `user` is an existing user id (int or numeric string) or a new
user's ratings: a JSON string or a list of {"movie": id or exact title, "rating": 0.5-5}. A new
user's ratings are folded into the SVD (ridge regression on the item factors, no retraining) and
read by the content model directly.

The four variants share one read-only `RecommenderModel` per folder (loaded once, under a lock);
a request builds its own profile and arrays, so concurrent requests never share mutable state.
"""
from __future__ import annotations

import ast
import difflib
import json
import re
import threading
import time
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.settings import Settings
from core.tasks.recommender.explain import context, explain, genre_profile, liked_by
from core.tasks.recommender.serving import RATING_MAX, RATING_MIN, VARIANTS, Profile, RecommenderModel

MAX_K = 50
MAX_USER_CHARS = 20_000


def max_ratings() -> int:
    """Most ratings a new user may send in one request (setting MAX_RATINGS, default 100)."""
    return Settings.from_env().max_ratings


_models: dict[Path, RecommenderModel] = {}
_lock = threading.Lock()


def shared_model(model_dir: Path) -> RecommenderModel:
    """The folder's model, loaded once and shared (read-only) by every variant."""
    key = Path(model_dir).resolve()
    with _lock:
        if key not in _models:
            _models[key] = RecommenderModel.load(key)
        return _models[key]


def forget(model_dir: Path) -> None:
    """Drop a folder's loaded model (after new files were written there)."""
    with _lock:
        _models.pop(Path(model_dir).resolve(), None)


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


class Recommender:
    """One variant of the recommender, ready to serve."""

    def __init__(self, variant: str, model_dir: Path) -> None:
        self.variant = variant
        self.model = shared_model(model_dir)
        catalogue = self.model.catalogue
        by_label = {_normalise(label): i for i, label in enumerate(catalogue.labels)}
        by_title: dict[str, list[int]] = {}
        for i, title in enumerate(catalogue.titles):
            by_title.setdefault(_normalise(title), []).append(i)
        self._by_label, self._by_title = by_label, by_title
        self._search_keys = [_normalise(label) for label in catalogue.labels]

    # ------------------------------------------------------------------ movies
    def resolve_movie(self, movie: object) -> int:
        """Catalogue row of a movie given by id (int or numeric string), by "Title (Year)" or by an
        exact title; an unknown or ambiguous one gets a message with close titles."""
        catalogue = self.model.catalogue
        if isinstance(movie, bool) or movie is None:
            raise InputError(f"Each rating needs a movie (its id or exact title); got {movie!r}.")
        if isinstance(movie, (int, np.integer)) or (isinstance(movie, float) and float(movie).is_integer()):
            row = catalogue.index.get(int(movie))
            if row is None:
                raise InputError(f"No movie with id {int(movie)} in the catalogue; search by title instead.")
            return row
        if not isinstance(movie, str):
            raise InputError(f"A movie is an id or a title; got {type(movie).__name__}.")
        text = movie.strip()
        if text.isdigit():
            return self.resolve_movie(int(text))
        key = _normalise(text)
        if key in self._by_label:
            return self._by_label[key]
        rows = self._by_title.get(key, [])
        if len(rows) == 1:
            return rows[0]
        if len(rows) > 1:
            options = ", ".join(f"{catalogue.labels[r]} (id {catalogue.movies[r]})" for r in rows[:6])
            raise InputError(f"{len(rows)} movies are called {text!r}: {options}. Give the year, e.g. "
                             f"{catalogue.labels[rows[0]]!r}, or the id.")
        close = difflib.get_close_matches(key, self._search_keys, n=5, cutoff=0.6)
        hint = f" Did you mean: {'; '.join(catalogue.labels[self._by_label[c]] for c in close)}?" if close else \
            " Search the catalogue by a word of the title."
        raise InputError(f"No movie called {text!r} in the catalogue.{hint}")

    def search(self, query: str, limit: int = 20) -> list[str]:
        """Labels of the movies whose title contains `query` (word starts first, then the most rated);
        close spellings when nothing contains it; the most rated movies for an empty query."""
        popularity = self.model.popularity
        labels = self.model.catalogue.labels
        key = _normalise(query or "")
        if not key:
            return [labels[i] for i in np.argsort(-popularity, kind="stable")[:limit]]
        hits = [i for i, text in enumerate(self._search_keys) if key in text]
        if not hits:
            close = difflib.get_close_matches(key, self._search_keys, n=limit, cutoff=0.5)
            return [labels[self._by_label[c]] for c in close]
        starts = re.compile(rf"(^|\W){re.escape(key)}")
        hits.sort(key=lambda i: (not starts.search(self._search_keys[i]), -popularity[i], i))
        return [labels[i] for i in hits[:limit]]

    # ------------------------------------------------------------------ inputs
    def parse_ratings(self, entries: object) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(catalogue rows, stars, notes) of a new user's ratings: a list of {"movie", "rating"} (or
        [movie, rating] pairs), checked against the limits; a movie rated twice keeps its last rating."""
        if isinstance(entries, dict):
            entries = entries.get("ratings", [entries] if "movie" in entries else None)
        if not isinstance(entries, list):
            raise InputError("A new user's ratings are a JSON list of {\"movie\": id or title, \"rating\": 0.5-5}.")
        if not entries:
            raise InputError("Rate at least one movie (a list of {\"movie\", \"rating\"}), or give a user id.")
        limit = max_ratings()
        if len(entries) > limit:
            raise InputError(f"{len(entries)} ratings in one request; at most {limit} are accepted "
                             "(MAX_RATINGS). Send your strongest opinions.")
        rows: dict[int, float] = {}
        notes = []
        for position, entry in enumerate(entries, start=1):
            if isinstance(entry, (list, tuple)) and len(entry) == 2:
                entry = {"movie": entry[0], "rating": entry[1]}
            if not isinstance(entry, dict) or "movie" not in entry or "rating" not in entry:
                raise InputError(f"Rating {position} must look like {{\"movie\": \"Toy Story (1995)\", \"rating\": 4.5}}; "
                                 f"got {json.dumps(entry, default=str)[:80]}.")
            rating = entry["rating"]
            if isinstance(rating, str):
                try:
                    rating = float(rating)
                except ValueError:
                    raise InputError(f"Rating {position}: {entry['rating']!r} is not a number of stars.") from None
            if isinstance(rating, bool) or not isinstance(rating, (int, float)) or not np.isfinite(rating) \
                    or not RATING_MIN <= rating <= RATING_MAX:
                raise InputError(f"Rating {position}: stars go from {RATING_MIN:g} to {RATING_MAX:g}; got {entry['rating']!r}.")
            row = self.resolve_movie(entry["movie"])
            if row in rows:
                notes.append(f"{self.model.catalogue.labels[row]} was rated twice; the last rating counts.")
            rows[row] = float(rating)
        return np.array(list(rows), dtype=np.int64), np.array(list(rows.values())), notes

    def parse_user(self, user: object) -> tuple[Profile, list[str]]:
        """(profile, notes) of an existing user id or a new user's ratings (JSON string or list)."""
        if isinstance(user, bool):
            raise InputError("Give a user id or a list of ratings.")
        if isinstance(user, (int, np.integer)) or (isinstance(user, float) and float(user).is_integer()):
            return self._existing(int(user)), []
        if isinstance(user, (list, dict)):
            items, ratings, notes = self.parse_ratings(user)
            return self.model.new_user(items, ratings), notes
        if not isinstance(user, str) or not user.strip():
            raise InputError(f"Give a user id ({self._user_range()}) or your ratings as JSON, e.g. "
                             "[{\"movie\": \"Toy Story (1995)\", \"rating\": 5}].")
        text = user.strip()
        if len(text) > MAX_USER_CHARS:
            raise InputError(f"The ratings are {len(text):,} characters long; at most {MAX_USER_CHARS:,} are read.")
        if re.fullmatch(r"[+-]?\d+", text):
            return self._existing(int(text)), []
        if text[0] not in "[{":
            raise InputError(f"{text[:40]!r} is neither a user id ({self._user_range()}) nor a JSON list of ratings.")
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as error:
            try:  # a Python list as an API client may send it (gradio_client turns lists into their repr)
                parsed = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                raise InputError(f"The ratings are not valid JSON ({error.msg} at character {error.pos}). "
                                 "Expected e.g. [{\"movie\": \"Toy Story (1995)\", \"rating\": 5}].") from None
        items, ratings, notes = self.parse_ratings(parsed)
        return self.model.new_user(items, ratings), notes

    def _user_range(self) -> str:
        users = self.model.ratings.users
        return f"{users.min()}-{users.max()}" if len(users) else "none"

    def _existing(self, user: int) -> Profile:
        if not self.model.has_user(user):
            raise InputError(f"No user {user} in MovieLens latest-small (ids {self._user_range()}). "
                             "Pick an existing user, or rate a few movies as a new user.")
        return self.model.existing(user)

    def parse_exclude(self, exclude: object) -> list[int]:
        """Catalogue rows to leave out: ids or titles, as a list, a JSON list, or comma-separated text."""
        if exclude is None or exclude == "":
            return []
        if isinstance(exclude, str):
            text = exclude.strip()
            if not text:
                return []
            if text.startswith("["):
                try:
                    exclude = json.loads(text)
                except json.JSONDecodeError:
                    try:
                        exclude = ast.literal_eval(text)
                    except (ValueError, SyntaxError):
                        raise InputError("`exclude` is not a valid JSON list of movie ids.") from None
            else:
                exclude = [part for part in text.split(",") if part.strip()]
        if isinstance(exclude, (int, np.integer)):
            exclude = [exclude]
        if not isinstance(exclude, (list, tuple)):
            raise InputError("`exclude` is a list of movie ids (or titles).")
        if len(exclude) > 1000:
            raise InputError(f"`exclude` lists {len(exclude):,} movies; at most 1,000 are accepted.")
        return [self.resolve_movie(m) for m in exclude]

    @staticmethod
    def check_k(k: object) -> int:
        try:
            value = float(k)
        except (TypeError, ValueError):
            raise InputError(f"k must be a whole number from 1 to {MAX_K}; got {k!r}.") from None
        if not value.is_integer() or not 1 <= value <= MAX_K:
            raise InputError(f"k must be a whole number from 1 to {MAX_K}; got {k!r}.")
        return int(value)

    def check_genre(self, genre: object) -> str | None:
        if genre is None or (isinstance(genre, str) and genre.strip().lower() in {"", "any", "all", "none"}):
            return None
        names = {g.lower(): g for g in self.model.catalogue.genre_names}
        if not isinstance(genre, str) or genre.strip().lower() not in names:
            raise InputError(f"Unknown genre {genre!r}; choose one of {', '.join(self.model.catalogue.genre_names)}.")
        return names[genre.strip().lower()]

    @staticmethod
    def check_years(year_min: object, year_max: object) -> tuple[int | None, int | None]:
        out = []
        for name, value in (("year_min", year_min), ("year_max", year_max)):
            if value is None or value == "" or value == 0:  # an empty number box sends 0
                out.append(None)
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise InputError(f"{name} must be a year such as 1995; got {value!r}.") from None
            if not np.isfinite(number) or not 1800 <= number <= 2100:
                raise InputError(f"{name} must be a year between 1800 and 2100; got {value!r}.")
            out.append(int(number))
        if out[0] is not None and out[1] is not None and out[0] > out[1]:
            raise InputError(f"year_min ({out[0]}) is after year_max ({out[1]}); swap them.")
        return out[0], out[1]

    # ------------------------------------------------------------------ the request
    def recommend(self, user: object, k: object = 10, genre: object = None, year_min: object = None,
                  year_max: object = None, exclude: object = None) -> dict:
        """The top-k recommendations for `user` with filters; JSON-ready (see the module docstring)."""
        started = time.perf_counter()
        k = self.check_k(k)
        genre = self.check_genre(genre)
        year_min, year_max = self.check_years(year_min, year_max)
        excluded = self.parse_exclude(exclude)
        profile, notes = self.parse_user(user)
        model, catalogue = self.model, self.model.catalogue
        base = model.unseen(profile)  # the movies the user has not rated that pass the filters
        if genre is not None:
            base &= catalogue.genre_matrix[:, catalogue.genre_names.index(genre)] > 0
        if year_min is not None:
            base &= catalogue.years >= year_min
        if year_max is not None:
            base &= (catalogue.years <= year_max) & (catalogue.years > 0)
        score, rating = model.scores(profile, self.variant, base)
        candidates = base.copy()
        candidates[excluded] = False  # "not interested" leaves the others' scores as they were
        candidates &= np.isfinite(score)
        rows = model.top(score, candidates, k)
        model_ms = (time.perf_counter() - started) * 1000
        ctx = context(model, profile)
        fans = liked_by(model, rows)
        recommendations = []
        for rank, row in enumerate(rows, start=1):
            text, reasons = explain(model, profile, ctx, int(row), self.variant, fans)
            recommendations.append({
                "rank": rank, "movie_id": int(catalogue.movies[row]), "title": catalogue.titles[row],
                "year": int(catalogue.years[row]) or None, "genres": catalogue.genres[row],
                "score": round(float(score[row]), 4), "predicted_rating": round(float(rating[row]), 2),
                "explanation": text, "reasons": reasons})
        if len(rows) < k:
            notes.append(f"Only {len(rows)} movies match the filters among those not yet rated.")
        if self.variant == "hybrid" and profile.is_new and model.hybrid_setting(profile)["weights"]["popularity"] >= 0.5:
            notes.append(f"With {len(profile.items)} rating{'s' if len(profile.items) != 1 else ''}, the hybrid leans on "
                         "popularity: its blend for new users was tuned on users held out of training, given their first "
                         "ratings. The content model follows your ratings most closely.")
        return {
            "model": self.variant,
            "user": ({"kind": "existing", "id": profile.user, "ratings": len(profile.items)} if not profile.is_new else
                     {"kind": "new", "ratings": [{"movie_id": int(catalogue.movies[i]), "title": catalogue.labels[i],
                                                  "rating": float(r)} for i, r in zip(profile.items, profile.ratings)]}),
            "k": k, "filters": {"genre": genre, "year_min": year_min, "year_max": year_max},
            "excluded": [int(catalogue.movies[r]) for r in excluded],
            "candidates": int(candidates.sum()),
            "recommendations": recommendations,
            "genre_profile": genre_profile(model, profile),
            "score_meaning": SCORE_MEANING[self.variant],
            "notes": notes,
            "model_ms": round(model_ms, 1),
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        }

    def history(self, user: object, limit: int | None = None) -> list[dict]:
        """An existing user's ratings, newest first: movie_id, title, year, genres, rating, date."""
        profile, _ = self.parse_user(user)
        catalogue = self.model.catalogue
        order = np.arange(len(profile.items))[::-1] if profile.timestamps is None else \
            np.lexsort((-profile.items, -profile.timestamps))
        rows = []
        for position in order[:limit]:
            row = int(profile.items[position])
            date = None if profile.timestamps is None else \
                time.strftime("%Y-%m-%d", time.gmtime(int(profile.timestamps[position])))
            rows.append({"movie_id": int(catalogue.movies[row]), "title": catalogue.labels[row],
                         "genres": catalogue.genres[row], "rating": float(profile.ratings[position]), "date": date})
        return rows


SCORE_MEANING = {
    "hybrid": "weighted sum of the SVD rating, the content rating and log popularity, each standardised over "
              "the pool of the most rated movies you have not rated that pass the filters",
    "svd": "the SVD's predicted rating",
    "content": "the content model's predicted rating",
    "popularity": "log(1 + number of ratings)",
}


def load(variant: str, model_dir: Path) -> Recommender:
    if variant not in VARIANTS:
        raise KeyError(f"Unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    return Recommender(variant, Path(model_dir))
