"""Speed of the emotion recognisers on this machine (CPU): milliseconds per request for each model on
the example clips (2-6 s) and on the 18-second clip that changes emotion, one request alone and
eight at once (threads sharing one model, as a worker process would if it served several), and a
check that concurrent requests get exactly the answers they get alone.

    python benchmarks/speech_emotion_recognition.py
"""
from __future__ import annotations

import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.settings import apply_offline_defaults  # noqa: E402

apply_offline_defaults()

from core.registry import EXAMPLES_DIR, get_model  # noqa: E402

FOLDER = EXAMPLES_DIR / "speech_emotion_recognition"
SHORT = [str(p) for p in sorted(FOLDER.glob("*.wav"))]
LONG = [str(FOLDER / "emotion_changes.flac")]


def answers(result: dict) -> tuple:
    """What must not change under concurrency: the whole-clip and every window's probabilities."""
    return (tuple((p["label"], p["score"]) for p in result["predictions"]),
            tuple((w["start"], w["label"], w["score"]) for w in result["timeline"]))


def main() -> None:
    import torch

    torch.set_num_threads(1)  # as the app serves
    print(f"{'model':6s} {'clips':6s} {'alone ms':>9s} {'8 at once: ms per request':>26s} {'same answers':>13s}")
    for variant in ("cnn", "mfcc"):
        model = get_model("speech_emotion_recognition", variant)
        model.warm()
        for name, paths in (("short", SHORT), ("18 s", LONG)):
            model.recognize(paths[0])  # warm-up
            alone = []
            for path in paths * (1 if len(paths) > 1 else 3):
                started = time.perf_counter()
                model.recognize(path)
                alone.append((time.perf_counter() - started) * 1000)
            expected = {path: answers(model.recognize(path)) for path in paths}
            jobs = paths * (16 // len(paths))
            started = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                results = list(pool.map(model.recognize, jobs))
            per_request = (time.perf_counter() - started) * 1000 / len(results)
            same = all(answers(r) == expected[path] for path, r in zip(jobs, results))
            print(f"{variant:6s} {name:6s} {statistics.median(alone):9.1f} {per_request:26.1f} {str(same):>13s}")


if __name__ == "__main__":
    main()
