"""Task 09 tab: movie recommendations for an existing MovieLens user, or for you after a few ratings.

UI wiring only: models, fold-in and explanations live in core/tasks/recommender/. Requests are light
(numpy over a 9,066-movie catalogue), so they run in the web process. A visitor's own ratings and
the movies they marked "not interested" live in per-session `gr.State`, never in shared state.
Public endpoint: /recommend(user, k=10, genre=None, year_min=None, year_max=None, exclude=None,
model="hybrid") -> (summary, table, not-interested choices, genre profile, history, JSON); the JSON
has `recommendations` [{rank, movie_id, title, year, genres, score, predicted_rating, explanation,
reasons}], the user, the filters and timings.
"""
from __future__ import annotations

import functools
import json
import time

import gradio as gr
import pandas as pd
import plotly.graph_objects as go

from core.errors import InputError
from core.registry import EXAMPLES_DIR, get_model, get_task, model_cache
from core.tasks.recommender.adapter import MAX_K
from demos.common import CONCURRENCY_LIMIT, api_json, card_link, rerun_on, show_first_result, timing, user_errors

TASK = "recommender"
MODEL_CHOICES = [("hybrid: SVD + content + popularity", "hybrid"), ("SVD (collaborative filtering)", "svd"),
                 ("content: genres, year, title", "content"), ("popularity (baseline)", "popularity")]
WHO = [("an existing MovieLens user", "existing"), ("me: I rate a few movies", "new")]
PRESETS = json.loads((EXAMPLES_DIR / TASK / "new_users.json").read_text(encoding="utf-8"))
DEFAULT_USER = "5"
TABLE_COLUMNS = ["#", "title", "year", "genres", "predicted ★", "why"]
HISTORY_COLUMNS = ["date", "title", "genres", "rating ★"]
MY_COLUMNS = ["movie", "my rating ★"]
N_OUTPUTS = 6  # summary, table, not-interested choices, genre profile, history, JSON


def _config() -> dict:
    """The shipped config.json (user ids, genres): read without loading the model."""
    path = get_task(TASK).model_dir / "config.json"
    return json.loads(path.read_text()) if path.exists() else {"users": [], "genres": []}


def _model(variant: str = "hybrid"):
    """(adapter, ms spent loading it: 0 when it was already loaded)."""
    loads = model_cache().loads
    started = time.perf_counter()
    adapter = get_model(TASK, variant)
    return adapter, (time.perf_counter() - started) * 1000 if model_cache().loads > loads else 0.0


def genre_figure(profile: list[dict], title: str) -> go.Figure:
    """The user's genre profile: preference (mean rating above their baseline, shrunk) per genre."""
    rows = sorted(profile, key=lambda r: r["preference"])[-14:]
    fig = go.Figure(go.Bar(
        x=[r["preference"] for r in rows], y=[r["genre"] for r in rows], orientation="h",
        marker_color=["#2a7ab0" if r["preference"] >= 0 else "#c0504d" for r in rows],
        customdata=[[r["ratings"], r["mean_rating"]] for r in rows],
        hovertemplate="%{y}: %{customdata[0]} ratings, mean %{customdata[1]}★<extra></extra>"))
    fig.update_layout(title=dict(text=title, font_size=14), height=360, margin=dict(l=10, r=10, t=50, b=10),
                      xaxis_title="stars above (right) or below (left) the user's own average")
    return fig


def _table(result: dict) -> pd.DataFrame:
    rows = [[r["rank"], r["title"], r["year"] or "", ", ".join(r["genres"]), r["predicted_rating"], r["explanation"]]
            for r in result["recommendations"]]
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def _history(adapter, user: object, result: dict) -> pd.DataFrame:
    if result["user"]["kind"] == "existing":
        rows = [[h["date"], h["title"], ", ".join(h["genres"]), h["rating"]] for h in adapter.history(user, limit=500)]
    else:
        catalogue = adapter.model.catalogue
        rows = [["(now)", r["title"], ", ".join(catalogue.genres[catalogue.index[r["movie_id"]]]), r["rating"]]
                for r in result["user"]["ratings"]]
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS)


def _outputs(adapter, user: object, result: dict, started: float, loading_ms: float) -> tuple:
    who = result["user"]
    name = f"user {who['id']} ({who['ratings']:,} ratings)" if who["kind"] == "existing" else \
        f"you ({len(who['ratings'])} rating{'s' if len(who['ratings']) != 1 else ''})"
    filters = [f"genre {result['filters']['genre']}" if result["filters"]["genre"] else "",
               f"from {result['filters']['year_min']}" if result["filters"]["year_min"] else "",
               f"to {result['filters']['year_max']}" if result["filters"]["year_max"] else "",
               f"{len(result['excluded'])} hidden" if result["excluded"] else ""]
    filters = [f for f in filters if f]
    label = dict((v, k) for k, v in MODEL_CHOICES)[result["model"]]
    summary = (f"**{len(result['recommendations'])} movies for {name}** from the {label} model"
               + (f" ({', '.join(filters)})" if filters else "") + ". Each line says why; score: "
               + result["score_meaning"] + "."
               + "".join(f"\n- {note}" for note in result["notes"])
               + f"\n\nTime: {timing(result['model_ms'], started, loading_ms)}.")
    choices = [(f"{r['title']} ({r['year']})" if r["year"] else r["title"], str(r["movie_id"]))
               for r in result["recommendations"]]
    figure = genre_figure(result["genre_profile"], f"Genre profile of {name}")
    return (summary, _table(result), gr.update(choices=choices, value=choices[0][1] if choices else None), figure,
            _history(adapter, user, result), result)


@user_errors
def recommend(user: str, k: float = 10, genre: str | None = None, year_min: float | None = None,
              year_max: float | None = None, exclude: str | None = None, model: str = "hybrid") -> tuple:
    """Top-k movies for `user` (an existing user id, or a JSON list of {"movie", "rating"} for a new
    user), with optional genre and year filters and movies to leave out (ids, JSON list or comma-separated)."""
    started = time.perf_counter()
    if model not in dict((v, k) for k, v in MODEL_CHOICES):
        raise InputError(f"Unknown model {model!r}; choose one of {', '.join(v for _, v in MODEL_CHOICES)}.")
    adapter, loading_ms = _model(model)
    result = adapter.recommend(user, k if k is not None else 10, genre, year_min, year_max, exclude)
    return _outputs(adapter, user, result, started, loading_ms)


def recommend_view(who: str, user_id: str | None, my_ratings: list, hidden: list, model: str, k: float,
                   genre: str | None, year_min: float | None, year_max: float | None) -> tuple:
    """The tab's request: the chosen existing user, or the visitor's own ratings (session state)."""
    if who == "new" and not my_ratings:
        raise gr.Error("Rate at least one movie first: find it in the search box, choose stars and press "
                       "\"Add my rating\" (or start from an example).", print_exception=False)
    user = user_id if who == "existing" else my_ratings
    return recommend(user, k, genre, year_min, year_max, list(hidden), model)


def recommend_on_change(who: str, user_id: str | None, my_ratings: list, *rest) -> tuple:
    """After a choice changed: as `recommend_view`, except that a new user without ratings waits."""
    if who == "new" and not my_ratings:
        return tuple(gr.skip() for _ in range(N_OUTPUTS))
    return recommend_view(who, user_id, my_ratings, *rest)


def search_movies(event: gr.KeyUpData) -> dict:
    """Up to 20 titles containing what was typed (most rated first), as the search box's choices."""
    adapter, _ = _model()
    return gr.update(choices=adapter.search(event.input_value or "", limit=20))


@user_errors
def add_rating(movie: str | None, stars: float, my_ratings: list) -> tuple:
    """The visitor's ratings with `movie` rated `stars` (a new list: session state is never mutated in place)."""
    if not movie:
        raise InputError("Type a few letters of a title in the search box and pick a movie.")
    adapter, _ = _model()
    row = adapter.resolve_movie(movie)
    movie_id = int(adapter.model.catalogue.movies[row])
    ratings = [r for r in my_ratings if r["movie"] != movie_id] + [{"movie": movie_id, "rating": float(stars)}]
    adapter.parse_ratings(ratings)  # the same limits as the API (count, stars)
    return ratings, _my_table(adapter, ratings), "new", gr.update(value=None)


def _my_table(adapter, ratings: list) -> pd.DataFrame:
    catalogue = adapter.model.catalogue
    return pd.DataFrame([[catalogue.labels[catalogue.index[r["movie"]]], r["rating"]] for r in ratings], columns=MY_COLUMNS)


@user_errors
def use_preset(name: str) -> tuple:
    """An example visitor's ratings (assets/examples/recommender/new_users.json)."""
    preset = next((p for p in PRESETS if p["name"] == name), None)
    if preset is None:
        raise InputError(f"Unknown example {name!r}.")
    adapter, _ = _model()
    ratings = [{"movie": int(adapter.model.catalogue.movies[adapter.resolve_movie(r["movie"])]), "rating": r["rating"]}
               for r in preset["ratings"]]
    return ratings, _my_table(adapter, ratings), "new", []


def hide(movie_id: str | None, hidden: list) -> list:
    """The session's "not interested" list with one more movie."""
    if not movie_id:
        raise gr.Error("Pick a movie from the list first.", print_exception=False)
    return [*hidden, int(movie_id)] if int(movie_id) not in hidden else list(hidden)


def build() -> gr.Blocks:
    """The tab (reads config.json for the user list; loads no model until a request)."""
    config = _config()
    users = [(f"user {u} · {n:,} ratings", str(u)) for u, n in config["users"]]
    genres = config["genres"]
    with gr.Blocks(analytics_enabled=False) as demo:
        my_ratings = gr.State([])
        hidden = gr.State([])
        gr.Markdown(
            "### Movie recommendations\nPick a MovieLens user and see their history and what the models suggest, or rate "
            "a few movies yourself and get suggestions at once (your ratings are folded into the model, no retraining). "
            "Every suggestion says why. The models learned from MovieLens latest-small (100,004 ratings, 1995-2016) and "
            "were tested on each user's latest ratings. " + card_link(TASK))
        with gr.Row():
            with gr.Column(scale=1, min_width=300):
                who = gr.Radio(WHO, value="existing", label="Recommend for")
                with gr.Group(visible=True) as existing_group:
                    user_id = gr.Dropdown(users, value=DEFAULT_USER if any(v == DEFAULT_USER for _, v in users) else None,
                                          label="MovieLens user", filterable=True)
                with gr.Group(visible=False) as new_group:
                    movie = gr.Dropdown([], value=None, label="Find a movie (type part of its title)",
                                        allow_custom_value=True, filterable=True, elem_id="recommender-movie-search")
                    stars = gr.Slider(0.5, 5, value=4, step=0.5, label="My rating (stars)")
                    add = gr.Button("Add my rating", variant="secondary")
                    mine = gr.Dataframe(pd.DataFrame(columns=MY_COLUMNS), label="My ratings", interactive=False,
                                        max_height=220)
                    with gr.Row():
                        preset = gr.Dropdown([p["name"] for p in PRESETS], value=None, label="Or start from an example")
                        clear = gr.Button("Clear my ratings", size="sm")
                model = gr.Radio(MODEL_CHOICES, value="hybrid", label="Model")
                k = gr.Slider(1, MAX_K, value=10, step=1, label="How many movies")
                genre = gr.Dropdown([("any genre", "any"), *[(g, g) for g in genres]], value="any", label="Genre")
                with gr.Row():
                    year_min = gr.Number(None, precision=0, label="From year (0 = any)")
                    year_max = gr.Number(None, precision=0, label="To year (0 = any)")
                run = gr.Button("Recommend", variant="primary")
            with gr.Column(scale=2, min_width=320):
                summary = gr.Markdown(elem_classes="result-summary")
                table = gr.Dataframe(pd.DataFrame(columns=TABLE_COLUMNS), label="Recommendations (click a row to pick it)",
                                     interactive=False, wrap=True, max_height=520,
                                     column_widths=["40px", "190px", "60px", "150px", "80px", "400px"])
                with gr.Row():
                    not_interested = gr.Dropdown([], value=None, label="Not interested in", scale=3)
                    hide_button = gr.Button("Not interested", scale=1)
                    unhide = gr.Button("Show hidden again", scale=1, size="sm")
                profile = gr.Plot(label="Genre profile")
                history = gr.Dataframe(pd.DataFrame(columns=HISTORY_COLUMNS), label="Rating history (newest first)",
                                       interactive=False, max_height=320, wrap=True,
                                       column_widths=["100px", "300px", "250px", "80px"])
                result = api_json()
        outputs = [summary, table, not_interested, profile, history, result]
        inputs = [who, user_id, my_ratings, hidden, model, k, genre, year_min, year_max]
        view = dict(fn=user_errors(recommend_view), inputs=inputs, outputs=outputs, concurrency_limit=CONCURRENCY_LIMIT)
        on_change = dict(fn=user_errors(recommend_on_change), inputs=inputs, outputs=outputs,
                         concurrency_limit=CONCURRENCY_LIMIT)

        run.click(**view, api_name="recommend_for_choice", api_visibility="private")
        rerun_on({"model": model.input, "genre": genre.input, "year_min": year_min.submit, "year_max": year_max.submit,
                  "k": k.release}, "recommend_on_new", **on_change)
        who.change(lambda w: (gr.update(visible=w == "existing"), gr.update(visible=w == "new"), []), who,
                   [existing_group, new_group, hidden], queue=False, api_name="toggle_recommender_user",
                   api_visibility="private", show_progress="hidden").then(
            **on_change, api_name="recommend_on_who", api_visibility="private")
        user_id.input(lambda: [], None, hidden, queue=False, api_name="reset_hidden_on_user", api_visibility="private",
                      show_progress="hidden").then(**on_change, api_name="recommend_on_user", api_visibility="private")
        movie.key_up(search_movies, None, movie, api_name="search_movies", api_visibility="private",
                     show_progress="hidden", trigger_mode="multiple")
        add.click(add_rating, [movie, stars, my_ratings], [my_ratings, mine, who, movie], api_name="add_my_rating",
                  api_visibility="private").success(**view, api_name="recommend_after_rating", api_visibility="private")
        preset.input(use_preset, preset, [my_ratings, mine, who, hidden], api_name="use_example_user",
                     api_visibility="private").success(**view, api_name="recommend_for_example",
                                                       api_visibility="private")
        clear.click(lambda: ([], pd.DataFrame(columns=MY_COLUMNS), []), None, [my_ratings, mine, hidden], queue=False,
                    api_name="clear_my_ratings", api_visibility="private")
        hide_button.click(hide, [not_interested, hidden], hidden, queue=False, api_name="not_interested",
                          api_visibility="private").success(**view, api_name="recommend_after_hiding",
                                                            api_visibility="private")
        unhide.click(lambda: [], None, hidden, queue=False, api_name="show_hidden_again", api_visibility="private").then(
            **on_change, api_name="recommend_after_unhiding", api_visibility="private")
        table.select(select_row, result, not_interested, queue=False, api_name="pick_recommendation",
                     api_visibility="private", show_progress="hidden")
        # The public endpoint keeps the documented signature /recommend(user, k=10, genre=None, ...): API-only,
        # on a button nobody sees, with inputs of its own (a user id or a JSON list of ratings as text).
        with gr.Group(visible=False):
            api_user = gr.Textbox(label="user")
            api_k = gr.Number(10, label="k", precision=0)
            api_genre = gr.Dropdown(genres, value=None, label="genre")
            api_year_min = gr.Number(None, label="year_min", precision=0)
            api_year_max = gr.Number(None, label="year_max", precision=0)
            api_exclude = gr.Textbox(None, label="exclude")
            api_model = gr.Dropdown([v for _, v in MODEL_CHOICES], value="hybrid", label="model")
        gr.Button(visible=False).click(recommend, [api_user, api_k, api_genre, api_year_min, api_year_max, api_exclude,
                                                   api_model], outputs, api_name="recommend",
                                       concurrency_limit=CONCURRENCY_LIMIT)
        show_first_result(demo, functools.partial(recommend, DEFAULT_USER, 10, None, None, None, None, "hybrid"), [], [],
                          outputs, name="first_recommendations")
    return demo


def select_row(result: dict | None, event: gr.SelectData) -> dict:
    """Clicking a row of the recommendations picks that movie in "Not interested in"."""
    row = event.index[0] if isinstance(event.index, (list, tuple)) and event.index else None
    items = (result or {}).get("recommendations", [])
    if not isinstance(row, int) or not 0 <= row < len(items):
        return gr.skip()
    return gr.update(value=str(items[row]["movie_id"]))
