"""Speed of the text-generation model on this machine (CPU): tokens per second for each decoding
strategy, one request alone and four at once (threads sharing the one model, as the app does).

    python benchmarks/text_generation.py
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
from core.tasks.text_generation.adapter import STRATEGIES, Settings  # noqa: E402

PROMPT = "Call me Ishmael. Some years ago"
TOKENS = 60


def rate(model, settings: Settings) -> float:
    started = time.perf_counter()
    result = model.generate(PROMPT, settings)
    return result["token_count"] / (time.perf_counter() - started)


def main() -> None:
    model = get_model("text_generation")
    model.generate(PROMPT, Settings(max_new_tokens=10))  # warm-up
    print(f"{'strategy':22s} {'alone tok/s':>12s} {'4 at once, total tok/s':>24s}")
    for strategy in STRATEGIES:
        settings = Settings(strategy=strategy, max_new_tokens=TOKENS, seed=1)
        alone = statistics.median(rate(model, settings) for _ in range(3))
        started = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda _: model.generate(PROMPT, settings), range(4)))
        together = sum(r["token_count"] for r in results) / (time.perf_counter() - started)
        print(f"{strategy:22s} {alone:12.0f} {together:24.0f}")


if __name__ == "__main__":
    main()
