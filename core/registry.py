"""The task table and lazy, cached model loading.

Every part of the project that needs the list of tasks (app, metrics tab, training CLI,
tests, README generator) reads `TASKS`. Entries refer to code by import path so importing
the registry imports no heavy library and loads no model.
"""
from __future__ import annotations

import importlib
import inspect
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from core.settings import REPO_ROOT, Settings

MODELS_DIR = REPO_ROOT / "assets" / "models"
EXAMPLES_DIR = REPO_ROOT / "assets" / "examples"
CARDS_DIR = REPO_ROOT / "model_cards"


def _resolve(path: str) -> Callable[..., Any]:
    """Import "package.module:attribute" and return the attribute."""
    module_name, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


@dataclass(frozen=True)
class TaskSpec:
    """One task of the portfolio.

    Attributes:
        name: snake_case key used for folders, cards, notebooks and the CLI.
        number: position in the product (01..12), also the notebook prefix.
        title: tab title shown to users.
        summary: one sentence on what the task does, for the Overview tab.
        endpoints: public API names (the contract in DESIGN.md).
        variants: model variants the task serves; the first is the default.
        loader: "module:function" taking (variant: str, model_dir: Path) and returning an adapter.
        demo: "module:function" returning the task's gr.Blocks.
        trainer: "module:function" taking (out_dir: Path, card_dir: Path, quick: bool) that trains,
            evaluates and writes weights, metrics.json and the card; returns the metrics dict.
        fits_per_request: True when the model is fitted on the user's data at request time
            (the shipped artifact is then a configuration, not weights).
        runs_in_worker: True when the tab runs its CPU-heavy work in the task's worker pool
            (`core.workers.run_heavy`); the app starts that pool at launch so the first request
            does not wait for the worker's imports.
    """

    name: str
    number: int
    title: str
    summary: str
    endpoints: tuple[str, ...]
    loader: str
    demo: str
    trainer: str
    variants: tuple[str, ...] = ("default",)
    fits_per_request: bool = False
    runs_in_worker: bool = False

    @property
    def model_dir(self) -> Path:
        return MODELS_DIR / self.name

    @property
    def card_dir(self) -> Path:
        return CARDS_DIR / self.name

    @property
    def notebook(self) -> Path:
        return REPO_ROOT / "notebooks" / f"{self.number:02d}_{self.name}.ipynb"

    def build_demo(self) -> Any:
        return _resolve(self.demo)()

    def train(self, out_dir: Path, card_dir: Path, quick: bool = False, data_dir: Path | None = None) -> dict:
        """Run the trainer; `data_dir` (a user's own copy of a data set) only for trainers that take one."""
        trainer = _resolve(self.trainer)
        if data_dir is None:
            return trainer(out_dir=out_dir, card_dir=card_dir, quick=quick)
        if "data_dir" not in inspect.signature(trainer).parameters:
            raise ValueError(f"Task {self.name!r} does not train on a data folder of yours; run it without --data")
        return trainer(out_dir=out_dir, card_dir=card_dir, quick=quick, data_dir=data_dir)


TASKS: dict[str, TaskSpec] = {
    spec.name: spec
    for spec in [
        TaskSpec(
            name="image_classification",
            number=1,
            title="Image classification",
            summary="Names the garment or shoe in a product photo (Fashion-MNIST) or reads a handwritten digit you "
                    "draw (MNIST), and shows where the model looked (Grad-CAM).",
            endpoints=("/classify_image", "/classify_sketch"),
            variants=("auto", "fashion", "digits"),
            loader="core.tasks.image_classification.adapter:load",
            demo="demos.image_classification:build",
            trainer="core.tasks.image_classification.train:train",
        ),
        TaskSpec(
            name="object_detection",
            number=2,
            title="Object detection",
            summary="Finds 12 kinds of objects (animals, vehicles, fruit, pizza, balls, umbrellas) in a picture, with "
                    "boxes, scores and counts: a YOLO11n trained by this project on generated scenes with exact "
                    "ground truth.",
            endpoints=("/detect_objects", "/detect_objects_video"),
            variants=("scenes", "coco"),  # coco: opt-in, installed by core.tasks.object_detection.coco
            loader="core.tasks.object_detection.adapter:load",
            demo="demos.object_detection:build",
            trainer="core.tasks.object_detection.train:train",
            runs_in_worker=True,
        ),
        TaskSpec(
            name="instance_segmentation",
            number=3,
            title="Instance segmentation",
            summary="Outlines every object of the same 12 kinds pixel by pixel, one mask per instance, with its area "
                    "and a COCO RLE mask: the mask head of the detection model.",
            endpoints=("/segment_instances",),
            variants=("scenes", "coco"),
            loader="core.tasks.object_detection.adapter:load_shared",
            demo="demos.instance_segmentation:build",
            trainer="core.tasks.object_detection.train:train_segmentation",
        ),
        TaskSpec(
            name="text_classification",
            number=4,
            title="Text classification",
            summary="Tells spam from wanted e-mail (SpamAssassin) with a LoRA-tuned MiniLM encoder or a TF-IDF baseline, "
                    "and highlights the words that pushed the decision.",
            endpoints=("/classify_text",),
            variants=("minilm", "tfidf"),
            loader="core.tasks.text_classification.adapter:load",
            demo="demos.text_classification:build",
            trainer="core.tasks.text_classification.train:train",
            runs_in_worker=True,
        ),
        TaskSpec(
            name="text_generation",
            number=5,
            title="Text generation",
            summary="Continues your prompt with a small GPT-2 trained by this project on public-domain English, with "
                    "every decoding strategy and setting, tokens streamed and coloured by their probability.",
            endpoints=("/generate_text",),
            variants=("scratch", "hub"),  # hub: opt-in, installed by core.tasks.text_generation.hub
            loader="core.tasks.text_generation.adapter:load",
            demo="demos.text_generation:build",
            trainer="core.tasks.text_generation.train:train",
        ),
        TaskSpec(
            name="machine_translation",
            number=6,
            title="Machine translation",
            summary="Translates between 10 languages with Apertium (rule-based, through pivot languages where no direct "
                    "pair exists), or English ↔ Spanish with a small transformer distilled from it; with language "
                    "detection, a back-translation and a round-trip score.",
            endpoints=("/translate",),
            variants=("apertium", "neural"),
            loader="core.tasks.machine_translation.adapter:load",
            demo="demos.machine_translation:build",
            trainer="core.tasks.machine_translation.train:train",
            runs_in_worker=True,
        ),
        TaskSpec(
            name="speech_emotion_recognition",
            number=7,
            title="Speech emotion recognition",
            summary="Hears whether a voice sounds neutral, happy, sad, angry or fearful, and how that changes over a "
                    "long recording: a log-mel CNN trained on acted prosody synthesised with eSpeak NG (synthetic "
                    "speech, unseen voices in the test set).",
            endpoints=("/recognize_emotion",),
            variants=("cnn", "mfcc"),
            loader="core.tasks.speech_emotion_recognition.adapter:load",
            demo="demos.speech_emotion_recognition:build",
            trainer="core.tasks.speech_emotion_recognition.train:train",
            runs_in_worker=True,
        ),
        TaskSpec(
            name="speech_recognition",
            number=8,
            title="Speech recognition",
            summary="Writes down English speech from a file or your microphone, live, with timestamps per segment and "
                    "word and SRT/VTT subtitles: Whisper tiny.en (pretrained) or PocketSphinx, a classic HMM recogniser.",
            endpoints=("/transcribe",),
            variants=("whisper", "pocketsphinx", "hub"),  # hub: opt-in, installed by core.tasks.speech_recognition.hub
            loader="core.tasks.speech_recognition.adapter:load",
            demo="demos.speech_recognition:build",
            trainer="core.tasks.speech_recognition.evaluate:evaluate_and_write_card",
            runs_in_worker=True,
        ),
        TaskSpec(
            name="recommender",
            number=9,
            title="Recommender",
            summary="Recommends movies (MovieLens) to an existing user or to you after a few ratings, with the reason "
                    "for each: surprise's SVD blended with a content model, against a popularity baseline.",
            endpoints=("/recommend",),
            variants=("hybrid", "svd", "content", "popularity"),
            loader="core.tasks.recommender.adapter:load",
            demo="demos.recommender:build",
            trainer="core.tasks.recommender.train:train",
        ),
        TaskSpec(
            name="time_series_forecasting",
            number=10,
            title="Time-series forecasting",
            summary="Forecasts your CSV or Excel series (or a bundled real one) with prediction intervals, "
                    "choosing among seasonal naive, ETS, SARIMA and Theta by backtest.",
            endpoints=("/forecast",),
            variants=("auto", "seasonal_naive", "ets", "sarima", "theta"),
            loader="core.tasks.time_series_forecasting.adapter:load",
            demo="demos.time_series_forecasting:build",
            trainer="core.tasks.time_series_forecasting.train:train",
            fits_per_request=True,
            runs_in_worker=True,
        ),
        TaskSpec(
            name="anomaly_detection",
            number=11,
            title="Anomaly detection",
            summary="Finds the unusual rows of any table you upload (or of bundled real sensor and medical data) with "
                    "pyod's detectors, and says which features make each one unusual.",
            endpoints=("/detect_anomalies",),
            variants=("auto", "iforest", "lof", "knn", "ecod", "copod", "hbos", "ocsvm", "autoencoder"),
            loader="core.tasks.anomaly_detection.adapter:load",
            demo="demos.anomaly_detection:build",
            trainer="core.tasks.anomaly_detection.train:train",
            fits_per_request=True,
            runs_in_worker=True,
        ),
        TaskSpec(
            name="multimodal_fusion",
            number=12,
            title="Multimodal fusion",
            summary="Names the emoji category of a picture, a text and a spoken description, read together or any "
                    "of them alone, and shows how much each counted: a learned gate over a small CNN, MiniLM and "
                    "Whisper's encoder (speech training data synthesised).",
            endpoints=("/fuse",),
            variants=("fusion",),
            loader="core.tasks.multimodal_fusion.adapter:load",
            demo="demos.multimodal_fusion:build",
            trainer="core.tasks.multimodal_fusion.train:train",
            runs_in_worker=True,
        ),
    ]
}


def get_task(name: str) -> TaskSpec:
    """Return the spec for `name`, with a clear error for unknown names."""
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"Unknown task {name!r}; known tasks: {', '.join(TASKS)}") from None


class ModelCache:
    """A bounded LRU of loaded adapters, keyed by (task, variant).

    Each key is loaded at most once even when many requests ask for it at the same moment:
    the first caller loads while holding that key's lock, the others wait and reuse it.
    """

    def __init__(self, max_size: int) -> None:
        self.max_size = max(1, max_size)
        self._items: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[tuple[str, str], threading.Lock] = {}
        self.loads = 0  # how many times a loader actually ran (tests and benchmarks read it)

    def get(self, key: tuple[str, str], load: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    return self._items[key]
            value = load()
            with self._lock:
                self.loads += 1
                self._items[key] = value
                self._items.move_to_end(key)
                while len(self._items) > self.max_size:
                    self._items.popitem(last=False)
            return value

    def keys(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_cache = ModelCache(Settings.from_env().model_cache_size)


def model_cache() -> ModelCache:
    return _cache


def get_model(task: str, variant: str | None = None) -> Any:
    """Return the adapter for `task`/`variant`, loading it on first use from the shipped assets."""
    spec = get_task(task)
    variant = variant or spec.variants[0]
    if variant not in spec.variants:
        raise KeyError(f"Task {task!r} has no variant {variant!r}; choose one of {', '.join(spec.variants)}")
    loader = _resolve(spec.loader)
    return _cache.get((task, variant), lambda: loader(variant=variant, model_dir=spec.model_dir))
