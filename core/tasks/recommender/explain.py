"""Why a movie is recommended: the rated movies it is closest to, the genres it shares with the
user's favourites, how many users of similar taste liked it, and how popular it is.

- Closest rated movies: among the movies the user liked (at least their own baseline and 3.5 stars),
  the two most similar by the KNNBaseline item-item neighbours (people rated them alike), else the
  two closest by the content vectors (genres, year, title) when their cosine is at least 0.5.
- Genre profile: per genre, the user's mean rating minus their baseline, shrunk by count
  (sum of differences / (n + 2)); the favourite genres are the positive ones, best first.
- Similar users: the 30 users whose SVD vectors have the highest cosine with the user's (trained or
  folded in); "liked" means rated 4 stars or more.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.tasks.recommender.metrics import RELEVANT
from core.tasks.recommender.serving import Profile, RecommenderModel

SIMILAR_USERS = 30
GENRE_SHRINK = 2.0
CLOSE_CONTENT = 0.5  # content cosine from which a movie is called "close" to one the user liked


@dataclass(frozen=True)
class UserContext:
    """What explanations need about one user, computed once per request."""

    liked: np.ndarray             # catalogue rows the user liked
    liked_ratings: np.ndarray
    genre_preference: dict[str, float]
    favourite_genres: list[str]
    similar_users: np.ndarray     # raw ids of the most similar users


def genre_profile(model: RecommenderModel, profile: Profile) -> list[dict]:
    """Per genre the user rated: ratings, mean rating, and preference (shrunk mean minus baseline)."""
    base = model.user_baseline(profile)
    matrix = model.catalogue.genre_matrix[profile.items]
    rows = []
    for column, genre in enumerate(model.catalogue.genre_names):
        mask = matrix[:, column] > 0
        n = int(mask.sum())
        if n:
            values = profile.ratings[mask]
            rows.append({"genre": genre, "ratings": n, "mean_rating": round(float(values.mean()), 2),
                         "preference": round(float((values - base).sum() / (n + GENRE_SHRINK)), 3)})
    return sorted(rows, key=lambda r: (-r["preference"], -r["ratings"]))


def similar_users(model: RecommenderModel, profile: Profile, n: int = SIMILAR_USERS) -> np.ndarray:
    """Raw ids of the n users whose SVD vectors are closest (cosine) to the profile's."""
    norm = np.linalg.norm(profile.pu)
    if norm == 0 or len(model.svd_users) == 0:
        return np.array([], dtype=np.int64)
    cosine = model.pu @ profile.pu / (np.linalg.norm(model.pu, axis=1) * norm + 1e-12)
    if profile.user is not None:
        cosine[model.svd_users == profile.user] = -np.inf
    order = np.argsort(-cosine)[:n]
    return model.svd_users[order]


def context(model: RecommenderModel, profile: Profile) -> UserContext:
    base = model.user_baseline(profile)
    liked = profile.ratings >= max(base, 3.5) if len(profile.ratings) else np.zeros(0, bool)
    if not liked.any() and len(profile.ratings):
        liked = profile.ratings == profile.ratings.max()
    genres = genre_profile(model, profile)
    favourites = [g["genre"] for g in genres if g["preference"] > 0][:3]
    return UserContext(profile.items[liked], profile.ratings[liked], {g["genre"]: g["preference"] for g in genres},
                       favourites, similar_users(model, profile))


def _stars(value: float) -> str:
    return f"{value:g}★"


def explain(model: RecommenderModel, profile: Profile, ctx: UserContext, row: int, variant: str,
            liked_by: dict[int, set[int]]) -> tuple[str, dict]:
    """(sentence, structured reasons) for recommending catalogue row `row` to the profile."""
    catalogue = model.catalogue
    reasons: dict = {}
    parts: list[str] = []
    # the liked movies it is closest to: rated alike by the same people (KNNBaseline neighbours), or alike in content
    closest: list[dict] = []
    if len(ctx.liked):
        neighbour_sim = {int(j): float(s) for j, s in zip(model.neighbours[row], model.neighbour_sim[row]) if j >= 0}
        by_audience = sorted(((neighbour_sim[int(j)], int(j), float(r)) for j, r in zip(ctx.liked, ctx.liked_ratings)
                              if int(j) in neighbour_sim), reverse=True)[:2]
        closest = [{"movie_id": int(catalogue.movies[j]), "title": catalogue.labels[j], "your_rating": rating,
                    "similarity": round(sim, 3), "by": "audience"} for sim, j, rating in by_audience]
        if not closest:
            content_sim = model.content[ctx.liked] @ model.content[row]
            closest = [{"movie_id": int(catalogue.movies[ctx.liked[i]]), "title": catalogue.labels[ctx.liked[i]],
                        "your_rating": float(ctx.liked_ratings[i]), "similarity": round(float(content_sim[i]), 3),
                        "by": "content"} for i in np.argsort(-content_sim)[:2] if content_sim[i] >= CLOSE_CONTENT]
    if closest:
        reasons["closest_rated"] = closest
        names = " and ".join(f"{c['title']} (you: {_stars(c['your_rating'])})" for c in closest)
        parts.append(f"people who liked {names} liked it too" if closest[0]["by"] == "audience" else
                     f"close in genre, era and title to {names}")
    # genres
    matched = [g for g in catalogue.genres[row] if g in ctx.favourite_genres]
    reasons["genres_matched"] = matched
    if matched:
        parts.append(f"your favourite genre{'s' if len(matched) > 1 else ''}: {', '.join(matched)}")
    # users of similar taste
    if len(ctx.similar_users):
        fans = liked_by.get(row, set())
        count = sum(int(u) in fans for u in ctx.similar_users)
        reasons["similar_users_liked"] = {"liked": count, "of": len(ctx.similar_users)}
        if count:
            parts.append(f"liked by {count} of the {len(ctx.similar_users)} users with the most similar taste")
    raters = int(model.popularity[row])
    reasons["ratings"] = raters
    if variant == "popularity" or not parts:
        parts.append(f"rated by {raters:,} users, mean {model.popularity_ratings()[row]:.1f}★ (damped)")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:], reasons


def liked_by(model: RecommenderModel, rows: np.ndarray) -> dict[int, set[int]]:
    """For each catalogue row in `rows`: the raw ids of the users who rated it RELEVANT or more."""
    r = model.ratings
    wanted = np.isin(r.items, rows) & (r.values >= RELEVANT)
    groups = np.searchsorted(r.offsets, np.flatnonzero(wanted), side="right") - 1
    out: dict[int, set[int]] = {}
    for item, group in zip(r.items[wanted], groups):
        out.setdefault(int(item), set()).add(int(r.users[group]))
    return out
