"""Latency of each translation engine on this machine (CPU): one request alone and four at once
(threads sharing the one neural model, and four Apertium subprocesses, as the app does). Each
request is what /translate does: detection, translation and back-translation.

    python benchmarks/machine_translation.py
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

from core.registry import get_model  # noqa: E402
from core.tasks.machine_translation.adapter import translate  # noqa: E402

SENTENCE = "The committee will meet again next week to discuss the new budget."
PARAGRAPH = " ".join([SENTENCE, "Call me Ishmael.", "The whale swam slowly towards the ship, and the sailors watched.",
                      "Our country has never been stronger, and the work is far from done."] * 2)
CASES = [("apertium", "en", "es", SENTENCE), ("apertium", "en", "pt", SENTENCE), ("neural", "en", "es", SENTENCE),
         ("apertium", "en", "es", PARAGRAPH), ("neural", "en", "es", PARAGRAPH)]


def engines(variant: str):
    return get_model("machine_translation", variant)


def once(engine: str, source: str, target: str, text: str) -> float:
    started = time.perf_counter()
    translate(text, source, target, engine, engines)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    import torch

    from core.settings import Settings

    torch.set_num_threads(Settings.from_env().torch_threads or 1)  # as the app serves (app.launch)
    print(f"{'engine':10s} {'pair':8s} {'words':>5s} {'alone ms (median)':>18s} {'4 at once, ms until all done':>29s}")
    for engine, source, target, text in CASES:
        if engine == "apertium" and not engines("apertium").available:
            print(f"{engine:10s} {source}-{target:5s} Apertium is not installed")
            continue
        once(engine, source, target, text)  # warm-up (model loading)
        alone = statistics.median(once(engine, source, target, text) for _ in range(5))
        started = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda _: once(engine, source, target, text), range(4)))
        together = (time.perf_counter() - started) * 1000
        print(f"{engine:10s} {source}-{target:5s} {len(text.split()):5d} {alone:18.0f} {together:29.0f}")


if __name__ == "__main__":
    main()
