"""Inference adapter of task 07: which emotion a voice sounds like, for a whole clip and over time.

preprocess (`core.audio`: any format and rate -> 16 kHz mono, limits checked before decoding; the
silence before and after the speech trimmed; 3-second windows every second) -> forward (the CNN on
log-mel windows, or the baseline on MFCC / pitch / energy statistics) -> postprocess (the whole
clip is the mean of its windows' probabilities; each window is a point of the timeline; silent
windows are marked and left out). Requests only read the shared model (no_grad, eval mode).

Both variants learned acted prosody from a speech synthesiser (eSpeak NG); on real human voices
they are unreliable. `python -m core.train speech_emotion_recognition --data DIR` retrains them on
RAVDESS / CREMA-D / TESS recordings.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from core.audio import SILENCE_RMS, check_not_silent, load as load_audio
from core.errors import InputError
from core.tasks.speech_emotion_recognition.corpus import EMOTIONS
from core.tasks.speech_emotion_recognition.features import (HOP_SECONDS, SAMPLE_RATE, WINDOW_SECONDS,
                                                            analysis_windows, log_mel, stats_batch)

VARIANTS = ("cnn", "mfcc")
NAMES = {"cnn": "log-mel CNN", "mfcc": "MFCC / pitch / energy baseline (logistic regression)"}
MAX_WINDOWS = 240  # a longer recording gets a longer hop, so a 10-minute file stays within the time budget
BATCH = 32
SYNTHETIC_NOTE = ("The model learned acted prosody from a speech synthesiser (eSpeak NG voices): it is unreliable on "
                  "real human voices. Retrain on RAVDESS / CREMA-D / TESS with "
                  "`python -m core.train speech_emotion_recognition --data DIR`.")


def ranked(probabilities: np.ndarray) -> list[dict]:
    """[{label, score}] from the most to the least likely emotion."""
    order = np.argsort(-probabilities, kind="stable")
    return [{"label": EMOTIONS[i], "score": round(float(probabilities[i]), 4)} for i in order]


def thin(starts: list[tuple[float, float, np.ndarray]], limit: int = MAX_WINDOWS) -> list:
    """At most `limit` windows, evenly spaced (the first and the last kept), for very long recordings."""
    if len(starts) <= limit:
        return starts
    keep = np.unique(np.round(np.linspace(0, len(starts) - 1, limit)).astype(int))
    return [starts[i] for i in keep]


def envelope(samples: np.ndarray, points: int = 1500) -> dict:
    """The waveform for a plot: min and max of each of `points` stretches, with their times."""
    n = max(1, int(np.ceil(len(samples) / points)))
    padded = np.pad(samples, (0, (-len(samples)) % n))
    blocks = padded.reshape(-1, n)
    return {"t": (np.arange(len(blocks)) * n / SAMPLE_RATE).round(3), "min": blocks.min(1).round(4),
            "max": blocks.max(1).round(4)}


def spectrogram(samples: np.ndarray, columns: int = 900) -> dict:
    """A log-mel spectrogram of the whole recording for a plot (dB below its loudest bin), at most
    `columns` time steps (averaged power), with the mel bands' centre frequencies."""
    import librosa

    from core.tasks.speech_emotion_recognition.features import HOP_LENGTH, N_FFT, N_MELS, TOP_DB, mel_basis

    samples = samples[: 600 * SAMPLE_RATE]
    power = np.abs(librosa.stft(samples, n_fft=N_FFT, hop_length=HOP_LENGTH)) ** 2
    mel = mel_basis() @ power.astype(np.float32)
    step = max(1, int(np.ceil(mel.shape[1] / columns)))
    mel = np.pad(mel, ((0, 0), (0, (-mel.shape[1]) % step))).reshape(N_MELS, -1, step).mean(axis=2)
    db = 10 * np.log10(np.maximum(mel, 1e-10))
    db = np.maximum(db - db.max(), -TOP_DB)
    hz = librosa.mel_frequencies(n_mels=N_MELS + 2, fmax=SAMPLE_RATE / 2)[1:-1]
    return {"db": db.round(1), "t": (np.arange(db.shape[1]) * step * HOP_LENGTH / SAMPLE_RATE).round(3),
            "hz": hz.round(0)}


class EmotionRecognizer:
    """One variant, ready to serve."""

    def __init__(self, variant: str, model_dir: Path) -> None:
        self.variant = variant
        self.config = json.loads((model_dir / "config.json").read_text())
        if list(self.config["labels"]) != list(EMOTIONS):
            raise ValueError(f"{model_dir} was trained on {self.config['labels']}, expected {list(EMOTIONS)}")
        if variant == "cnn":
            import torch

            from core.tasks.speech_emotion_recognition.model import load

            self.model = load(model_dir)
            self._torch = torch
        else:
            from core.tasks.speech_emotion_recognition.baseline import LinearBaseline

            self.model = LinearBaseline(model_dir)

    # ------------------------------------------------------------------ forward
    def window_probabilities(self, windows: np.ndarray) -> np.ndarray:
        """(n, WINDOW_SAMPLES) windows -> (n, len(EMOTIONS)) probabilities."""
        windows = np.atleast_2d(np.asarray(windows, np.float32))
        out = []
        for start in range(0, len(windows), BATCH):
            chunk = windows[start:start + BATCH]
            out.append(self.feature_probabilities(log_mel(chunk) if self.variant == "cnn" else stats_batch(chunk)))
        return np.concatenate(out) if out else np.zeros((0, len(EMOTIONS)))

    def feature_probabilities(self, features: np.ndarray) -> np.ndarray:
        """Probabilities from precomputed features: log-mel windows (cnn) or statistics (mfcc). The
        evaluation scores the stored test features through this same function."""
        if self.variant == "mfcc":
            return self.model.probabilities(features)
        torch = self._torch
        with torch.no_grad():
            logits = self.model(torch.from_numpy(np.asarray(features, np.float32)))
            return torch.softmax(logits, -1).double().numpy()

    # ------------------------------------------------------------------ the request
    def recognize(self, audio: object, display: bool = False) -> dict:
        """The emotion of a recording (a file path) as a whole and per window: JSON-ready
        `predictions` [{label, score}] and `timeline` [{start, end, label, score, predictions}]; with
        `display`, also the waveform and spectrogram to draw (numpy arrays, not part of the API)."""
        started = time.perf_counter()
        if audio is None or (isinstance(audio, str) and not audio.strip()):
            raise InputError("No audio received: record with the microphone or upload an audio file.")
        if not isinstance(audio, (str, Path)):
            raise InputError("The audio must be a file (WAV, FLAC, MP3, OGG or M4A).")
        samples = load_audio(audio, SAMPLE_RATE)
        check_not_silent(samples, "recording")
        duration = len(samples) / SAMPLE_RATE
        windows = analysis_windows(samples)
        all_windows = len(windows)
        windows = thin(windows)
        loud = [float(np.sqrt(np.mean(np.square(w, dtype=np.float64)))) >= SILENCE_RMS for _, _, w in windows]
        voiced = [w for (_, _, w), ok in zip(windows, loud) if ok]
        if not voiced:
            raise InputError("The recording is silent: check the microphone, or upload a clip where someone speaks.")
        probabilities = iter(self.window_probabilities(np.stack(voiced)))
        timeline, kept = [], []
        for (start, end, _), ok in zip(windows, loud):
            entry = {"start": round(start, 2), "end": round(min(end, duration), 2)}
            if ok:
                p = next(probabilities)
                kept.append(p)
                best = int(np.argmax(p))
                entry.update(label=EMOTIONS[best], score=round(float(p[best]), 4), predictions=ranked(p), silent=False)
            else:
                entry.update(label=None, score=None, predictions=[], silent=True)
            timeline.append(entry)
        whole = np.mean(kept, axis=0)
        hop = (timeline[-1]["start"] - timeline[0]["start"]) / (len(timeline) - 1) if len(timeline) > 1 else HOP_SECONDS
        notes = [SYNTHETIC_NOTE] if self.config.get("synthetic", True) else []
        if all_windows > len(windows):
            notes.append(f"A long recording: {len(windows)} of its {all_windows} windows were analysed, evenly spaced.")
        result = {
            "model": self.variant,
            "model_name": NAMES[self.variant],
            "predictions": ranked(whole),
            "timeline": timeline,
            "duration_s": round(duration, 2),
            "speech_start_s": round(windows[0][0], 2),
            "speech_end_s": round(min(windows[-1][1], duration), 2),
            "window_s": WINDOW_SECONDS,
            "hop_s": round(hop, 2),
            "sample_rate": SAMPLE_RATE,
            "trained_on": self.config.get("trained_on", "synthetic acted prosody (eSpeak NG)"),
            "notes": notes,
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        }
        if display:
            result["display"] = {"waveform": envelope(samples), "spectrogram": spectrogram(samples)}
        return result

    def warm(self) -> None:
        """A first inference on a synthetic tone, and both kinds of features (sets up librosa's compiled
        functions and torch's lazy state, so neither model's first request pays for them)."""
        t = np.arange(int(WINDOW_SECONDS * SAMPLE_RATE)) / SAMPLE_RATE
        tone = (0.3 * np.sin(2 * np.pi * 150 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32)
        self.window_probabilities(tone[None])
        log_mel(tone[None])
        stats_batch(tone[None])
        analysis_windows(tone)


def load(variant: str, model_dir: Path) -> EmotionRecognizer:
    if variant not in VARIANTS:
        raise KeyError(f"Unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    return EmotionRecognizer(variant, Path(model_dir))
