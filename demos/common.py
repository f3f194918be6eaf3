"""Small UI helpers shared by every tab."""
from __future__ import annotations

import functools
import hashlib
import io
import logging
import os
import re
import tempfile
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
    and show a short generic message, so one bad request never takes the app down."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except InputError as exc:
            raise expected_error(exc, fn.__name__) from exc
        except Exception as exc:  # noqa: BLE001 - last line of defence for the UI
            logger.exception("Unexpected error in %s", fn.__name__)
            raise gr.Error(f"Something went wrong ({type(exc).__name__}). Try another input; details are in the server log.") from exc

    return wrapper


def card_link(task: str) -> str:
    """Markdown pointing users to the task's model card and notebook."""
    return (f"Its model card is on the Overview tab (`model_cards/{task}/README.md`); the Metrics tab shows what "
            "its evaluation measured.")
