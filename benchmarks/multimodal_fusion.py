"""Speed of the fusion model on this machine (CPU): milliseconds per request for each kind of input
(picture, text, speech, all three; every request includes its explanations), one request alone and
eight at once (threads sharing one model, as a worker process would if it served several), and a
check that concurrent requests get exactly the answers they get alone.

    python benchmarks/multimodal_fusion.py
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.settings import apply_offline_defaults  # noqa: E402

apply_offline_defaults()

from core.registry import EXAMPLES_DIR, get_model  # noqa: E402

FOLDER = EXAMPLES_DIR / "multimodal_fusion"
EXAMPLE = next(e for e in json.loads((FOLDER / "examples.json").read_text()) if len(e["inputs"]) == 3)
PICTURE, TEXT, SPEECH = str(FOLDER / EXAMPLE["image"]), EXAMPLE["text"], str(FOLDER / EXAMPLE["audio"])
KINDS = {"picture": (PICTURE, None, None), "text": (None, "a slice of pizza with cheese", None),
         "speech": (None, None, SPEECH), "all three": (PICTURE, TEXT, SPEECH)}


def answers(result: dict) -> tuple:
    """What must not change under concurrency: probabilities, weights, ablation and explanations."""
    return (tuple((p["label"], p["score"]) for p in result["predictions"]), tuple(result["modality_weights"].items()),
            json.dumps(result["ablation"], sort_keys=True), json.dumps(result["explanations"], sort_keys=True))


def main() -> None:
    import torch

    torch.set_num_threads(1)  # as the app's workers serve
    model = get_model("multimodal_fusion")
    model.warm()
    print(f"{'inputs':10s} {'alone ms':>9s} {'8 at once: ms per request':>26s} {'same answers':>13s}")
    for name, args in KINDS.items():
        model.fuse(*args)  # warm-up
        alone = []
        for _ in range(7):
            started = time.perf_counter()
            model.fuse(*args)
            alone.append((time.perf_counter() - started) * 1000)
        expected = answers(model.fuse(*args))
        started = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda _: model.fuse(*args), range(16)))
        per_request = (time.perf_counter() - started) * 1000 / len(results)
        same = all(answers(r) == expected for r in results)
        print(f"{name:10s} {statistics.median(alone):9.1f} {per_request:26.1f} {str(same):>13s}")


if __name__ == "__main__":
    main()
