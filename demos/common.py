"""Small UI helpers shared by every tab."""
from __future__ import annotations

import functools
import hashlib
import inspect
import io
import logging
import os
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

import gradio as gr
import numpy as np
from PIL import Image
from gradio.utils import get_upload_folder

from core.errors import InputError
from core.settings import Settings
from core.workers import BudgetExceeded, BusyError, event_concurrency

logger = logging.getLogger("ml_portfolio")

CONCURRENCY_LIMIT = Settings.from_env().concurrency_limit  # fast, in-process events
HEAVY_CONCURRENCY_LIMIT = event_concurrency()  # events whose work runs in a core.workers pool


def _safe_name(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name).strip("._")


def image_file(array: np.ndarray, name: str = "image") -> str:
    """An output image (uint8 array) as a PNG in Gradio's cache, for an output gr.Image.

    Gradio would save a returned array itself, but non-atomically into one path per content:
    when many users get the same picture at once, a download could read a half-written file.
    Here the file is written under a temporary name and renamed into place (PNG: lossless)."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(array, dtype=np.uint8)).save(buffer, format="PNG", compress_level=1)
    data = buffer.getvalue()
    folder = Path(get_upload_folder()) / hashlib.sha256(data).hexdigest()
    path = folder / f"{_safe_name(name) or 'image'}.png"
    if path.exists():
        os.utime(path)  # the clean-up ages files by ctime: a reused copy starts a new life
        return str(path)
    folder.mkdir(parents=True, exist_ok=True)
    fd, staging = tempfile.mkstemp(dir=folder, prefix=".staging_")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(staging, path)
    return str(path)


def output_file(name: str) -> Path:
    """A path for a file a request generates (a CSV, a subtitle file...): in its own folder inside
    Gradio's cache, so the user downloads it under `name` and the cache clean-up deletes it."""
    folder = Path(tempfile.mkdtemp(prefix="out_", dir=get_upload_folder()))
    return folder / (_safe_name(name) or "output")


def expected_error(exc: InputError, where: str) -> gr.Error:
    """The gr.Error shown for an expected error (bad input, busy, over budget): its message, a
    title that says what kind it is, and one log line instead of a traceback (a flood of bad
    requests must not fill the disk, or the CPU, with tracebacks)."""
    title = ("Busy: please retry" if isinstance(exc, BusyError) else
             "Took too long" if isinstance(exc, BudgetExceeded) else "Please check your input")
    logger.info("%s refused in %s: %s", type(exc).__name__, where, exc)
    return gr.Error(str(exc), title=title, print_exception=False)


def user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Show `InputError`s to the user as a gr.Error with their message; log anything else
    and show a short generic message, so one bad request never takes the app down. Works for
    generator (streaming) handlers too: errors raised while they stream are caught the same way."""

    def user_error(exc: Exception) -> gr.Error:
        if isinstance(exc, gr.Error):
            return exc
        if isinstance(exc, InputError):
            return expected_error(exc, fn.__name__)
        logger.exception("Unexpected error in %s", fn.__name__)
        return gr.Error(f"Something went wrong ({type(exc).__name__}). Try another input; details are in the server log.")

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def streaming(*args: Any, **kwargs: Any) -> Any:
            try:
                yield from fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - last line of defence for the UI
                raise user_error(exc) from exc

        return streaming

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - last line of defence for the UI
            error = user_error(exc)
            if error is exc:
                raise
            raise error from exc

    return wrapper


def card_link(task: str) -> str:
    """Markdown pointing users to the task's model card and notebook."""
    return "Its model card and notebook are on the Overview tab; the Metrics tab shows what its evaluation measured."


def api_json(label: str = "API response (JSON)") -> gr.JSON:
    """The JSON an API client gets, for the curious: in a closed accordion under the results."""
    with gr.Accordion(label, open=False):
        return gr.JSON(label=label, show_label=False)


def timing(model_ms: float, started: float, loading_ms: float = 0.0) -> str:
    """Say what each latency figure measures: the model's own time, and the server's handling of
    the request since `started` (perf_counter), which includes `loading_ms` spent loading the
    model (first use only) and drawing the outputs. The upload and queue wait come before."""
    total_ms = (time.perf_counter() - started) * 1000
    return (f"model {model_ms:,.0f} ms; handling the request on the server {total_ms:,.0f} ms"
            + (f", of which {loading_ms:,.0f} ms loading the model (first use only)" if loading_ms >= 50 else ""))


def _missing_files(value: Any) -> bool:
    """True if `value` names a file in Gradio's cache that the clean-up has since deleted."""
    folder = str(get_upload_folder())
    if isinstance(value, str):
        return value.startswith(folder) and not os.path.exists(value)
    if isinstance(value, (list, tuple)):
        return any(_missing_files(item) for item in value)
    if isinstance(value, dict):
        return any(_missing_files(item) for item in value.values())
    return False


class FirstResult:
    """A tab's result on first load: `fn(*args)` run once, when the first visitor opens the app,
    and served to every later one (again after the cache clean-up deleted its files).

    Returns the example inputs followed by the outputs, so the page shows which input gave the
    result. A failure leaves the page as it was (logged once per attempt). A first run slower than
    COLD_START_S (worker start, model loading) is run again, so the timings every visitor reads
    are those of a request, not of the server's start."""

    COLD_START_S = 2.0

    def __init__(self, fn: Callable[..., Any], *args: Any, n_outputs: int) -> None:
        self.fn, self.args, self.n_outputs = fn, args, n_outputs
        self._value: tuple | None = None
        self._lock = threading.Lock()

    def _run(self) -> Any:
        """fn(*args); for a streaming (generator) handler, its last value."""
        outputs = self.fn(*self.args)
        if inspect.isgenerator(outputs):
            for outputs in outputs:  # noqa: B007 - the last value is the result
                pass
        return outputs

    def __call__(self) -> tuple:
        with self._lock:
            if self._value is None or _missing_files(self._value):
                try:
                    started = time.perf_counter()
                    outputs = self._run()
                    if time.perf_counter() - started > self.COLD_START_S:
                        outputs = self._run()
                except Exception as exc:  # noqa: BLE001 - a first-load result is a nicety, never an error
                    logger.warning("First-load result of %s failed: %s", getattr(self.fn, "__name__", self.fn), exc)
                    return tuple(gr.skip() for _ in range(len(self.args) + self.n_outputs))
                self._value = (*self.args, *(outputs if isinstance(outputs, tuple) else (outputs,)))
            return self._value


def example_gallery(paths: list[Path], captions: list[str], label: str, columns: int = 6) -> gr.Gallery:
    """Example pictures as a compact gallery of thumbnails with captions (a table of examples is
    700 px wide and hides its other columns on a phone). Wire its `.select` with `picked_example`."""
    gr.Markdown(label, elem_classes="example-gallery-label")
    return gr.Gallery([(str(p), c) for p, c in zip(paths, captions)], label=label, show_label=False, columns=columns,
                      height="auto", allow_preview=False, object_fit="contain", interactive=False,
                      buttons=[], elem_classes="example-gallery")


def picked_example(paths: list[Path], *also: Any) -> Callable[[gr.SelectData], Any]:
    """The select handler of an `example_gallery`: the clicked example's path, looked up on the
    server by index (the client never names a file), followed by the values `also` (to reset
    other inputs, such as a model choice, with the same event)."""

    def pick(event: gr.SelectData) -> Any:
        index = event.index if isinstance(event.index, int) else -1
        if not 0 <= index < len(paths):
            raise gr.Error("Unknown example; click one of the pictures.", print_exception=False)
        return (str(paths[index]), *also) if also else str(paths[index])

    return pick


def run_example_on_select(gallery: gr.Gallery, paths: list[Path], target: gr.components.Component,
                          fn: Callable[..., Any], inputs: list, outputs: list, name: str, concurrency_limit: int,
                          also: tuple[Any, ...] = (), also_to: tuple[gr.components.Component, ...] = ()) -> None:
    """Clicking an example of `gallery` puts it into `target` (and `also` into `also_to`), then runs
    `fn(*inputs)` into `outputs`: the result appears at once. Events: pick_<name>, run_<name>."""
    gallery.select(picked_example(paths, *also), None, [target, *also_to] if also_to else target,
                   api_name=f"pick_{name}", api_visibility="private", queue=False).then(
        fn, inputs, outputs, api_name=f"run_{name}", api_visibility="private", concurrency_limit=concurrency_limit)


def rerun_on(triggers: dict[str, Callable[..., Any]], prefix: str, **event: Any) -> None:
    """Attach the same event (fn, inputs, outputs...) to each trigger (a component's `.input`,
    `.release`, `.upload`...), named <prefix>_<key>: a new choice gives a new result at once,
    and only the last of quick successive changes runs."""
    for key, trigger in triggers.items():
        trigger(**event, api_name=f"{prefix}_{key}", api_visibility="private", trigger_mode="always_last")


def select_brush_js(elem_id: str) -> str:
    """Browser-side: select the brush of the sketchpad `elem_id` (Gradio starts it, and leaves it
    after "Clear", with no tool selected, so a first stroke would draw nothing). Retries while
    the pad is being drawn; does nothing when the brush is already selected."""
    return ("() => { let tries = 0; const select = () => { const brush = document.querySelector("
            f"'#{elem_id} button[aria-label=\"Brush\"]'); "
            "if (brush && brush.offsetParent) { if (!brush.classList.contains('highlight')) brush.click(); } "
            "else if (tries++ < 40) setTimeout(select, 50); }; setTimeout(select, 50); }")


def show_first_result(demo: gr.Blocks, fn: Callable[..., Any], inputs: list[gr.components.Component],
                      values: list[Any], outputs: list[gr.components.Component], name: str) -> None:
    """On page load, fill `inputs` with `values` and `outputs` with `fn(*values)` (computed once)."""
    demo.load(FirstResult(fn, *values, n_outputs=len(outputs)), outputs=[*inputs, *outputs], api_name=name,
              api_visibility="private", show_progress="minimal")
