"""Small UI helpers shared by every tab."""
from __future__ import annotations

import functools
import logging
from typing import Any, Callable

import gradio as gr

from core.errors import InputError
from core.settings import Settings

logger = logging.getLogger("ml_portfolio")

CONCURRENCY_LIMIT = Settings.from_env().concurrency_limit


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
            raise gr.Error(str(exc), title="Please check your input") from exc
        except Exception as exc:  # noqa: BLE001 - last line of defence for the UI
            logger.exception("Unexpected error in %s", fn.__name__)
            raise gr.Error(f"Something went wrong ({type(exc).__name__}). Try another input; details are in the server log.") from exc

    return wrapper


def card_link(task: str) -> str:
    """Markdown pointing users to the task's model card and notebook."""
    return f"Model card: `model_cards/{task}/README.md`. Metrics tab: per-class figures and training curves."
