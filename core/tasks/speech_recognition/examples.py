"""Write the tab's example clips (and the tests' fixtures) from Debian's pocketsphinx-testdata.

    .venv/bin/python -m core.tasks.speech_recognition.examples

Real read speech with its reference transcript, kept small (under 300 KB in all), in the formats
and layouts users upload, so the tests cover decoding and resampling too:

* austen_paragraph.mp3: the five LibriVox sentences of the package, one after another with short
  pauses (about 26 s, several segments), mono 16 kHz MP3 (the first-load example);
* austen_amiable.flac: one sentence, mono 16 kHz FLAC;
* cards_stereo_44k.ogg: a "cards" clip as stereo 44.1 kHz Ogg Vorbis (resampled and down-mixed on input).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from core.audio import resample
from core.registry import EXAMPLES_DIR

FOLDER = EXAMPLES_DIR / "speech_recognition"
PAUSE_S = 0.6
SOURCE = "Debian package pocketsphinx-testdata (/usr/share/pocketsphinx/test/data)"
LICENCE = "BSD-2-Clause (CMU Sphinx test data); the LibriVox recording of Sense and Sensibility is public domain"


def write(folder: Path = FOLDER) -> list[dict]:
    """Write the three clips and examples.json into `folder`; returns the examples."""
    import soundfile

    from core.tasks.speech_recognition.evaluate import pocketsphinx_sets

    sets = pocketsphinx_sets()
    if not sets.get("librivox"):
        raise SystemExit("Needs the Debian package pocketsphinx-testdata (apt-get install pocketsphinx-testdata).")
    folder.mkdir(parents=True, exist_ok=True)
    librivox, cards = sets["librivox"], sets["cards"]
    pause = np.zeros(int(PAUSE_S * 16_000), np.float32)
    paragraph = np.concatenate([part for clip in librivox for part in (soundfile.read(clip.path, dtype="float32")[0], pause)])
    soundfile.write(folder / "austen_paragraph.mp3", paragraph, 16_000, format="MP3", subtype="MPEG_LAYER_III",
                    compression_level=0.6)
    amiable = next(c for c in librivox if c.id.endswith("0930"))
    soundfile.write(folder / "austen_amiable.flac", soundfile.read(amiable.path, dtype="float32")[0], 16_000,
                    format="FLAC")
    card = next(c for c in cards if c.id == "005")
    mono = resample(soundfile.read(card.path, dtype="float32")[0], 16_000, 44_100)
    soundfile.write(folder / "cards_stereo_44k.ogg", np.stack([mono, 0.7 * mono], axis=1), 44_100, format="OGG",
                    subtype="VORBIS")
    examples = [
        {"file": "austen_paragraph.mp3", "reference": " ".join(c.reference for c in librivox),
         "description": "Five sentences of Sense and Sensibility (LibriVox), read by one man; mono 16 kHz MP3, ~26 s",
         "clips": [c.id for c in librivox]},
        {"file": "austen_amiable.flac", "reference": amiable.reference,
         "description": "One sentence of the same reading; mono 16 kHz FLAC", "clips": [amiable.id]},
        {"file": "cards_stereo_44k.ogg", "reference": card.reference,
         "description": "Playing cards read aloud (CMU 'cards' test set); stereo 44.1 kHz Ogg Vorbis", "clips": [card.id]},
    ]
    for example in examples:
        example.update(source=SOURCE, licence=LICENCE)
    (folder / "examples.json").write_text(json.dumps(examples, indent=1) + "\n")
    return examples


def load_examples(folder: Path = FOLDER) -> list[dict]:
    """The committed examples: file (absolute path), reference transcript, description, licence."""
    examples = json.loads((folder / "examples.json").read_text())
    return [{**e, "path": folder / e["file"]} for e in examples]


if __name__ == "__main__":
    for item in write():
        print(item["file"], (FOLDER / item["file"]).stat().st_size, "bytes")
