"""Speed of the spam classifiers on this machine (CPU): milliseconds per e-mail for each model, with
and without word importance, one request alone and eight at once (threads sharing one model, as the
app does), and a check that concurrent requests get exactly the answers they get alone.

    python benchmarks/text_classification.py
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

TEXTS = [e["text"] for e in json.loads((EXAMPLES_DIR / "text_classification" / "examples.json").read_text())]


def main() -> None:
    print(f"{'model':8s} {'importance':>10s} {'alone ms':>9s} {'8 at once: ms per e-mail':>26s} {'same answers':>13s}")
    for variant in ("minilm", "tfidf"):
        model = get_model("text_classification", variant)
        for explain in (False, True):
            model.classify(TEXTS[0], explain=explain)  # warm-up
            alone = []
            for text in TEXTS:
                started = time.perf_counter()
                model.classify(text, explain=explain)
                alone.append((time.perf_counter() - started) * 1000)
            expected = [model.classify(t, explain=explain)["predictions"] for t in TEXTS]
            started = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                results = list(pool.map(lambda t: model.classify(t, explain=explain), TEXTS * 4))
            per_mail = (time.perf_counter() - started) * 1000 / len(results)
            same = all(r["predictions"] == expected[i % len(TEXTS)] for i, r in enumerate(results))
            print(f"{variant:8s} {str(explain):>10s} {statistics.median(alone):9.1f} {per_mail:26.1f} {str(same):>13s}")


if __name__ == "__main__":
    main()
