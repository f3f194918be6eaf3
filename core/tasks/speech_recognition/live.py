"""Live transcription of a microphone stream, one short piece of audio at a time.

A `LiveSession` (one per browser session, in a gr.State) holds the *tail*: the audio after the
last cut. Each piece is appended to it at once (a browser sends a piece every 0.1 to 1 s, and
Gradio keeps only the newest piece while the handler is busy, so the handler must never wait for a
decode). When DECODE_EVERY_S seconds of new audio have arrived and no decode is running, a
snapshot of the tail is decoded in the background (Whisper greedy, with word timings); its result
is applied when a later piece arrives.

Words become final by *local agreement* (Machacek et al., 2023, "Turning Whisper into Real-Time
Transcription System"): the open words on which two decodes in a row agree are final. Words that
end before the last final word (their middle, as the decode times them) are already final and
skipped, so a word cut in two by a cut is never written twice. Also final: everything, when the
snapshot ends in a pause of END_PAUSE_S; and words ending more than UNSURE_S before the end of a
snapshot longer than MAX_TAIL_S (decodes that keep disagreeing).

The tail is cut only inside final audio, at its quietest moment in the last CUT_WINDOW_S before the
last final word ends, once more than TRIM_AFTER_S of final audio has piled up: no speech that is
not yet final is ever dropped, and a decode reads about MAX_TAIL_S at most (plus the audio that
arrives during one decode). A session stops taking audio after MAX_AUDIO_SECONDS in all
(core.settings), and says so.
"""
from __future__ import annotations

import copy
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from typing import Any, Callable

import numpy as np

from core.audio import SILENCE_RMS
from core.errors import InputError
from core.settings import Settings
from core.workers import BusyError

RATE = 16_000
DECODE_EVERY_S = 1.5
MAX_TAIL_S = 15.0
MAX_TAIL_S_BY_ENGINE = {"pocketsphinx": 6.0}  # its reading changes with every word, so it rarely agrees
UNSURE_S = 2.0       # past MAX_TAIL_S, words in the snapshot's last UNSURE_S stay open
TRIM_AFTER_S = 3.0   # final audio kept at the start of the tail before it is cut
CUT_WINDOW_S = 0.6   # the cut is at the quietest 20 ms in this window before the final audio ends
FRAME_S = 0.02
END_PAUSE_S = 0.8
MIN_DECODE_S = 0.3
BACKGROUND_THREADS = 8  # live decodes waiting for the worker pool at once (each is one thread, blocked)

Submit = Callable[..., Future]
_background = ThreadPoolExecutor(max_workers=BACKGROUND_THREADS, thread_name_prefix="asr-live")
logger = logging.getLogger("ml_portfolio")


def in_background(fn: Callable[..., Any], *args: Any) -> Future:
    """Run fn(*args) on one of the live decoding threads."""
    return _background.submit(fn, *args)


def right_now(fn: Callable[..., Any], *args: Any) -> Future:
    """Run fn(*args) at once, in this thread (tests, notebooks, the end of a recording)."""
    future: Future = Future()
    try:
        future.set_result(fn(*args))
    except Exception as exc:  # noqa: BLE001 - handed to whoever reads the future
        future.set_exception(exc)
    return future


@dataclass
class LiveSession:
    """One microphone session: final segments (session time), the open tail and what it reads as."""

    engine: str = "whisper"
    tail: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    tail_start_s: float = 0.0
    received_s: float = 0.0
    pending_s: float = 0.0
    final: list[dict] = field(default_factory=list)
    partial: str = ""
    previous: list[dict] = field(default_factory=list)  # the open words of the last decode (tail time)
    final_until_s: float = 0.0  # where the last final word ends (tail time)
    decodes: int = 0
    decode_s: float = 0.0
    longest_decode_s: float = 0.0  # the longest snapshot read, in seconds of audio
    busy_skips: int = 0
    stopped: str | None = None
    note: str | None = None
    job: Future | None = None    # the running decode of the tail's first `job_samples` samples
    job_samples: int = 0

    @property
    def text(self) -> str:
        """The transcript so far: final segments, then the open tail's latest reading."""
        return " ".join([s["text"] for s in self.final] + ([self.partial] if self.partial else [])).strip()

    def __deepcopy__(self, memo: dict) -> "LiveSession":
        """A copy without the running decode (a Future cannot be copied; Gradio may copy states)."""
        values = {f.name: copy.deepcopy(getattr(self, f.name), memo) for f in fields(self) if f.name != "job"}
        return LiveSession(**{**values, "job_samples": 0})


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0


def ends_in_pause(tail: np.ndarray) -> bool:
    """True when the last END_PAUSE_S of `tail` is quiet: near silence, or a tenth of the tail's level."""
    n = int(END_PAUSE_S * RATE)
    if tail.size < 2 * n:
        return False
    return _rms(tail[-n:]) < max(SILENCE_RMS, 0.1 * _rms(tail[:-n]))


def _cut(session: LiveSession, cut_s: float) -> float:
    """Drop the tail's first `cut_s` seconds (final audio); returns the seconds dropped."""
    cut = min(session.tail.size, max(0, int(round(cut_s * RATE))))
    session.tail = session.tail[cut:]
    session.tail_start_s += cut / RATE
    return cut / RATE


def _key(word: dict) -> str:
    from core.tasks.speech_recognition.normalise import normalise

    return normalise(word["word"])


def agreed(previous: list[dict], current: list[dict]) -> int:
    """How many words at the start of `current` the previous decode read the same (case and
    punctuation aside)."""
    n = 0
    for a, b in zip(previous, current):
        if _key(a) != _key(b):
            break
        n += 1
    return n


def quietest(tail: np.ndarray, start_s: float, end_s: float) -> float:
    """The start (seconds) of the quietest FRAME_S-long frame of `tail` between `start_s` and `end_s`."""
    frame = int(FRAME_S * RATE)
    a, b = max(0, int(start_s * RATE)), min(tail.size, int(end_s * RATE))
    if b - a < frame:
        return max(0.0, start_s)
    n = (b - a) // frame
    levels = np.square(tail[a:a + n * frame], dtype=np.float64).reshape(n, frame).mean(axis=1)
    return (a + int(np.argmin(levels)) * frame) / RATE


def _shift(session: LiveSession, cut_s: float) -> None:
    """Cut the tail's first `cut_s` seconds and move the open words and the final mark with it."""
    cut_s = _cut(session, cut_s)
    session.final_until_s = max(0.0, session.final_until_s - cut_s)
    session.previous = [{**w, "start": w["start"] - cut_s, "end": w["end"] - cut_s} for w in session.previous]


def apply(session: LiveSession, result: dict, samples: int, final: bool = False) -> None:
    """Apply a decode of the tail's first `samples` samples: make final what two decodes agree on
    (everything when `final` or after a pause), keep the rest open, cut final audio from the tail."""
    snapshot_s = samples / RATE
    session.decodes += 1
    session.decode_s += result.get("seconds", 0.0)
    session.longest_decode_s = max(session.longest_decode_s, snapshot_s)
    words = [w for s in result["segments"] for w in s.get("words") or []
             if w["word"].strip() and (w["start"] + w["end"]) / 2 > session.final_until_s]
    everything = final or ends_in_pause(session.tail[:samples])
    n = len(words) if everything else agreed(session.previous, words)
    if not everything and snapshot_s > MAX_TAIL_S_BY_ENGINE.get(session.engine, MAX_TAIL_S):
        n = max(n, sum(1 for w in words if w["end"] <= snapshot_s - UNSURE_S))
    done, rest = words[:n], words[n:]
    if done:
        session.final.append({"start": round(session.tail_start_s + done[0]["start"], 3),
                              "end": round(session.tail_start_s + done[-1]["end"], 3),
                              "text": "".join(w["word"] for w in done).strip()})
        session.final_until_s = max(session.final_until_s, done[-1]["end"])
    session.previous = [] if everything else rest
    session.partial = "".join(w["word"] for w in session.previous).strip()
    if everything:
        _cut(session, snapshot_s)
        session.final_until_s = 0.0
    elif session.final_until_s > TRIM_AFTER_S:
        _shift(session, quietest(session.tail, session.final_until_s - CUT_WINDOW_S, session.final_until_s))


def collect(session: LiveSession, wait: bool = False) -> None:
    """Apply the background decode if it has finished (or, with `wait`, once it finishes). A busy
    worker pool or a failed decode loses nothing: the audio stays in the tail for the next one."""
    job = session.job
    if job is None or not (wait or job.done()):
        return
    session.job = None
    try:
        apply(session, job.result(), session.job_samples)
    except BusyError:
        session.busy_skips += 1
    except InputError as exc:  # e.g. over the time budget
        session.note = str(exc)
    except Exception as exc:  # noqa: BLE001 - a live session keeps listening
        logger.warning("A live decode failed: %s", exc)
        session.note = "One decode failed; the audio is read again with the next one."


def start_decode(session: LiveSession, run, submit: Submit) -> None:
    """Decode a snapshot of the tail with `run(engine, "recognise", samples, True)` via `submit`;
    a silent tail is not sent (Whisper would invent words) and all but its last 0.5 s is dropped."""
    session.pending_s = 0.0
    tail_s = session.tail.size / RATE
    if tail_s < MIN_DECODE_S:
        return
    if _rms(session.tail) < SILENCE_RMS:
        session.partial, session.previous = "", []
        _cut(session, max(0.0, tail_s - 0.5))
        return
    session.job_samples = session.tail.size
    session.job = submit(run, session.engine, "recognise", session.tail.copy(), True)


def add_audio(session: LiveSession, samples: np.ndarray, run, max_seconds: float | None = None,
              submit: Submit = in_background) -> LiveSession:
    """Append a piece (16 kHz mono float32), apply a finished decode, and start the next one when
    DECODE_EVERY_S of new audio has arrived. Past `max_seconds` (MAX_AUDIO_SECONDS) in all, the audio
    is not kept: the session is finished and says so."""
    max_seconds = Settings.from_env().max_audio_seconds if max_seconds is None else max_seconds
    if session.stopped:
        return session
    seconds = samples.size / RATE
    if session.received_s + seconds > max_seconds:
        session.stopped = (f"Stopped listening after {max_seconds / 60:g} minutes (MAX_AUDIO_SECONDS): stop the "
                           "recording, and start a new one to go on.")
        return finish(session, run)
    session.tail = np.concatenate([session.tail, np.asarray(samples, dtype=np.float32)])
    session.received_s += seconds
    session.pending_s += seconds
    collect(session)
    if session.job is None and session.pending_s >= DECODE_EVERY_S:
        start_decode(session, run, submit)
        collect(session)  # at once when `submit` ran it in this thread
    return session


def finish(session: LiveSession, run) -> LiveSession:
    """The recording stopped: wait for a running decode, then decode what is left of the tail (with
    beam search, as a file is) and make everything final."""
    collect(session, wait=True)
    if session.tail.size / RATE >= MIN_DECODE_S and _rms(session.tail) >= SILENCE_RMS:
        try:
            result = run(session.engine, "recognise", session.tail, False)  # once: beam search
            apply(session, result, session.tail.size, final=True)
        except BusyError:
            session.note = "The server was busy: the last words were not transcribed."
    session.tail = session.tail[:0]
    session.partial, session.previous = "", []
    return session
