"""Environment-driven settings and the offline switches.

`apply_offline_defaults()` must run before gradio, huggingface_hub, transformers or
ultralytics are imported: they read these variables at import time.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

OFFLINE_ENV = {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "YOLO_OFFLINE": "1",
    "YOLO_AUTOINSTALL": "False",
    "MPLBACKEND": "Agg",
}


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def apply_offline_defaults() -> None:
    """Set the offline switches unless the user opted in to network access (ALLOW_NETWORK=1)."""
    if not _env_bool("ALLOW_NETWORK"):
        for key, value in OFFLINE_ENV.items():
            os.environ.setdefault(key, value)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("MPLBACKEND", "Agg")
    yolo_dir = Path(os.environ.setdefault("YOLO_CONFIG_DIR", str(Path(tempfile.gettempdir()) / "ml_portfolio_yolo")))
    yolo_dir.mkdir(parents=True, exist_ok=True)


@dataclass(frozen=True)
class Settings:
    """Runtime settings, read once from the environment."""

    allow_network: bool
    model_cache_size: int
    max_file_size: str
    queue_max_size: int
    concurrency_limit: int
    server_name: str
    server_port: int
    torch_threads: int

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            allow_network=_env_bool("ALLOW_NETWORK"),
            model_cache_size=max(1, _env_int("MODEL_CACHE_SIZE", 4)),
            max_file_size=os.environ.get("MAX_FILE_SIZE", "20mb"),
            queue_max_size=_env_int("QUEUE_MAX_SIZE", 32),
            concurrency_limit=max(1, _env_int("CONCURRENCY_LIMIT", 2)),
            server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
            server_port=_env_int("GRADIO_SERVER_PORT", 7860),
            torch_threads=_env_int("TORCH_THREADS", 0),
        )


def quick_mode() -> bool:
    """True when notebooks/CI ask for the seconds-long smoke configuration (ML_PORTFOLIO_QUICK=1)."""
    return _env_bool("ML_PORTFOLIO_QUICK")
