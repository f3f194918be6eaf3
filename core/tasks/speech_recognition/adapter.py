"""Inference adapter of task 08: speech in a file -> text, timed segments and words.

    transcribe(audio, engine="whisper") -> the /transcribe JSON
    for step in transcribe_iter(audio, engine, run): ...   # Progress after each chunk, then the JSON

The file is read and checked by core.audio (any common format and rate, mono 16 kHz, limits
before decoding), cut into chunks at pauses (chunking.py), and each chunk is recognised by the
engine; `run(variant, method, *args)` says where: in this process by default, in the task's worker
pool in the app (`functools.partial(core.workers.run_heavy, TASK)`), so every chunk has its own
time budget and the page can show progress between chunks.

Engines (`load`): "whisper" (Whisper tiny.en, the default), "pocketsphinx" (less memory, far less accurate) and
"hub" (Whisper base.en, opt-in, installed by core.tasks.speech_recognition.hub). A loaded engine
is only read by a request (PocketSphinx's decoder, which keeps state, under a lock).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from core import audio as audio_input
from core.errors import InputError
from core.tasks.speech_recognition import chunking, hub
from core.tasks.speech_recognition.engines import BEAM_SIZE, PocketSphinxEngine, WhisperEngine, whisper_tiny_path

TASK = "speech_recognition"
RATE = chunking.RATE
ENGINES = ("whisper", "pocketsphinx", "hub")
ENGINE_NAMES = {"whisper": "Whisper tiny.en", "pocketsphinx": "PocketSphinx", "hub": "Whisper base.en (Hub)"}
Runner = Callable[..., Any]


class Recognizer:
    """One engine and the chunk planner: what a worker process holds and runs."""

    def __init__(self, engine: WhisperEngine | PocketSphinxEngine, variant: str) -> None:
        self.engine, self.variant = engine, variant

    def plan(self, samples: np.ndarray) -> dict:
        """Where to cut `samples` (16 kHz mono): VAD regions joined into chunks of at most 29 s, and
        the seconds it took."""
        started = time.perf_counter()
        chunks = chunking.plan_chunks(chunking.speech_regions(np.asarray(samples, dtype=np.float32)))
        return {"chunks": chunks, "seconds": time.perf_counter() - started}

    def recognise(self, samples: np.ndarray, fast: bool = False) -> dict:
        """One chunk's segments (seconds from its start), and the seconds it took."""
        started = time.perf_counter()
        result = self.engine.recognise(samples, fast=fast)
        return {**result, "seconds": time.perf_counter() - started}

    def warm(self) -> None:
        """A first recognition, so a worker's first request does not pay the engine's lazy set-up."""
        noise = np.random.default_rng(0).normal(0, 0.01, RATE).astype(np.float32)
        self.recognise(noise)
        self.plan(noise)


def _config(model_dir: Path) -> dict:
    path = Path(model_dir) / "config.json"
    return json.loads(path.read_text()) if path.exists() else {}


def load(variant: str, model_dir: Path) -> Recognizer:
    """"whisper", "pocketsphinx" or "hub" (an InputError with the install command until it is installed)."""
    beam_size = int(_config(model_dir).get("beam_size", BEAM_SIZE))
    if variant == "whisper":
        return Recognizer(WhisperEngine(whisper_tiny_path(), "whisper", beam_size), variant)
    if variant == "pocketsphinx":
        return Recognizer(PocketSphinxEngine(), variant)
    if variant == "hub":
        if not hub.available():
            raise InputError(hub.unavailable_reason())
        return Recognizer(WhisperEngine(hub.hub_dir(), "hub", beam_size), variant)
    raise KeyError(f"Unknown variant {variant!r}")


def checked_engine(engine: object) -> str:
    """The engine name, or an InputError that lists the choices (and says how to install "hub")."""
    name = str(engine or "whisper").strip().lower()
    if name not in ENGINES:
        raise InputError(f"Unknown engine {engine!r}: choose whisper (Whisper tiny.en, the default), pocketsphinx "
                         "(a classic HMM recogniser, less accurate) or hub (Whisper base.en, once installed).")
    if name == "hub" and not hub.available():
        raise InputError(hub.unavailable_reason())
    return name


def in_process(variant: str, method: str, *args: Any) -> Any:
    """The default runner: the registry's cached engine, in this process."""
    from core.registry import get_model

    return getattr(get_model(TASK, variant), method)(*args)


def read_audio(audio: str | Path | np.ndarray | None) -> np.ndarray:
    """16 kHz mono float32 samples of a file (core.audio's checks and limits) or of samples given as
    such; an InputError for no audio or silence."""
    if audio is None or (isinstance(audio, str) and not audio.strip()):
        raise InputError("No audio received: upload a file (WAV, FLAC, MP3, OGG or M4A) or record with the microphone.")
    samples = (np.asarray(audio, dtype=np.float32).reshape(-1) if isinstance(audio, np.ndarray)
               else audio_input.load(audio, RATE))
    audio_input.check_not_silent(samples)
    return samples


ENVELOPE_S = 0.05  # one peak per 50 ms for the waveform plot


@dataclass(frozen=True)
class Progress:
    """Where a transcription stands: `done` of `total` chunks, and the segments so far. The first one
    also carries the audio's envelope (peak level per ENVELOPE_S) for a waveform plot."""

    done: int
    total: int
    segments: list[dict]
    audio_s: float
    envelope: np.ndarray | None = None


def envelope(samples: np.ndarray, step_s: float = ENVELOPE_S) -> np.ndarray:
    """The peak absolute level of every `step_s` of `samples` (16 kHz)."""
    step = max(1, int(step_s * RATE))
    n = len(samples) // step * step
    peaks = np.abs(samples[:n]).reshape(-1, step).max(axis=1) if n else np.zeros(0, np.float32)
    if n < len(samples):
        peaks = np.append(peaks, np.abs(samples[n:]).max())
    return peaks.astype(np.float32)


def transcribe_iter(audio: str | Path | np.ndarray | None, engine: str = "whisper",
                    run: Runner | None = None) -> Iterator[Progress | dict]:
    """Yield a Progress before the first chunk and after each one, then the /transcribe JSON."""
    started = time.perf_counter()
    variant = checked_engine(engine)
    run = run or in_process
    samples = read_audio(audio)
    duration = len(samples) / RATE
    decoded = time.perf_counter()
    plan = run(variant, "plan", samples)
    chunks, vad_s = plan["chunks"], plan["seconds"]
    segments: list[dict] = []
    compute_s, language = 0.0, "en"
    yield Progress(0, len(chunks), [], duration, envelope(samples))
    for i, chunk in enumerate(chunks):
        result = run(variant, "recognise", samples[chunk.start:chunk.end])
        compute_s += result["seconds"]
        language = result.get("language") or language
        segments += chunking.place(result, chunk)
        yield Progress(i + 1, len(chunks), list(segments), duration)
    done = time.perf_counter()
    notes = [] if segments else ["No speech was found in this audio (only noise, music or very quiet speech?)."]
    yield {
        "text": " ".join(s["text"] for s in segments).strip(),
        "segments": segments,
        "language": language,
        "engine": variant,
        "engine_name": ENGINE_NAMES[variant],
        "duration_s": round(duration, 3),
        "speech_s": round(sum((c.end - c.start) for c in chunks) / RATE, 3),
        "chunks": [{"start": round(c.start / RATE, 3), "end": round(c.end / RATE, 3)} for c in chunks],
        "real_time_factor": round((vad_s + compute_s) / duration, 4),
        "timings_ms": {"decode_audio": round((decoded - started) * 1000, 1), "vad": round(vad_s * 1000, 1),
                       "recognition": round(compute_s * 1000, 1), "model": round((vad_s + compute_s) * 1000, 1),
                       "wall": round((done - started) * 1000, 1)},
        "latency_ms": round((done - started) * 1000, 1),
        "notes": notes,
        "model": f"{TASK}/{variant}",
        "variant": variant,
    }


def transcribe(audio: str | Path | np.ndarray | None, engine: str = "whisper", run: Runner | None = None) -> dict:
    """The /transcribe JSON: text, segments [{start, end, text, words}], language, engine, duration_s,
    real_time_factor (the model's time, VAD and recognition, / audio duration; waiting for a busy
    worker is not in it, the wall time is in timings_ms), timings."""
    for step in transcribe_iter(audio, engine, run):
        result = step
    return result  # type: ignore[return-value]
