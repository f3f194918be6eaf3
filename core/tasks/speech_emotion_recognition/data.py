"""The training data as feature arrays, computed once and kept in data/speech_emotion_recognition/
(git-ignored): for each split, the log-mel windows (the CNN's input), the baseline's statistics,
the labels, which recording (clip or file) each window came from, and per-recording metadata.

Two sources: the synthetic corpus (corpus.py, the default), or a folder of real acted speech
(RAVDESS, CREMA-D, TESS; real_datasets.py). Both go through `features.analysis_windows`, as the
app does, so the models are trained and evaluated on exactly what they are served.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from core.errors import InputError
from core.settings import REPO_ROOT
from core.tasks.speech_emotion_recognition.corpus import EMOTIONS
from core.tasks.speech_emotion_recognition.features import N_MELS, FRAMES, STAT_NAMES, analysis_windows, log_mel, \
    prosodic_stats

DATA_DIR = REPO_ROOT / "data" / "speech_emotion_recognition"
SPLITS = ("train", "validation", "test")


@dataclass
class Split:
    """One split's arrays: window i comes from recording groups[i], whose metadata is meta[groups[i]]."""

    mel: np.ndarray      # (n, N_MELS, FRAMES) float16
    stats: np.ndarray    # (n, len(STAT_NAMES)) float32
    labels: np.ndarray   # (n,) int64, index into EMOTIONS
    groups: np.ndarray   # (n,) int64, index into meta
    meta: list[dict]     # per recording: emotion, voice/speaker, ... (JSON)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def recording_labels(self) -> np.ndarray:
        return np.array([EMOTIONS.index(m["emotion"]) for m in self.meta])


def save_split(split: Split, folder: Path, name: str) -> None:
    """`name`.npz (arrays, no pickle) and `name`.json (metadata) in `folder`, written atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    staging = folder / f".{name}.staging.npz"
    np.savez(staging, mel=split.mel, stats=split.stats, labels=split.labels, groups=split.groups)
    (folder / f"{name}.json").write_text(json.dumps(split.meta))
    staging.replace(folder / f"{name}.npz")


def load_split(folder: Path, name: str) -> Split:
    with np.load(folder / f"{name}.npz", allow_pickle=False) as arrays:
        parts = {key: arrays[key] for key in ("mel", "stats", "labels", "groups")}
    return Split(**parts, meta=json.loads((folder / f"{name}.json").read_text()))


def featurise(recordings: Iterable[tuple[np.ndarray, dict]], log: logging.Logger | None = None,
              total: int | None = None, what: str = "recordings") -> Split:
    """Split arrays from (samples at SAMPLE_RATE, metadata with "emotion") pairs: every analysis window
    of every recording."""
    mels, stats, labels, groups, meta = [], [], [], [], []
    started = time.time()
    for k, (samples, info) in enumerate(recordings):
        chunk = analysis_windows(samples)
        windows = np.stack([w for _, _, w in chunk])
        mels.append(log_mel(windows).astype(np.float16))
        stats.append(np.stack([prosodic_stats(w) for w in windows]))
        labels += [EMOTIONS.index(info["emotion"])] * len(chunk)
        groups += [len(meta)] * len(chunk)
        meta.append(info)
        if log and (k + 1) % 500 == 0:
            log.info("  %d/%s %s featurised (%.1f min)", k + 1, total or "?", what, (time.time() - started) / 60)
    return Split(mel=np.concatenate(mels) if mels else np.zeros((0, N_MELS, FRAMES), np.float16),
                 stats=np.concatenate(stats) if stats else np.zeros((0, len(STAT_NAMES)), np.float32),
                 labels=np.array(labels, np.int64), groups=np.array(groups, np.int64), meta=meta)


def synthetic_splits(sizes: dict[str, int], folder: Path, log: logging.Logger, seed: int = 0) -> dict[str, Split]:
    """The synthetic corpus's splits, generated on first use (a finished split is kept and reused)."""
    from core.tasks.speech_emotion_recognition.corpus import plan, render

    out = {}
    for name in SPLITS:
        if (folder / f"{name}.npz").exists():
            out[name] = load_split(folder, name)
            continue
        specs = plan(name, sizes[name], seed)
        log.info("synthesising %d %s clips into %s", len(specs), name, folder)
        out[name] = featurise((render(spec) for spec in specs), log, len(specs), f"{name} clips")
        save_split(out[name], folder, name)
    return out


def real_splits(data_dir: Path, folder: Path, log: logging.Logger,
                loader: Callable[[Path], np.ndarray] | None = None) -> dict[str, Split]:
    """Splits of a folder of RAVDESS / CREMA-D / TESS files, by speaker (real_datasets.py), featurised
    once into `folder`."""
    from core.audio import load
    from core.tasks.speech_emotion_recognition.features import SAMPLE_RATE
    from core.tasks.speech_emotion_recognition.real_datasets import find_clips, split_by_speaker

    loader = loader or (lambda path: load(path, SAMPLE_RATE))
    parts = split_by_speaker(find_clips(data_dir))

    def readable(clips: list) -> Iterable[tuple[np.ndarray, dict]]:
        for clip in clips:  # one broken file is reported and skipped, not the end of a long run
            try:
                samples = loader(clip.path)
            except InputError as exc:
                log.warning("skipped %s: %s", clip.path, exc)
                continue
            yield samples, clip.as_meta(data_dir)

    out = {}
    for name in SPLITS:
        if (folder / f"{name}.npz").exists():
            out[name] = load_split(folder, name)
            continue
        clips = parts[name]
        log.info("reading %d %s files of %s", len(clips), name, data_dir)
        out[name] = featurise(readable(clips), log, len(clips), f"{name} files")
        save_split(out[name], folder, name)
    return out
