"""Write the example clips of task 07 (assets/examples/speech_emotion_recognition/), also the tests'
fixtures: one clip per emotion and a 15-second recording whose emotion changes, spoken by voices of
the test split (never heard in training) reading test sentences, without added noise or room.

    python scripts/make_examples_speech_emotion_recognition.py

Deterministic: the same files come out every time (eSpeak NG is reloaded for each utterance).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import soundfile  # noqa: E402

from core.registry import EXAMPLES_DIR  # noqa: E402
from core.tasks.speech_emotion_recognition.corpus import (EMOTIONS, ClipSpec, emotion_sequence, speech,  # noqa: E402
                                                          voice_split)
from core.tasks.speech_emotion_recognition.features import SAMPLE_RATE  # noqa: E402
from core.tasks.speech_emotion_recognition.sentences import load as load_sentences  # noqa: E402

FOLDER = EXAMPLES_DIR / "speech_emotion_recognition"
# (voice, accent, sentence index in the test sentences) per emotion: test voices of both genders
SINGLE = {"neutral": ("m2", "en-us", 3), "happy": ("f4", "en-gb-x-rp", 11), "sad": ("paul", "en", 25),
          "angry": ("adam", "en-us", 40), "fearful": ("Andrea", "en-029", 52)}
SEQUENCE = ("m7", "en-us", [60, 61, 62, 63, 64])
PAD_S = 0.3  # silence before and after the speech, as in a recording


def _padded(samples: np.ndarray) -> np.ndarray:
    pad = np.zeros(int(PAD_S * SAMPLE_RATE), np.float32)
    return np.concatenate([pad, samples / (np.abs(samples).max() or 1.0) * 0.7, pad]).astype(np.float32)


def main() -> None:
    test_voices = voice_split()["test"]
    sentences = load_sentences()["test"]
    FOLDER.mkdir(parents=True, exist_ok=True)
    manifest = []
    for emotion in EMOTIONS:
        voice, accent, k = SINGLE[emotion]
        assert voice in test_voices, voice
        spec = ClipSpec(index=k, split="example", emotion=emotion, voice=voice, accent=accent, sentence=sentences[k],
                        seed=1000 + k)
        samples = _padded(speech(spec)[0])
        path = FOLDER / f"{emotion}.wav"
        soundfile.write(path, samples, SAMPLE_RATE, subtype="PCM_16")
        manifest.append({"file": path.name, "emotion": emotion, "voice": voice, "accent": accent,
                         "sentence": spec.sentence, "seconds": round(len(samples) / SAMPLE_RATE, 2)})
    voice, accent, indices = SEQUENCE
    assert voice in test_voices, voice
    samples, segments = emotion_sequence(voice, accent, list(EMOTIONS), [sentences[i] for i in indices], seed=7)
    samples = _padded(samples)
    path = FOLDER / "emotion_changes.flac"
    soundfile.write(path, samples, SAMPLE_RATE, subtype="PCM_16")
    manifest.append({"file": path.name, "voice": voice, "accent": accent, "seconds": round(len(samples) / SAMPLE_RATE, 2),
                     "segments": [{**s, "start": round(s["start"] + PAD_S, 2), "end": round(s["end"] + PAD_S, 2)}
                                  for s in segments]})
    (FOLDER / "examples.json").write_text(json.dumps(manifest, indent=1) + "\n")
    for item in manifest:
        print(f"{item['file']:24s} {item['seconds']:5.2f} s  {item.get('emotion', 'sequence')}")


if __name__ == "__main__":
    main()
