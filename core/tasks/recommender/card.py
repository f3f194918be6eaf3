"""metrics.json and the model card of task 09, written from what train.py measured (nothing typed by hand)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.artifacts import file_size_mb, measure_latency_ms, now_iso, save_json
from core.model_card import figure_links, table_markdown, write_model_card
from core.tasks.recommender.data import DATA
from core.tasks.recommender.metrics import K, RELEVANT

SERVED = ("hybrid", "svd", "content", "popularity")
ORDER = ("hybrid", "svd", "content", "popularity", "svdpp", "knn_baseline", "baseline_only")
NAMES = {"hybrid": "hybrid (served default)", "svd": "SVD (served)", "content": "content (served)",
         "popularity": "popularity (baseline)", "svdpp": "SVD++", "knn_baseline": "KNNBaseline", "baseline_only": "BaselineOnly"}
SHORT = {"hybrid": "the hybrid", "svd": "the SVD", "content": "the content model", "popularity": "the popularity baseline",
         "svdpp": "SVD++", "knn_baseline": "KNNBaseline", "baseline_only": "BaselineOnly"}
METRIC_KEYS = ("rmse", "mae", f"precision_at_{K}", f"recall_at_{K}", f"ndcg_at_{K}", f"map_at_{K}", f"hit_rate_at_{K}",
               f"coverage_at_{K}", f"novelty_at_{K}")
COLUMN_NAMES = ("RMSE", "MAE", f"P@{K}", f"R@{K}", f"NDCG@{K}", f"MAP@{K}", f"hit rate@{K}", f"coverage@{K}",
                f"novelty@{K}")


def measure_latency(model_dir: Path, quick: bool) -> dict[str, dict[str, float]]:
    """Median milliseconds of one /recommend request (top 10 with explanations) per variant, for an
    existing user of median activity and for a new user with five ratings (folded in)."""
    from core.tasks.recommender.adapter import forget, load

    forget(model_dir)
    out = {}
    for variant in SERVED:
        recommender = load(variant, model_dir)
        model = recommender.model
        counts = np.diff(model.ratings.offsets)
        user = int(model.ratings.users[np.argsort(counts)[len(counts) // 2]])
        popular = np.argsort(-model.popularity, kind="stable")[:5]
        new_user = [{"movie": int(model.catalogue.movies[row]), "rating": r} for row, r in zip(popular, (5, 4, 2, 4.5, 3))]
        repeats = 3 if quick else 20
        out[variant] = {
            "existing_user_ms": measure_latency_ms(lambda: recommender.recommend(user, 10), repeats=repeats, warmup=1),
            "new_user_ms": measure_latency_ms(lambda: recommender.recommend(new_user, 10), repeats=repeats, warmup=1)}
    return out


def _pool(size: int) -> str:
    return "all" if size >= 100_000 else f"{size:,}"


def _blend(weights: dict) -> str:
    return (f"{weights['svd']:.2f} x SVD rating + {weights['content']:.2f} x content rating + "
            f"{weights['popularity']:.2f} x log popularity")


def _round(metrics: dict) -> dict:
    return {k: round(float(metrics[k]), 4) for k in METRIC_KEYS if k in metrics}


def comparison_rows(results: dict) -> list[list]:
    return [[NAMES[name], *[round(float(results[name][k]), 4) for k in METRIC_KEYS]] for name in ORDER if name in results]


def figures(results: dict, cross_validation: dict, folder: Path) -> list[str]:
    """Two PNGs: top-10 metrics per model on the test set, and cross-validated RMSE with fit time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    names = [n for n in ORDER if n in results]
    fig, axis = plt.subplots(figsize=(8, 3.6))
    width = 0.27
    x = np.arange(len(names))
    for offset, (key, label) in enumerate(((f"ndcg_at_{K}", f"NDCG@{K}"), (f"precision_at_{K}", f"precision@{K}"),
                                           (f"recall_at_{K}", f"recall@{K}"))):
        axis.bar(x + (offset - 1) * width, [results[n][key] for n in names], width, label=label)
    axis.axhline(results["popularity"][f"ndcg_at_{K}"], color="grey", linestyle="--", linewidth=1,
                 label="popularity NDCG")
    axis.set_xticks(x, [NAMES[n].replace(" (", "\n(") for n in names], fontsize=8)
    axis.set_ylabel("on the temporal holdout")
    axis.set_title(f"Top-{K} quality (relevant = held-out rating >= {RELEVANT:g})")
    axis.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "ranking_metrics.png", dpi=110)
    plt.close(fig)
    names = list(cross_validation)
    fig, axis = plt.subplots(figsize=(7, 3.2))
    rmse = [cross_validation[n]["rmse"] for n in names]
    axis.bar(range(len(names)), rmse, yerr=[cross_validation[n]["rmse_std"] for n in names], color="tab:blue", capsize=4)
    for i, n in enumerate(names):
        axis.text(i, rmse[i] + 0.005, f"fit {cross_validation[n]['fit_s']:.1f} s", ha="center", fontsize=8)
    axis.set_xticks(range(len(names)), [NAMES[n] for n in names], fontsize=8)
    axis.set_ylim(min(rmse) - 0.05, max(rmse) + 0.04)
    axis.set_ylabel("RMSE (stars)")
    axis.set_title("Cross-validated rating error on train + validation (random folds)")
    fig.tight_layout()
    fig.savefig(folder / "cross_validation.png", dpi=110)
    plt.close(fig)
    return ["figures/ranking_metrics.png", "figures/cross_validation.png"]


def _parameters(served, variant: str) -> int:
    svd = served.bu.size + served.bi.size + served.pu.size + served.qi.size + 1
    content = served.content.size
    popularity = len(served.catalogue)
    return {"svd": svd, "content": content, "popularity": popularity,
            "hybrid": svd + content + popularity + 5}[variant]


def build_metrics(*, quick: bool, parts: dict, catalogue_size: int, results: dict, activity: list, cross_validation: dict,
                  tuning: dict, config: dict, fold_in_test: dict, latency: dict, paths: list[Path], served,
                  title_variance: float, timings: dict, minutes: float, hardware: str, recipe: dict,
                  users_evaluated: int, surprise_check: dict, cold_results: dict, cold_users: int,
                  same_day: float) -> dict:
    splits = {name: parts[name]["ratings"] for name in ("train", "validation", "test")}
    test = parts["test"]
    data = {**DATA, "splits": splits,
            "split": f"per-user temporal holdout: each user's latest 20% of ratings ({test['ratings']:,} ratings of "
                     f"{test['users']:,} users) are the test set; the latest 20% of the rest are validation",
            "relevant": f"a held-out movie the user rated {RELEVANT:g} stars or more",
            "users_evaluated": users_evaluated, "catalogue": catalogue_size,
            "test_ratings_within_a_day": round(same_day, 4)}
    size = file_size_mb(*paths)
    svd, content, hybrid = config["svd"], config["content"], config["hybrid"]
    warm, cold = hybrid["warm"], hybrid["cold"]
    architectures = {
        "hybrid": f"ranks the {_pool(warm['pool'])} most rated candidate movies by {_blend(warm['weights'])}, each "
                  f"standardised over that pool (pool and weights chosen on validation NDCG@{K}); for new users "
                  f"the {_pool(cold['pool'])} most rated by {_blend(cold['weights'])} (chosen on users held out of "
                  f"training, given their first {cold['first_ratings']} ratings); predicted rating "
                  f"{hybrid['rating_svd_weight']:.2f} x SVD + {1 - hybrid['rating_svd_weight']:.2f} x content",
        "svd": f"surprise SVD (biased matrix factorisation, SGD): {svd['n_factors']} factors, {svd['n_epochs']} epochs, "
               f"lr {svd['lr_all']}, reg {svd['reg_all']}; new users folded in by ridge regression (lambda "
               f"{config['fold_in_reg']:g})",
        "content": f"item kNN on content vectors (genres {content['weights']['genre']:g}, year "
                   f"{content['weights']['year']:g}, MiniLM title embedding {content['weights']['title']:g} via PCA-64); "
                   f"k {content['k']}, shrinkage {content['shrink']:g}, user mean damped by {content['user_damping']:g}",
        "popularity": "most-rated unseen movies first; rating = the movie's mean, damped towards the global mean (10)",
    }
    table_comparison = {"title": f"All models on the temporal holdout (relevant = rating >= {RELEVANT:g}; top {K} among "
                                 "each user's unrated movies)",
                        "columns": ["model", *COLUMN_NAMES], "rows": comparison_rows(results)}
    table_cv = {"title": f"{recipe['cv_folds']}-fold cross-validation on train + validation (surprise, random folds)",
                "columns": ["algorithm", "RMSE", "RMSE std", "MAE", "fit s", "settings"],
                "rows": [[NAMES[n], round(v["rmse"], 4), round(v["rmse_std"], 4), round(v["mae"], 4),
                          round(v["fit_s"], 2), ", ".join(f"{k}={x}" for k, x in v["params"].items()) or "defaults"]
                         for n, v in cross_validation.items()]}
    table_activity = {"title": f"NDCG@{K} by how many ratings the user had (test)",
                      "columns": ["user ratings", "users", "popularity", "svd", "content", "hybrid"], "rows": activity}
    table_cold = {"title": f"New users: {cold_users} users held out of training, their first {cold['first_ratings']} "
                           "ratings folded in, their test ratings predicted",
                  "columns": ["model", *COLUMN_NAMES],
                  "rows": [[NAMES[n], *[round(float(cold_results[n][k]), 4) for k in METRIC_KEYS]]
                           for n in ("hybrid", "svd", "content", "popularity")]}
    table_latency = {"title": "Latency per request, top 10 with explanations (median ms)",
                     "columns": ["model", "existing user", "new user (5 ratings)"],
                     "rows": [[v, latency[v]["existing_user_ms"], latency[v]["new_user_ms"]] for v in SERVED]}
    variants = {}
    for variant in SERVED:
        model = {"name": NAMES[variant], "architecture": architectures[variant],
                 "parameters": _parameters(served, variant), "size_mb": size,
                 "latency_ms": latency[variant]["existing_user_ms"], "hardware": hardware,
                 "latency_note": f"top 10 with explanations for an existing user, median, on {hardware}; "
                                 f"new user: {latency[variant]['new_user_ms']} ms"}
        tables = [table_comparison, table_cv, table_activity, table_latency, table_cold] if variant == "hybrid" \
            else [table_comparison]
        variants[variant] = {"model": model, "data": data, "metrics": _round(results[variant]), "tables": tables}
    headline = results["hybrid"][f"ndcg_at_{K}"]
    return {
        "task": "recommender", "title": "Recommender", "generated_at": now_iso(), "quick": quick,
        "headline": {"metric": f"ndcg_at_{K}", "label": f"NDCG@{K}", "value": round(float(headline), 4),
                     "variant": "hybrid", "higher_is_better": True,
                     "split": f"latest 20% of each user's ratings ({test['ratings']:,} ratings, {users_evaluated} users "
                              "with a relevant one)"},
        "variants": variants,
        "comparison": {name: _round(results[name]) for name in ORDER if name in results},
        "hybrid_beats_popularity": bool(headline > results["popularity"][f"ndcg_at_{K}"]),
        "cold_start": {"users": cold_users, "first_ratings": cold["first_ratings"],
                       "users_evaluated": cold_results["hybrid"]["users_evaluated"],
                       **{name: _round(cold_results[name]) for name in ("hybrid", "svd", "content", "popularity")}},
        "cross_validation": cross_validation,
        "fold_in": {"test_rmse_folded_in": round(fold_in_test["rmse"], 4), "test_mae_folded_in": round(fold_in_test["mae"], 4),
                    "test_rmse_trained_vectors": round(results["svd"]["rmse"], 4), "regularisation": config["fold_in_reg"]},
        "surprise_predict_rmse": round(surprise_check["rmse"], 6),
        "served_svd_rmse": round(float(results["svd"]["rmse"]), 6),
        "config": config, "title_embedding_variance_kept": round(title_variance, 4),
        "tuning": tuning, "timings_s": timings, "training_minutes": minutes, "hardware": hardware,
        "recipe": recipe, "parts": parts, "figures": [],
    }


def _cold_sentence(metrics: dict) -> str:
    cold = metrics["cold_start"]
    hybrid, popularity = cold["hybrid"][f"ndcg_at_{K}"], cold["popularity"][f"ndcg_at_{K}"]
    weights = metrics["config"]["hybrid"]["cold"]["weights"]
    return (f"For new users the hybrid's NDCG@{K} is {hybrid:.4f} against {popularity:.4f} for popularity "
            f"({cold['users_evaluated']} users). With {cold['first_ratings']} ratings the data favour popular movies: "
            f"the blend chosen for new users gives popularity a weight of {weights['popularity']:.2f}, so a visitor "
            "with narrow tastes gets mostly well-known films from it; the content model follows their ratings "
            "closely (the tab says so). MovieLens members rate their first movies during sign-up, from lists the site "
            "chooses; this likely favours popularity in this measurement.")


def card_body(metrics: dict) -> str:
    comparison = metrics["comparison"]
    hybrid, popularity = comparison["hybrid"], comparison["popularity"]
    ndcg = f"ndcg_at_{K}"
    hybrid_block = metrics["variants"]["hybrid"]
    tables = hybrid_block["tables"]
    data = hybrid_block["data"]
    fold = metrics["fold_in"]
    gain = (hybrid[ndcg] / popularity[ndcg] - 1) * 100 if popularity[ndcg] else float("nan")
    best_rmse = min(comparison, key=lambda name: comparison[name]["rmse"])
    cv = metrics["cross_validation"]
    lines = [
        "Recommends movies to an existing MovieLens user or to a new user after a few ratings, with the reason for each.",
        "",
        "## Models",
        *[f"- **{v}**: {metrics['variants'][v]['model']['architecture']}." for v in SERVED],
        f"- Compared by cross-validation: surprise's SVD++ ({', '.join(f'{k}={x}' for k, x in cv['svdpp']['params'].items())}; "
        "20 factors), KNNBaseline (item-item, shrunk pearson-baseline similarity, k = 40) and BaselineOnly.",
        f"- Shipped: {metrics['variants']['hybrid']['model']['size_mb']} MB of arrays (`arrays.npz`, `catalogue.json`, "
        "`config.json`): SVD biases and factors, the content vectors (float16), the top-20 KNNBaseline neighbours of each "
        "movie (for explanations) and the ratings (for histories). surprise's models are pickles when dumped; they are "
        "exported as arrays instead and served by numpy (the served SVD's test RMSE "
        f"{metrics['served_svd_rmse']:.6f} equals surprise's own predict, {metrics['surprise_predict_rmse']:.6f}).",
        f"- The shipped models are refitted on all {sum(data['splits'].values()):,} ratings with the settings chosen on "
        "validation; the figures below are those of the same recipe fitted without the test ratings.",
        "",
        "## Data and split",
        f"- {data['name']} ({data['source']}; {data['license']}): {sum(data['splits'].values()):,} ratings "
        f"(0.5-5 stars) of {data['catalogue']:,} movies with titles, years and genres.",
        f"- Split: {data['split']}. Ratings: " + ", ".join(f"{k} {v:,}" for k, v in data["splits"].items()) + ".",
        f"- Relevant: {data['relevant']}. Lists are the top {K} among the movies the user had not rated; ranking metrics "
        f"average over the {data['users_evaluated']} users with at least one relevant held-out movie. Coverage is the "
        "share of the catalogue recommended to anyone; novelty the mean -log2 of a recommended movie's share of raters.",
        "",
        "## Results on the temporal holdout",
        "",
        *table_markdown(tables[0]),
        f"The hybrid {'beats' if metrics['hybrid_beats_popularity'] else 'does not beat'} the popularity baseline on "
        f"NDCG@{K}: {hybrid[ndcg]:.4f} against {popularity[ndcg]:.4f} ({gain:+.0f}%). The lowest rating error is "
        f"{SHORT[best_rmse]}'s ({comparison[best_rmse]['rmse']:.4f}), but ranking every unrated movie by a predicted "
        f"rating surfaces movies few people rated (SVD: novelty {comparison['svd'][f'novelty_at_{K}']:.1f} bits, NDCG@{K} "
        f"{comparison['svd'][ndcg]:.4f}); the hybrid ranks a pool of well-known movies by the SVD, the content model "
        "and popularity together, with the pool and weights chosen on validation.",
        "",
        *table_markdown(tables[2]),
        *table_markdown(tables[4]),
        _cold_sentence(metrics),
        "",
        f"Folding a user's ratings into the SVD (no trained vector) gives test RMSE {fold['test_rmse_folded_in']:.4f} "
        f"against {fold['test_rmse_trained_vectors']:.4f} with the trained vector (ridge lambda {fold['regularisation']:g}, "
        "chosen on validation).",
        "",
    ]
    lines += figure_links(metrics["figures"])
    lines += table_markdown(tables[1])
    lines += ["SVD's settings, the content weights, the fold-in regularisation and the blend weights were chosen on the "
              "validation split (each user's latest 20% of the training part); the test split was used once.", ""]
    lines += table_markdown(tables[3])
    timings = ", ".join(f"{k} {v:.0f} s" for k, v in metrics["timings_s"].items())
    lines += [
        "## Hardware and time",
        f"- Trained and measured on {metrics['hardware']}: {metrics['training_minutes']:.1f} minutes in all ({timings}).",
        "",
        "## Explanations",
        "- Each recommendation names the movies you liked that it is closest to (KNNBaseline neighbours: people rated "
        "them alike; otherwise the content vectors), the favourite genres it matches, and how many of the 30 users with "
        "the most similar SVD vectors liked it.",
        "",
        "## Limits",
        "- MovieLens latest-small is an old (1995-2016), small sample of enthusiastic raters (each rated 20 or more "
        "movies); tastes and catalogues have changed since.",
        "- Popularity is a strong baseline on this data and the top-10 accuracy of every model is low in absolute "
        f"terms. {data['test_ratings_within_a_day']:.0%} of the held-out ratings were given within a day of the "
        "user's last training rating: the 'next' movies are often part of the same rating session, not a later visit.",
        f"- The hybrid's lists concentrate on well-known movies (coverage@{K} {hybrid[f'coverage_at_{K}']:.1%} of the "
        f"catalogue, against {comparison['content'][f'coverage_at_{K}']:.1%} for the content model): choose the "
        "content model in the tab for less obvious suggestions.",
        "- Titles are embedded by a general sentence encoder: it knows words, not films, so the title block mostly "
        "links sequels and shared words; config.json holds its weight.",
        "",
        "Licence of this model: AGPL-3.0 (project licence); MiniLM encoder: Apache-2.0; data: MovieLens terms "
        "(research, non-commercial, attribution).",
    ]
    return "\n".join(lines)


def write_card(metrics: dict, card_dir: Path) -> Path:
    card_dir = Path(card_dir)
    metrics["figures"] = figures(metrics["comparison"], metrics["cross_validation"], card_dir / "figures")
    save_json(metrics, card_dir / "metrics.json")
    rows = [(variant, "MovieLens latest-small (temporal holdout)", key, value)
            for variant, block in metrics["variants"].items() for key, value in block["metrics"].items()]
    return write_model_card(card_dir, task_name="recommender",
                            title="Recommender: MovieLens movies (SVD + content hybrid, against popularity)",
                            pipeline_tag="tabular-regression", license="agpl-3.0", datasets=["movielens"],
                            metrics=metrics, eval_metrics=rows, body=card_body(metrics),
                            tags=["recommender", "surprise", "svd", "collaborative-filtering"])
