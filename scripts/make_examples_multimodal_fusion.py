"""Write the examples of task 12 (assets/examples/multimodal_fusion/), also the tests' fixtures: test
emoji (never seen in training, in any modality) as a picture (64 px PNG), a text, and a spoken
description by a test voice (clean WAV), in several combinations, one of them a hard case.

    python scripts/make_examples_multimodal_fusion.py    # needs the npm data (core.tasks.multimodal_fusion.data.fetch)

Deterministic: the same files come out every time (eSpeak NG is reloaded for each utterance).
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import soundfile  # noqa: E402

from core.registry import EXAMPLES_DIR  # noqa: E402
from core.tasks.multimodal_fusion import data  # noqa: E402
from core.tasks.multimodal_fusion.corpus import spoken_clip  # noqa: E402
from core.tasks.multimodal_fusion.encoders import SAMPLE_RATE  # noqa: E402
from core.tasks.speech_emotion_recognition.corpus import voice_split  # noqa: E402

FOLDER = EXAMPLES_DIR / "multimodal_fusion"
VOICE = ("en-us", "m2")  # a test voice of task 07's split
# (emoji label, which inputs, the text typed, the words spoken, caption)
EXAMPLES = [
    ("lion", "image+text+audio", "lion", "a lion", "🦁 all three agree"),
    ("cherries", "image+text", "two red cherries", None, "🍒 picture + text: the picture corrects the text"),
    ("crying face", "audio", None, "crying face", "😢 spoken only"),
    ("flag: Brazil", "image", None, None, "🇧🇷 picture only"),
    ("sparkling heart", "image+text+audio", "sparkling heart", "sparkling heart", "💖 a hard case (Unicode calls it a smiley)"),
    ("watermelon", "image+text", "a slice of watermelon", None, "🍉 a mistake: the picture outvotes the text"),
]


def main() -> None:
    items = {item.label: item for item in data.split(data.load_items())["test"]}
    assert VOICE[1] in voice_split()["test"], VOICE
    if FOLDER.exists():
        shutil.rmtree(FOLDER)
    FOLDER.mkdir(parents=True)
    manifest = []
    for label, inputs, typed, spoken, caption in EXAMPLES:
        item = items[label]  # a KeyError here: the emoji is not in the test split
        stem = item.code.lower()
        entry = {"label": item.label, "category": item.category, "caption": caption, "inputs": inputs.split("+")}
        if "image" in inputs:
            shutil.copyfile(data.image_folder() / item.images[0], FOLDER / f"{stem}.png")
            entry["image"] = f"{stem}.png"
        if "text" in inputs:
            entry["text"] = typed
        if "audio" in inputs:
            samples = spoken_clip(spoken, f"{VOICE[0]}+{VOICE[1]}", np.random.default_rng(len(manifest)), conditions=False)
            soundfile.write(FOLDER / f"{stem}.wav", samples / (np.abs(samples).max() or 1) * 0.7, SAMPLE_RATE, subtype="PCM_16")
            entry.update(audio=f"{stem}.wav", spoken=spoken)
        manifest.append(entry)
        print(entry)
    (FOLDER / "examples.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
