"""Many users at once: shared models are never modified by a request, identical uploads from
many clients at once all succeed, CPU-heavy work runs in bounded worker pools with a time
budget, and uploaded or generated files are cleaned up."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch

from core.errors import InputError
from core.registry import EXAMPLES_DIR, get_model
from core.tasks.image_classification import preprocess as pp

EXAMPLES = EXAMPLES_DIR / "image_classification"


def _state(model: torch.nn.Module) -> dict:
    return {
        "training": [m.training for m in model.modules()],
        "hooks": sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) for m in model.modules()),
        "grads": [p.grad is not None for p in model.parameters()],
        "weights": {k: v.clone() for k, v in model.state_dict().items()},
    }


def test_explanations_leave_the_shared_model_untouched():
    """Regression: Grad-CAM registered hooks on the shared model, switched it to eval/train and
    accumulated parameter gradients, which broke concurrent requests' forward passes."""
    adapter = get_model("image_classification", "fashion")
    before = _state(adapter.model)
    frame = pp.preprocess_product(str(EXAMPLES / "fashion_on_white_sandal.jpg"))
    calls = {"hooks": 0}
    original = torch.nn.Module.register_forward_hook

    def counting(self, *args, **kwargs):
        calls["hooks"] += 1
        return original(self, *args, **kwargs)

    torch.nn.Module.register_forward_hook = counting
    try:
        adapter.predict(None, frame=frame, explain=True)
        adapter.explain(frame, 3)
    finally:
        torch.nn.Module.register_forward_hook = original
    after = _state(adapter.model)
    assert calls["hooks"] == 0
    assert after["training"] == before["training"] and not any(after["training"])
    assert after["hooks"] == 0 and not any(after["grads"])
    assert all(torch.equal(before["weights"][k], after["weights"][k]) for k in before["weights"])


def test_concurrent_predictions_and_explanations_match_sequential_ones():
    adapter = get_model("image_classification", "fashion")
    files = sorted(p for p in EXAMPLES.iterdir() if p.name.startswith("fashion"))
    frames = [pp.preprocess_product(str(p)) for p in files]
    expected = [adapter.predict(None, frame=f, explain=True) for f in frames]

    def run(i: int) -> tuple[int, dict]:
        return i, adapter.predict(None, frame=frames[i % len(frames)], explain=True)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(run, range(96)))
    for i, result in results:
        reference = expected[i % len(frames)]
        assert result["predictions"] == reference["predictions"]
        assert np.array_equal(result["explanation"], reference["explanation"])


def test_many_clients_uploading_the_same_file_at_once_all_succeed(app_url):
    """Regression: Gradio re-encoded each upload to RGB into one shared cache path per content,
    so simultaneous uploads of one file read each other's half-written copies."""
    from gradio_client import Client, handle_file

    path = str(EXAMPLES / "digit_3_drawn.png")  # an RGBA PNG: the old path re-encoded it every time

    def client_session(_: int) -> list[str]:
        # one Client per simulated user: gradio_client's shared event stream is not meant for
        # many concurrent predictions on one Client (it may cancel a finished job)
        client = Client(app_url, verbose=False)
        return [client.predict(image=handle_file(path), model="digits", api_name="/classify_image")[-1]["predictions"][0]["label"]
                for _ in range(3)]

    with ThreadPoolExecutor(16) as pool:
        labels = [label for labels in pool.map(client_session, range(16)) for label in labels]
    assert labels == ["3"] * 48


def test_every_filepath_image_input_is_handed_over_as_uploaded():
    import gradio as gr

    import app

    demo = app.build_app()
    inputs = {id(c): c for dep in demo.fns.values() for c in dep.inputs}
    images = [c for c in inputs.values() if isinstance(c, gr.Image) and c.type == "filepath"]
    assert images and all(c.image_mode is None for c in images)


def test_sessions_start_without_a_copy_of_every_component(app_url):
    """Each API call without a session starts one; Gradio used to build every component's config
    for it (CPU under the GIL, ~125 KB kept per session). Now only what a request updates is kept."""
    import gradio as gr
    from gradio.state_holder import SessionState
    from gradio_client import Client, handle_file

    from core.settings import Settings

    client = Client(app_url, verbose=False)  # a session of its own
    demo = next(b for b in gr.Blocks.get_instances() if b.is_running and b.local_url == app_url)
    assert SessionState(demo).config_values == {}
    assert demo.state_session_capacity == Settings.from_env().session_capacity
    result = client.predict(image=handle_file(str(EXAMPLES / "fashion_test_bag.png")), api_name="/classify_image")
    assert result[-1]["predictions"][0]["label"] == "Bag"
    session = demo.state_holder[client.session_hash]
    assert 0 < len(session.config_values) < len(demo.blocks) // 4


# ----------------------------------------------------------------------------- worker pools

def test_a_request_over_its_time_budget_is_stopped_with_a_clear_message():
    from core.workers import BudgetExceeded, TaskPool

    pool = TaskPool("test_budget", workers=1, backlog=0, budget_s=1.0)
    try:
        start = time.monotonic()
        with pytest.raises(BudgetExceeded, match="budget"):
            pool.run(time.sleep, 30)
        assert time.monotonic() - start < 20  # the worker was killed, not waited for
        assert pool.run(sum, [1, 2, 3]) == 6  # and replaced: the pool keeps serving
    finally:
        pool.close()


def test_a_full_pool_answers_busy_at_once_instead_of_queueing():
    from core.workers import BusyError, TaskPool

    pool = TaskPool("test_busy", workers=1, backlog=1, budget_s=30.0)
    try:
        running = [threading.Thread(target=pool.run, args=(time.sleep, 3)) for _ in range(2)]
        for thread in running:
            thread.start()
        deadline = time.monotonic() + 10
        while pool.pending < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        with pytest.raises(BusyError, match="busy"):
            pool.run(sum, [1])
        for thread in running:
            thread.join()
        assert pool.run(sum, [1]) == 1
    finally:
        pool.close()


def test_the_app_starts_the_pools_of_worker_tasks_at_launch(app_url):
    from core import workers
    from core.registry import TASKS

    names = [spec.name for spec in TASKS.values() if spec.runs_in_worker]
    assert "time_series_forecasting" in names
    assert all(name in workers._pools and workers._pools[name]._pool is not None for name in names)


def test_forecasts_run_in_the_worker_pool(monkeypatch):
    from core import workers
    from demos.time_series_forecasting import forecast

    calls = []
    real = workers.TaskPool.run

    def spy(self, fn, *args, **kwargs):
        calls.append(self.name)
        return real(self, fn, *args, **kwargs)

    monkeypatch.setattr(workers.TaskPool, "run", spy)
    outputs = forecast(None, "air_passengers", model="seasonal_naive", horizon=6)
    assert calls == ["time_series_forecasting"] and outputs[-1]["horizon"] == 6


# ----------------------------------------------------------------------------- clean-up

def test_uploads_and_generated_files_are_deleted_after_their_time_to_live(client, app_url):
    """The launched app deletes what requests left behind (Gradio's delete_cache, configured from
    CACHE_TTL_S) and the folders they were in; here with age 0 instead of waiting an hour."""
    import gradio as gr
    from gradio.route_utils import delete_files_created_by_app
    from gradio.utils import get_upload_folder
    from gradio_client import handle_file

    from core.housekeeping import prune_empty_dirs
    from core.settings import Settings
    from demos.common import output_file

    demo = next(b for b in gr.Blocks.get_instances() if b.is_running and b.local_url == app_url)
    ttl = Settings.from_env().cache_ttl_s
    assert demo.delete_cache == (max(10, ttl // 4), ttl)
    client.predict(file=handle_file(str(EXAMPLES_DIR / "time_series_forecasting" / "air_passengers.csv")),
                   model="seasonal_naive", horizon=6, api_name="/forecast")
    tracked = [Path(p) for p in set().union(*demo.temp_file_sets)]
    uploaded = [p for p in tracked if p.name == "air_passengers.csv"]
    generated = [p for p in tracked if p.name == "forecast_air_passengers.csv"]
    cache = Path(get_upload_folder()).resolve()
    assert uploaded and generated and all(cache in p.resolve().parents for p in generated)
    delete_files_created_by_app(demo, age=0)
    assert not any(p.exists() for p in uploaded + generated)
    stray = output_file("stray.csv")
    assert prune_empty_dirs(stray.parent.parent, min_age_s=0) >= 1 and not stray.parent.exists()


def test_a_flood_of_forecasts_neither_fills_the_queue_nor_blocks_other_tabs(app_url):
    """Regression: 50 slow forecasts filled the shared queue (32), and /classify_image got 503
    "Queue is full". Now forecasts beyond their pool's share are answered "busy" at once."""
    from gradio_client import Client, handle_file

    def forecast(_: int) -> str:
        try:  # a Client per request: each its own session and event stream
            return Client(app_url, verbose=False).predict(None, "air_passengers", "", "", "auto", 24, 0,
                                                          api_name="/forecast")[-1]["model"]
        except Exception as exc:  # noqa: BLE001 - the message is what is checked
            return str(exc)

    with ThreadPoolExecutor(40) as pool:
        floods = [pool.submit(forecast, i) for i in range(40)]
        time.sleep(1.0)  # the flood is queued or running
        image = Client(app_url, verbose=False).predict(image=handle_file(str(EXAMPLES / "fashion_test_bag.png")),
                                                       api_name="/classify_image")
        outcomes = [job.result(timeout=300) for job in floods]
    assert image[-1]["predictions"][0]["label"] == "Bag"
    busy = [o for o in outcomes if "busy" in o]
    assert busy and all(o in {"sarima", "ets", "theta", "seasonal_naive"} or "busy" in o for o in outcomes), outcomes


def test_input_errors_from_the_pool_reach_the_user_as_input_errors():
    from core.workers import run_heavy

    import pandas as pd

    series = pd.Series(np.arange(20.0), index=pd.date_range("2000-01-01", periods=20, freq="MS"))
    with pytest.raises(InputError, match="Horizon"):
        run_heavy("time_series_forecasting", "auto", "forecast", series, 10_000, 12)
