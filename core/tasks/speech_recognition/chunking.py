"""Cutting long audio into chunks a recogniser reads at once, and putting their results back together.

1. `speech_regions`: where someone speaks, by the Silero VAD that ships inside the faster-whisper
   wheel (an ONNX file, no download).
2. `plan_chunks`: neighbouring regions are joined into chunks of at most MAX_CHUNK_S (Whisper reads
   30 s at a time), so chunks end in pauses and no word is cut. A region longer than that
   (speech without a pause) is cut into fixed windows that overlap by OVERLAP_S; each window
   *keeps* only the words whose middle falls in its own part of the overlap, so a word cut by
   one window is read whole by the next and counted once.
3. `place`: a chunk's segments and words, timed from the chunk's start, moved to the file's
   time line and filtered to the chunk's kept part.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RATE = 16_000
MAX_CHUNK_S = 29.0   # Whisper's window is 30 s
OVERLAP_S = 2.0      # between fixed windows inside one long region
MAX_GAP_S = 3.0      # a longer pause starts a new chunk (no long silence inside a chunk)
MIN_SILENCE_MS = 500  # VAD: a pause this long ends a speech region
SPEECH_PAD_MS = 300   # VAD: kept on each side of a region


@dataclass(frozen=True)
class Chunk:
    """Samples [start, end) of the file are read; results in [keep_start, keep_end) are kept."""

    start: int
    end: int
    keep_start: int
    keep_end: int

    @property
    def seconds(self) -> tuple[float, float]:
        return self.start / RATE, self.end / RATE


def speech_regions(samples: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) sample indices of speech in 16 kHz mono `samples` (Silero VAD of faster-whisper)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=MIN_SILENCE_MS, speech_pad_ms=SPEECH_PAD_MS)
    return [(int(r["start"]), int(r["end"])) for r in get_speech_timestamps(samples, options, sampling_rate=RATE)]


def windows(start: int, end: int, max_s: float | None = None, overlap_s: float | None = None) -> list[Chunk]:
    """Fixed, overlapping windows over [start, end); neighbours split their overlap in the middle."""
    size = int((MAX_CHUNK_S if max_s is None else max_s) * RATE)
    overlap = int((OVERLAP_S if overlap_s is None else overlap_s) * RATE)
    if end - start <= size:
        return [Chunk(start, end, start, end)]
    out: list[Chunk] = []
    a = start
    while True:
        b = min(a + size, end)
        last = b >= end
        out.append(Chunk(a, b, start if not out else a + overlap // 2, end if last else b - overlap // 2))
        if last:
            return out
        a += size - overlap


def plan_chunks(regions: list[tuple[int, int]], max_s: float | None = None, max_gap_s: float | None = None,
                overlap_s: float | None = None) -> list[Chunk]:
    """Chunks covering every speech region: regions joined while the chunk stays under `max_s`
    (MAX_CHUNK_S) and the pause before the next region is under `max_gap_s` (MAX_GAP_S); an
    over-long region as `windows` overlapping by `overlap_s` (OVERLAP_S)."""
    max_s = MAX_CHUNK_S if max_s is None else max_s
    size, gap = int(max_s * RATE), int((MAX_GAP_S if max_gap_s is None else max_gap_s) * RATE)
    chunks: list[Chunk] = []
    current: list[int] | None = None  # [start, end] of the chunk being built
    for start, end in sorted(regions):
        if current and end - current[0] <= size and start - current[1] <= gap:
            current[1] = max(current[1], end)
            continue
        if current:
            chunks.append(Chunk(current[0], current[1], current[0], current[1]))
            current = None
        if end - start > size:
            chunks += windows(start, end, max_s, overlap_s)
        else:
            current = [start, end]
    if current:
        chunks.append(Chunk(current[0], current[1], current[0], current[1]))
    return chunks


def _kept(start: float, end: float, keep: tuple[float, float]) -> bool:
    middle = (start + end) / 2
    return keep[0] <= middle < keep[1]


def place(result: dict, chunk: Chunk) -> list[dict]:
    """The chunk's segments ({start, end, text, words?}, seconds from the chunk's start) on the file's
    time line, keeping only what falls in the chunk's kept part. Where words were cut away, the
    segment's text and times are rebuilt from the words kept."""
    offset = chunk.start / RATE
    keep = (chunk.keep_start / RATE, chunk.keep_end / RATE)
    whole = chunk.keep_start == chunk.start and chunk.keep_end == chunk.end
    length = (chunk.end - chunk.start) / RATE
    out = []
    for segment in result["segments"]:
        start, end = offset + segment["start"], offset + min(segment["end"], length)
        words = [{**w, "start": round(offset + w["start"], 3), "end": round(offset + min(w["end"], length), 3)}
                 for w in segment.get("words") or []]
        if whole:
            kept_words, text = words, segment["text"]
        else:
            kept_words = [w for w in words if _kept(w["start"], w["end"], keep)]
            if words:
                if not kept_words:
                    continue
                text = "".join(w["word"] for w in kept_words).strip()
                start, end = kept_words[0]["start"], kept_words[-1]["end"]
            elif _kept(start, end, keep):
                text = segment["text"]
            else:
                continue
        placed = {"start": round(start, 3), "end": round(max(end, start), 3), "text": text.strip()}
        if segment.get("words") is not None:
            placed["words"] = kept_words
        out.append(placed)
    return out
