"""Real acted emotional speech from a local folder: RAVDESS, CREMA-D and TESS, recognised by their
file names (any folder layout, any mix of the three), mapped onto the five emotions, split by speaker.

    python -m core.train speech_emotion_recognition --data ~/datasets/emotion

| data set | file name | emotion field | speaker | kept | mapped / dropped |
|---|---|---|---|---|---|
| RAVDESS | `03-01-05-01-02-01-12.wav` | 3rd field: 01 neutral, 02 calm, 03 happy, 04 sad, 05 angry, 06 fearful, 07 disgust, 08 surprised | last field (actor 01-24) | speech only (2nd field 01; 02 = song dropped) | calm -> neutral (both low-arousal, unmarked); disgust, surprised dropped |
| CREMA-D | `1001_DFA_ANG_XX.wav` | 3rd field: ANG, DIS, FEA, HAP, NEU, SAD | 1st field (actor 1001-1091) | all | disgust dropped |
| TESS | `OAF_back_angry.wav` (in folders such as `OAF_angry/`) | last field: angry, disgust, fear, happy, neutral, ps, sad | 1st field (OAF, YAF: two speakers) | all | fear -> fearful; disgust, ps (pleasant surprise) dropped |

These data sets are not redistributed here (their licences are CC BY-NC-SA 4.0 for RAVDESS, Open
Database License for CREMA-D, CC BY-NC-ND 4.0 for TESS); download them yourself.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg"}
RAVDESS = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")
CREMA_D = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2}|X)$")
TESS = re.compile(r"^(OAF|YAF|OA|YA)_([A-Za-z]+)_([A-Za-z]+)$", re.IGNORECASE)  # a few TESS files say "OA_"

RAVDESS_EMOTIONS = {"01": "neutral", "02": "neutral", "03": "happy", "04": "sad", "05": "angry", "06": "fearful"}
CREMA_D_EMOTIONS = {"NEU": "neutral", "HAP": "happy", "SAD": "sad", "ANG": "angry", "FEA": "fearful"}
TESS_EMOTIONS = {"neutral": "neutral", "happy": "happy", "sad": "sad", "angry": "angry", "fear": "fearful"}
SPLIT_SEED = 0


@dataclass(frozen=True)
class RealClip:
    """One recording of a real data set."""

    path: Path
    emotion: str
    speaker: str   # "<dataset>:<actor>", unique across data sets
    dataset: str   # "ravdess", "crema-d" or "tess"
    original: str  # the data set's own emotion name

    def as_meta(self, root: Path) -> dict:
        try:
            name = str(self.path.relative_to(root))
        except ValueError:
            name = self.path.name
        return {"emotion": self.emotion, "speaker": self.speaker, "voice": self.speaker, "dataset": self.dataset,
                "original_emotion": self.original, "file": name, "path": str(self.path)}


def parse(path: Path) -> RealClip | None:
    """The clip a file name describes, or None when it is not one of the three naming schemes or its
    emotion is not one of ours (e.g. disgust) or it is a RAVDESS song."""
    stem = path.stem
    if match := RAVDESS.match(stem):
        _, channel, emotion, _, _, _, actor = match.groups()
        if channel != "01" or emotion not in RAVDESS_EMOTIONS:
            return None
        original = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad", "05": "angry", "06": "fearful"}[emotion]
        return RealClip(path, RAVDESS_EMOTIONS[emotion], f"ravdess:{actor}", "ravdess", original)
    if match := CREMA_D.match(stem):
        actor, _, emotion, _ = match.groups()
        if emotion not in CREMA_D_EMOTIONS:
            return None
        return RealClip(path, CREMA_D_EMOTIONS[emotion], f"crema-d:{actor}", "crema-d", emotion)
    if match := TESS.match(stem):
        speaker, _, emotion = match.groups()
        emotion = emotion.lower()
        if emotion not in TESS_EMOTIONS:
            return None
        return RealClip(path, TESS_EMOTIONS[emotion], f"tess:{speaker.upper()[:2]}F", "tess", emotion)
    return None


def find_clips(folder: Path) -> list[RealClip]:
    """Every recognised clip under `folder` (recursively), sorted by path; a clear error when none is."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder: pass the folder holding RAVDESS, CREMA-D or TESS files.")
    clips = [clip for path in sorted(folder.rglob("*")) if path.suffix.lower() in AUDIO_SUFFIXES and path.is_file()
             for clip in [parse(path)] if clip is not None]
    if not clips:
        raise FileNotFoundError(f"No RAVDESS, CREMA-D or TESS file names found under {folder} (e.g. "
                                "03-01-05-01-02-01-12.wav, 1001_DFA_ANG_XX.wav, OAF_back_angry.wav).")
    return clips


def split_by_speaker(clips: list[RealClip], validation: float = 0.15, test: float = 0.15,
                     seed: int = SPLIT_SEED) -> dict[str, list[RealClip]]:
    """{"train", "validation", "test"}: whole speakers per split, drawn per data set so each data set
    is in every split where it has enough speakers (at least 3). A data set with 2 speakers (TESS) gives
    one to test and one to training; the validation voices then come from the other data sets."""
    speakers: dict[str, list[str]] = {}
    for clip in clips:
        names = speakers.setdefault(clip.dataset, [])
        if clip.speaker not in names:
            names.append(clip.speaker)
    where: dict[str, str] = {}
    rng = np.random.default_rng(seed)
    for dataset in sorted(speakers):
        names = sorted(speakers[dataset])
        names = [names[i] for i in rng.permutation(len(names))]
        n = len(names)
        n_test = max(1, round(n * test)) if n >= 2 else 0
        n_val = max(1, round(n * validation)) if n >= 3 else 0
        for i, name in enumerate(names):
            where[name] = "test" if i < n_test else "validation" if i < n_test + n_val else "train"
    out: dict[str, list[RealClip]] = {"train": [], "validation": [], "test": []}
    for clip in clips:
        out[where[clip.speaker]].append(clip)
    empty = [name for name, part in out.items() if not part]
    if empty:
        raise ValueError(f"Not enough speakers for a speaker-independent split ({', '.join(empty)} would be empty): "
                         "at least 3 speakers are needed; add another data set.")
    return out
