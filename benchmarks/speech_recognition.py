"""Speed of the speech recognisers on this machine (CPU): real-time factor of each engine on a short
clip and on a long file, the cost of live transcription, and a check that concurrent requests get
exactly the answers they get alone (threads sharing one engine, and the app's worker pool).

    python benchmarks/speech_recognition.py [--long-seconds 120]

Real-time factor (RTF) = processing time / audio duration (lower is faster); "CPU" counts the
seconds of every thread of this process. The 1-minute load average is printed: figures taken on a
busy machine are slower than on a quiet one.
"""
from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.settings import apply_offline_defaults  # noqa: E402

apply_offline_defaults()

import numpy as np  # noqa: E402

from core.tasks.speech_recognition import live  # noqa: E402
from core.tasks.speech_recognition.adapter import in_process, read_audio, transcribe  # noqa: E402
from core.tasks.speech_recognition.examples import load_examples  # noqa: E402

ENGINES = ("whisper", "pocketsphinx")


def timed(fn, *args) -> tuple[object, float, float]:
    """fn(*args), its wall seconds and the CPU seconds of this process."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def long_audio(seconds: float) -> np.ndarray:
    """The example paragraph repeated (with 1 s pauses) to at least `seconds`."""
    paragraph = read_audio(load_examples()[0]["path"])
    pause = np.zeros(16_000, np.float32)
    copies = int(np.ceil(seconds / (len(paragraph) / 16_000 + 1)))
    return np.concatenate([part for _ in range(copies) for part in (paragraph, pause)])


def speed(long_seconds: float) -> None:
    clip = load_examples()[1]
    samples = long_audio(long_seconds)
    print(f"{'engine':13s} {'clip RTF':>9s} {'long RTF':>9s} {'long CPU/s':>11s} {'chunks':>7s}  "
          f"(clip {clip['file']}, long file {len(samples) / 16_000:.0f} s)")
    for engine in ENGINES:
        transcribe(clip["path"], engine)  # load and warm
        clip_result, clip_wall, _ = timed(transcribe, clip["path"], engine)
        long_result, long_wall, long_cpu = timed(transcribe, samples, engine)
        duration = long_result["duration_s"]
        print(f"{engine:13s} {clip_wall / clip_result['duration_s']:9.3f} {long_wall / duration:9.3f} "
              f"{long_cpu / duration:11.3f} {len(long_result['chunks']):7d}")


def live_cost() -> None:
    """The example paragraph streamed in 0.5 s pieces, each decode run at once: decode seconds per
    second of audio, and the longest snapshot read."""
    samples = read_audio(load_examples()[0]["path"])
    session = live.LiveSession(engine="whisper")
    started = time.perf_counter()
    for i in range(0, len(samples), 8_000):
        live.add_audio(session, samples[i:i + 8_000], in_process, submit=live.right_now)
    live.finish(session, in_process)
    audio = len(samples) / 16_000
    print(f"live whisper: {session.decodes} decodes, {session.decode_s / audio:.3f} s of decoding per second of audio, "
          f"longest read {session.longest_decode_s:.1f} s, {time.perf_counter() - started:.1f} s in all")


def same_answers(requests: int = 4) -> None:
    """Each engine: `requests` transcriptions at once (threads sharing one engine in this process, and
    through the app's worker pool) give exactly the text each gives alone."""
    from core.workers import close_all, run_heavy

    paths = [e["path"] for e in load_examples()]
    pool_runner = functools.partial(run_heavy, "speech_recognition")
    try:
        for engine in ENGINES:
            alone = [transcribe(p, engine)["text"] for p in paths]
            jobs = [paths[i % len(paths)] for i in range(requests * len(paths))]
            for name, runner in (("threads", in_process), ("worker pool", pool_runner)):
                started = time.perf_counter()
                with ThreadPoolExecutor(requests) as threads:
                    texts = list(threads.map(lambda p: transcribe(p, engine, runner)["text"], jobs))
                same = all(text == alone[i % len(paths)] for i, text in enumerate(texts))
                print(f"{engine:13s} {len(jobs)} requests, {requests} at once ({name}): "
                      f"{time.perf_counter() - started:5.1f} s, same answers as alone: {same}")
    finally:
        close_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--long-seconds", type=float, default=120.0)
    args = parser.parse_args()
    print(f"{len(os.sched_getaffinity(0))} cores; 1-minute load average {os.getloadavg()[0]:.2f}")
    speed(args.long_seconds)
    live_cost()
    same_answers()


if __name__ == "__main__":
    main()
