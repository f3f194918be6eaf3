"""Environment-driven settings and the offline switches.

`apply_offline_defaults()` must run before gradio, huggingface_hub, transformers or
ultralytics are imported: they read these variables at import time.
"""
from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def cache_dir() -> Path:
    """Where files derived on this machine are kept (an ONNX export of shipped weights, opt-in
    downloads): $ML_PORTFOLIO_CACHE, or ~/.cache/ml-portfolio. Deleting it is always safe."""
    return Path(os.environ.get("ML_PORTFOLIO_CACHE") or Path.home() / ".cache" / "ml-portfolio")

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


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


_UNITS = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}


def parse_size(text: str | int) -> int:
    """Bytes in a size such as "20mb", "512kb" or 1000 (Gradio's units: kb, mb, gb are powers of 1024)."""
    if isinstance(text, int):
        return text
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", str(text).lower())
    if not match or match.group(2) not in {"", *_UNITS}:
        raise ValueError(f"Not a size: {text!r} (use e.g. 20mb, 512kb or a number of bytes)")
    return int(float(match.group(1)) * _UNITS.get(match.group(2) or "b", 1))


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
    """Runtime settings, read once from the environment (README, "Settings", lists them)."""

    allow_network: bool
    model_cache_size: int
    max_file_size: str          # one byte limit for every request body: uploads, API JSON, data: URLs
    max_image_pixels: int       # larger images are refused before they are decoded
    max_editor_layers: int      # sketchpad / image editor layers accepted in one value
    max_files_per_request: int  # file references in one event's inputs
    max_video_seconds: float    # longer videos are refused before a frame is decoded
    max_text_chars: int         # longer texts are truncated (classification, translation) or refused
    max_audio_seconds: float    # longer audio is refused from its header, before it is decoded
    max_table_rows: int         # uploaded tables (anomaly detection) with more rows are refused before parsing
    max_table_columns: int      # ... and with more columns
    max_ratings: int            # ratings a new user may send in one recommender request
    queue_max_size: int
    concurrency_limit: int
    session_capacity: int       # Gradio sessions kept (least recently used dropped first)
    worker_processes: int       # processes per CPU-heavy task (its own pool, see core/workers.py)
    worker_backlog: int         # requests that may wait for a busy pool before "busy, retry" is answered
    time_budget_s: float        # wall-clock budget of one CPU-heavy request
    cache_ttl_s: int            # uploaded and generated files are deleted after this many seconds
    server_name: str
    server_port: int
    torch_threads: int

    @property
    def max_bytes(self) -> int:
        return parse_size(self.max_file_size)

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            allow_network=_env_bool("ALLOW_NETWORK"),
            model_cache_size=max(1, _env_int("MODEL_CACHE_SIZE", 4)),
            max_file_size=os.environ.get("MAX_FILE_SIZE", "20mb"),
            max_image_pixels=max(1, _env_int("MAX_IMAGE_PIXELS", 40_000_000)),
            max_editor_layers=max(1, _env_int("MAX_EDITOR_LAYERS", 4)),
            max_files_per_request=max(1, _env_int("MAX_FILES_PER_REQUEST", 8)),
            max_video_seconds=max(1.0, _env_float("MAX_VIDEO_SECONDS", 60.0)),
            max_text_chars=max(100, _env_int("MAX_TEXT_CHARS", 20_000)),
            max_audio_seconds=max(1.0, _env_float("MAX_AUDIO_SECONDS", 600.0)),
            max_table_rows=max(10, _env_int("MAX_TABLE_ROWS", 100_000)),
            max_table_columns=max(2, _env_int("MAX_TABLE_COLUMNS", 200)),
            max_ratings=max(1, _env_int("MAX_RATINGS", 100)),
            queue_max_size=max(1, _env_int("QUEUE_MAX_SIZE", 512)),
            concurrency_limit=max(1, _env_int("CONCURRENCY_LIMIT", 4)),
            session_capacity=max(10, _env_int("SESSION_CAPACITY", 2000)),
            worker_processes=max(1, _env_int("WORKER_PROCESSES", 1)),
            worker_backlog=max(0, _env_int("WORKER_BACKLOG", 3)),
            time_budget_s=max(1.0, _env_float("TIME_BUDGET_S", 20.0)),
            cache_ttl_s=max(10, _env_int("CACHE_TTL_S", 3600)),
            server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
            server_port=_env_int("GRADIO_SERVER_PORT", 7860),
            torch_threads=_env_int("TORCH_THREADS", 0),
        )


def quick_mode() -> bool:
    """True when notebooks/CI ask for the seconds-long smoke configuration (ML_PORTFOLIO_QUICK=1)."""
    return _env_bool("ML_PORTFOLIO_QUICK")
