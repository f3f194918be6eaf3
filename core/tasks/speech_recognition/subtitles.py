"""Subtitles from timed segments: SubRip (.srt) and WebVTT (.vtt).

One cue per segment, its text wrapped at LINE_CHARS characters; a segment too long for two lines
is split into several cues at word boundaries, timed by its words where the engine gave them
(else in proportion to their characters).
"""
from __future__ import annotations

import textwrap

LINE_CHARS = 42   # the usual maximum line length of subtitles
MAX_LINES = 2


def timestamp(seconds: float, separator: str = ",") -> str:
    """01:02:03,456 (SRT) or 01:02:03.456 (VTT, separator ".")."""
    millis = max(0, int(round(seconds * 1000)))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _split(segment: dict) -> list[tuple[float, float, str]]:
    """A segment as (start, end, text) cues that fit MAX_LINES lines of LINE_CHARS."""
    text = " ".join(segment["text"].split())
    lines = textwrap.wrap(text, LINE_CHARS)
    if len(lines) <= MAX_LINES:
        return [(segment["start"], segment["end"], "\n".join(lines))] if text else []
    pieces = [" ".join(lines[i:i + MAX_LINES]) for i in range(0, len(lines), MAX_LINES)]
    words = segment.get("words") or []
    cues, start, done = [], segment["start"], 0
    total = len(text)
    for piece in pieces:
        n_words = len(piece.split())
        if words and len(words) == len(text.split()):
            chunk = words[done:done + n_words]
            cue_start, cue_end = chunk[0]["start"], chunk[-1]["end"]
        else:
            share = (len(piece) + 1) / (total + 1)
            cue_start, cue_end = start, min(segment["end"], start + share * (segment["end"] - segment["start"]))
        cues.append((cue_start, cue_end, "\n".join(textwrap.wrap(piece, LINE_CHARS))))
        start, done = cue_end, done + n_words
    return cues


def cues(segments: list[dict]) -> list[tuple[float, float, str]]:
    """Every (start, end, text) cue of `segments`, in order."""
    return [cue for segment in segments for cue in _split(segment)]


def to_srt(segments: list[dict]) -> str:
    """SubRip: numbered cues, "HH:MM:SS,mmm --> HH:MM:SS,mmm", a blank line after each."""
    blocks = [f"{i}\n{timestamp(a)} --> {timestamp(b)}\n{text}\n" for i, (a, b, text) in enumerate(cues(segments), 1)]
    return "\n".join(blocks)


def to_vtt(segments: list[dict]) -> str:
    """WebVTT: the "WEBVTT" header, then cues timed "HH:MM:SS.mmm --> HH:MM:SS.mmm"."""
    blocks = [f"{timestamp(a, '.')} --> {timestamp(b, '.')}\n{text}\n" for a, b, text in cues(segments)]
    return "WEBVTT\n\n" + "\n".join(blocks)
