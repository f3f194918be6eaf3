"""Task 09: the temporal split, the ranking metrics, the exported SVD against surprise, fold-in for
new users, explanations, filters and "not interested", the input limits, quick training, and
/recommend through gradio_client. Unit tests run on the committed 30-user slice of MovieLens
(assets/examples/recommender/ratings_sample.csv); behaviour tests use the shipped model."""
from __future__ import annotations

import json
import threading

import numpy as np
import pandas as pd
import pytest

from core.errors import InputError
from core.registry import EXAMPLES_DIR, get_model
from core.tasks.recommender import metrics as m
from core.tasks.recommender.data import load_table, ratings_of
from core.tasks.recommender.split import temporal_holdout, three_way

PRESETS = {p["name"]: p["ratings"] for p in json.loads((EXAMPLES_DIR / "recommender" / "new_users.json").read_text())}
HORROR = PRESETS["Horror fan"]


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return load_table(sample=True)


@pytest.fixture(scope="module")
def hybrid():
    return get_model("recommender", "hybrid")


# ----------------------------------------------------------------------------- split

def test_the_temporal_split_never_tests_on_the_past(sample):
    ratings = ratings_of(sample)
    parts = three_way(ratings)
    assert len(parts["train"]) + len(parts["validation"]) + len(parts["test"]) == len(ratings)
    key = ["user", "movie"]
    for a, b in (("train", "validation"), ("train", "test"), ("validation", "test")):
        assert parts[a].merge(parts[b], on=key).empty, f"{a} and {b} share a (user, movie) pair"
    for earlier, later in (("train_full", "test"), ("train", "validation")):
        last = parts[earlier].groupby("user")["timestamp"].max()
        first = parts[later].groupby("user")["timestamp"].min()
        assert (last.loc[first.index] <= first).all(), f"{earlier} has ratings newer than {later}"
    share = parts["test"].groupby("user").size() / ratings.groupby("user").size()
    assert share.between(0.15, 0.25).all()
    shuffled = three_way(ratings.sample(frac=1, random_state=1))
    assert shuffled["test"].sort_values(key).reset_index(drop=True).equals(
        parts["test"].sort_values(key).reset_index(drop=True))  # deterministic, whatever the input order


def test_users_with_few_ratings_keep_them_for_training():
    ratings = pd.DataFrame({"user": [1] * 4 + [2] * 10, "movie": list(range(4)) + list(range(10)),
                            "rating": 4.0, "timestamp": list(range(4)) + [5, 5, 5, 1, 2, 3, 4, 6, 7, 8]})
    earlier, later = temporal_holdout(ratings, 0.2, min_keep=5)
    assert set(later["user"]) == {2} and len(later) == 2
    assert later["timestamp"].tolist() == [7, 8]  # the latest two; ties broken by movie id


# ----------------------------------------------------------------------------- metrics

def test_ranking_metrics_on_a_hand_checked_case():
    recommended, relevant = [1, 2, 3, 4], {2, 4, 9}
    assert m.precision_at_k(recommended, relevant, 4) == 0.5
    assert m.recall_at_k(recommended, relevant, 4) == pytest.approx(2 / 3)
    dcg = 1 / np.log2(3) + 1 / np.log2(5)
    ideal = 1 + 1 / np.log2(3) + 1 / np.log2(4)
    assert m.ndcg_at_k(recommended, relevant, 4) == pytest.approx(dcg / ideal)
    assert m.average_precision_at_k(recommended, relevant, 4) == pytest.approx((1 / 2 + 2 / 4) / 3)
    assert m.hit_at_k(recommended, relevant, 4) == 1 and m.hit_at_k([1, 3], relevant, 2) == 0
    assert m.ndcg_at_k([2, 4, 9], relevant, 3) == pytest.approx(1.0)
    assert m.ndcg_at_k([1], set(), 1) == 0.0 and m.recall_at_k([1], set(), 1) == 0.0


def test_ndcg_agrees_with_scikit_learn():
    from sklearn.metrics import ndcg_score

    rng = np.random.default_rng(0)
    for _ in range(20):
        n = 30
        relevance = (rng.random(n) < 0.2).astype(float)
        if not relevance.any():
            relevance[0] = 1
        scores = rng.permutation(n).astype(float)
        order = np.argsort(-scores)
        ours = m.ndcg_at_k(order.tolist(), set(np.flatnonzero(relevance).tolist()), 10)
        assert ours == pytest.approx(ndcg_score(relevance[None], scores[None], k=10))


def test_rating_errors_coverage_and_novelty():
    assert m.rmse([1, 2, 3], [1, 2, 5]) == pytest.approx(np.sqrt(4 / 3))
    assert m.mae([1, 2, 3], [2, 2, 5]) == pytest.approx(1.0)
    assert m.coverage([[1, 2], [2, 3]], catalogue_size=10) == 0.3
    raters, users = {1: 7, 2: 1}, 7  # movie 1 rated by everyone, movie 2 by one user, movie 3 by none
    assert m.novelty([[1]], raters, users) == pytest.approx(0.0)
    assert m.novelty([[2, 3]], raters, users) == pytest.approx(np.mean([-np.log2(2 / 8), -np.log2(1 / 8)]))
    report = m.ranking_report({1: [5, 6], 2: [6, 7]}, {1: {6}, 2: set()}, {}, 10, 100, k=2)
    assert report["users_evaluated"] == 1 and report["precision_at_2"] == 0.5 and report["coverage_at_2"] == 0.03


# ----------------------------------------------------------------------------- served arrays = surprise

def test_the_served_svd_equals_surprise_predict(sample, tmp_path):
    from core.tasks.recommender.models import algorithm, build_model, catalogue_from, trainset
    from core.tasks.recommender.serving import RecommenderModel

    catalogue = catalogue_from(sample)
    ratings = ratings_of(sample)
    train, _ = temporal_holdout(ratings)
    algo = algorithm("svd", {"n_factors": 8, "n_epochs": 15}).fit(trainset(train))
    config = {"content": {"weights": {}, "k": 5, "shrink": 1, "user_damping": 5},
              "hybrid": {"weights": {"svd": 1}, "rating_svd_weight": 1}}
    content = np.eye(len(catalogue), 4, dtype=np.float32)
    build_model(train, catalogue, algo, None, content, config).save(tmp_path)
    served = RecommenderModel.load(tmp_path)  # from .npz / JSON, as the app reads it
    unknown = sorted(set(catalogue.movies) - set(train["movie"]))[:5]
    for user in sorted(train["user"].unique())[:10]:
        estimates = served.svd_ratings(served.existing(int(user)))
        for movie in list(train["movie"].unique()[:20]) + unknown:
            expected = algo.predict(int(user), int(movie)).est
            assert estimates[catalogue.index[int(movie)]] == pytest.approx(expected, abs=1e-4)


# ----------------------------------------------------------------------------- quick training

@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    from core.tasks.recommender.train import train

    root = tmp_path_factory.mktemp("rec")
    metrics = train(root / "models" / "recommender", root / "cards" / "recommender", quick=True)
    return root, metrics


def test_quick_training_writes_loadable_artifacts_and_the_card(quick_run):
    from core.tasks.recommender.adapter import load

    root, metrics = quick_run
    out = root / "models" / "recommender"
    assert sorted(p.name for p in out.iterdir()) == ["arrays.npz", "catalogue.json", "config.json"]
    with np.load(out / "arrays.npz", allow_pickle=False) as arrays:  # plain arrays, no pickle
        assert arrays["qi"].dtype == np.float32 and arrays["content"].dtype == np.float16
    assert set(metrics["variants"]) == {"hybrid", "svd", "content", "popularity"}
    assert metrics["headline"]["metric"] == "ndcg_at_10" and metrics["headline"]["variant"] == "hybrid"
    assert set(metrics["comparison"]) == {"hybrid", "svd", "content", "popularity", "svdpp", "knn_baseline",
                                          "baseline_only"}
    for block in metrics["variants"].values():
        assert block["model"]["latency_ms"] > 0 and 0 <= block["metrics"]["ndcg_at_10"] <= 1
    assert metrics["served_svd_rmse"] == pytest.approx(metrics["surprise_predict_rmse"], abs=1e-4)
    card = (root / "cards" / "recommender" / "README.md").read_text()
    assert "Quick smoke run" in card and "temporal holdout" in card and "rated 4 stars or more" in card
    result = load("svd", out).recommend(int(metrics["config"]["users"][0][0]) if "users" in metrics["config"] else
                                        int(json.loads((out / "config.json").read_text())["users"][0][0]), k=5)
    assert len(result["recommendations"]) == 5


# ----------------------------------------------------------------------------- behaviour of the shipped model

def _genre_count(result: dict, genre: str) -> int:
    return sum(genre in r["genres"] for r in result["recommendations"])


def test_a_new_horror_fan_gets_more_horror_than_the_popular_list(hybrid):
    popular = get_model("recommender", "popularity").recommend(HORROR, k=10)
    content = get_model("recommender", "content").recommend(HORROR, k=10)
    assert _genre_count(content, "Horror") >= _genre_count(popular, "Horror") + 5
    mine = hybrid.recommend(HORROR, k=20)
    assert _genre_count(mine, "Horror") >= _genre_count(get_model("recommender", "popularity").recommend(HORROR, k=20),
                                                        "Horror")
    assert mine["user"]["kind"] == "new"
    if hybrid.model.config["hybrid"]["cold"]["weights"]["popularity"] >= 0.5:
        assert any("leans on popularity" in note for note in mine["notes"])  # the tab says so


def test_the_folded_in_vector_of_a_horror_fan_points_to_horror(hybrid):
    """Fold-in is sensible: among the 300 most rated movies, the personal term qi.pu of a new user who rated
    only horror films is higher for horror films than for the others, and lower for a comedy fan's."""
    model = hybrid.model
    popular = np.argsort(-model.popularity, kind="stable")[:300]
    horror = model.catalogue.genre_matrix[popular, model.catalogue.genre_names.index("Horror")] > 0

    def gap(ratings: list[dict]) -> float:
        items = np.array([hybrid.resolve_movie(r["movie"]) for r in ratings])
        profile = model.new_user(items, np.array([r["rating"] for r in ratings], float))
        personal = model.qi[popular] @ profile.pu
        return float(personal[horror].mean() - personal[~horror].mean())

    assert gap(HORROR) > 0
    assert gap(HORROR) > gap(PRESETS["Family animation"])


def test_fold_in_fits_a_users_ratings_better_than_the_baseline(hybrid):
    model = hybrid.model
    errors = []
    for user in model.ratings.users[:40]:
        known = model.existing(int(user))
        folded = model.new_user(known.items, known.ratings)
        predicted = model.svd_ratings(folded)[known.items]
        baseline = np.clip(model.mu + model.bi[known.items], 0.5, 5)
        errors.append((m.rmse(known.ratings, predicted), m.rmse(known.ratings, baseline)))
        assert np.dot(folded.pu, known.pu) > 0  # the folded vector points the same way as the trained one
    folded_rmse, baseline_rmse = np.mean(errors, axis=0)
    assert folded_rmse < baseline_rmse - 0.05


def test_explanations_name_the_movies_the_user_rated(hybrid):
    result = hybrid.recommend(HORROR, k=10)
    rated = {r["movie_id"]: r["title"] for r in result["user"]["ratings"]}
    named = 0
    for item in result["recommendations"]:
        closest = item["reasons"].get("closest_rated", [])
        assert {c["movie_id"] for c in closest} <= set(rated)
        named += any(rated[c["movie_id"]] in item["explanation"] for c in closest)
    assert named >= 5
    existing = hybrid.recommend(15, k=5)
    assert all(r["explanation"] for r in existing["recommendations"])


def test_existing_users_get_unrated_movies_and_their_history_newest_first(hybrid):
    history = hybrid.history(15)
    dates = [h["date"] for h in history]
    assert dates == sorted(dates, reverse=True) and len(history) == hybrid.model.existing(15).items.size
    rated = {h["movie_id"] for h in history}
    for variant in ("hybrid", "svd", "content", "popularity"):
        result = get_model("recommender", variant).recommend("15", k=20)
        ids = [r["movie_id"] for r in result["recommendations"]]
        assert len(ids) == 20 and not set(ids) & rated and result["model"] == variant
        scores = [r["score"] for r in result["recommendations"]]
        assert scores == sorted(scores, reverse=True)


def test_filters_and_not_interested(hybrid):
    horror = hybrid.recommend(15, k=10, genre="horror")
    assert all("Horror" in r["genres"] for r in horror["recommendations"]) and len(horror["recommendations"]) == 10
    old = hybrid.recommend(15, k=10, year_min=1950, year_max=1969)
    assert all(1950 <= r["year"] <= 1969 for r in old["recommendations"])
    first = hybrid.recommend(15, k=10)
    ids = [r["movie_id"] for r in first["recommendations"]]
    after = hybrid.recommend(15, k=10, exclude=[ids[0]])
    assert [r["movie_id"] for r in after["recommendations"]][:9] == ids[1:]  # the rest moves up, one new at the end
    assert ids[0] not in [r["movie_id"] for r in after["recommendations"]] and after["excluded"] == [ids[0]]
    assert hybrid.recommend(15, k=10, exclude=f"{ids[0]}, {ids[1]}")["excluded"] == ids[:2]
    assert hybrid.recommend(15, k=10, exclude=json.dumps(ids[:3]))["excluded"] == ids[:3]
    none = hybrid.recommend(15, k=10, genre="Film-Noir", year_min=2015)
    assert none["recommendations"] == [] and "Only 0 movies" in none["notes"][0]


def test_titles_are_found_by_search_and_by_exact_title(hybrid):
    assert hybrid.search("toy story")[0] == "Toy Story (1995)"
    assert hybrid.search("shinning")  # close spellings when nothing contains the text
    catalogue = hybrid.model.catalogue
    assert catalogue.movies[hybrid.resolve_movie("toy story (1995)")] == 1
    assert catalogue.movies[hybrid.resolve_movie("Toy Story")] == 1  # a unique title needs no year
    assert catalogue.movies[hybrid.resolve_movie("1")] == 1


@pytest.mark.parametrize("user, message", [
    (999999, "No user 999999"),
    ("", "Give a user id"),
    ("abc", "neither a user id"),
    ('[{"movie": "Toy Story (1995)", "rating": 6}]', "stars go from 0.5 to 5"),
    ('[{"movie": "Toy Story (1995)", "rating": 0}]', "stars go from 0.5 to 5"),
    ('[{"movie": "Toy Story (1995)", "rating": "lots"}]', "not a number"),
    ('[{"movie": "Toy Stroy (1995)", "rating": 4}]', r"Did you mean: Toy Story \(1995\)"),
    ('[{"movie": "Hamlet", "rating": 4}]', "movies are called 'Hamlet'"),
    ('[{"movie": 99999999, "rating": 4}]', "No movie with id"),
    ('[{"movie": "Toy Story (1995)", "rating": 4}', "not valid JSON"),
    ("[]", "Rate at least one movie"),
    ('[{"film": "Toy Story (1995)"}]', "must look like"),
])
def test_bad_users_get_clear_messages(hybrid, user, message):
    with pytest.raises(InputError, match=message):
        hybrid.recommend(user)


def test_limits_on_k_years_genre_and_the_number_of_ratings(hybrid, monkeypatch):
    for k in (0, 51, 2.5, "ten"):
        with pytest.raises(InputError, match="k must be a whole number from 1 to 50"):
            hybrid.recommend(15, k=k)
    with pytest.raises(InputError, match="swap them"):
        hybrid.recommend(15, year_min=2000, year_max=1990)
    with pytest.raises(InputError, match="Unknown genre 'Cartoons'"):
        hybrid.recommend(15, genre="Cartoons")
    monkeypatch.setenv("MAX_RATINGS", "3")
    with pytest.raises(InputError, match="at most 3 are accepted"):
        hybrid.recommend(HORROR)
    assert hybrid.recommend(HORROR[:3], k=3)["recommendations"]


def test_concurrent_requests_get_the_answers_they_get_alone(hybrid):
    users = [15, 30, HORROR, 100, PRESETS["Documentaries"], 7]
    expected = [[r["movie_id"] for r in hybrid.recommend(u)["recommendations"]] for u in users]
    results: dict[int, list] = {}

    def work(i: int) -> None:
        results[i] = [r["movie_id"] for r in hybrid.recommend(users[i % len(users)])["recommendations"]]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(18)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(results[i] == expected[i % len(users)] for i in range(18))


# ----------------------------------------------------------------------------- API

def test_api_recommend_for_an_existing_and_a_new_user(client):
    *_, result = client.predict(user="15", api_name="/recommend")
    assert result["model"] == "hybrid" and result["user"] == {"kind": "existing", "id": 15, "ratings": result["user"]["ratings"]}
    items = result["recommendations"]
    assert len(items) == 10 and {"movie_id", "title", "year", "genres", "score", "explanation"} <= set(items[0])
    *_, new = client.predict(user=json.dumps(HORROR), k=5, genre="Horror", model="content", api_name="/recommend")
    assert new["user"]["kind"] == "new" and len(new["recommendations"]) == 5
    assert all("Horror" in r["genres"] for r in new["recommendations"]) and new["model"] == "content"
    *_, excluded = client.predict(user="15", exclude=json.dumps([items[0]["movie_id"]]), year_min=1980,
                                  api_name="/recommend")
    assert items[0]["movie_id"] not in [r["movie_id"] for r in excluded["recommendations"]]
    assert all(r["year"] >= 1980 for r in excluded["recommendations"])


def test_api_bad_inputs_get_clear_errors_and_the_app_keeps_serving(client):
    with pytest.raises(Exception, match="No user 100000"):
        client.predict(user="100000", api_name="/recommend")
    with pytest.raises(Exception, match="not valid JSON"):
        client.predict(user='[{"movie": 1, "rating": 4', api_name="/recommend")
    with pytest.raises(Exception, match="k must be a whole number"):
        client.predict(user="15", k=500, api_name="/recommend")
    *_, result = client.predict(user="1", api_name="/recommend")
    assert result["recommendations"]
