"""Speed of the recommender on this machine (CPU): milliseconds per /recommend request (top 10 with
explanations) for each model, for existing users of different activity and for new users folded in,
one request alone and eight at once (threads sharing one model, as the app does), and a check that
concurrent requests get exactly the answers they get alone.

    python benchmarks/recommender.py
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

import numpy as np  # noqa: E402

from core.registry import EXAMPLES_DIR, get_model  # noqa: E402

NEW_USERS = [p["ratings"] for p in json.loads((EXAMPLES_DIR / "recommender" / "new_users.json").read_text())]


def requests(model) -> dict[str, list]:
    """Existing users at the 10th, 50th, 90th percentile of activity and the most active one; the example new users."""
    counts = np.diff(model.ratings.offsets)
    order = np.argsort(counts)
    picks = [order[int(q * (len(order) - 1))] for q in (0.1, 0.5, 0.9, 1.0)]
    return {"existing users": [int(model.ratings.users[i]) for i in picks], "new users": NEW_USERS}


def main() -> None:
    print(f"{'model':11s} {'users':15s} {'alone ms':>9s} {'8 at once: ms per request':>26s} {'same answers':>13s}")
    for variant in ("hybrid", "svd", "content", "popularity"):
        recommender = get_model("recommender", variant)
        for kind, users in requests(recommender.model).items():
            recommender.recommend(users[0])  # warm-up
            alone = []
            for user in users * 3:
                started = time.perf_counter()
                recommender.recommend(user)
                alone.append((time.perf_counter() - started) * 1000)
            expected = [[r["movie_id"] for r in recommender.recommend(u)["recommendations"]] for u in users]
            batch = users * 6
            started = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                results = list(pool.map(lambda u: [r["movie_id"] for r in recommender.recommend(u)["recommendations"]],
                                        batch))
            per_request = (time.perf_counter() - started) * 1000 / len(results)
            same = all(r == expected[i % len(users)] for i, r in enumerate(results))
            print(f"{variant:11s} {kind:15s} {statistics.median(alone):9.1f} {per_request:26.1f} {str(same):>13s}")


if __name__ == "__main__":
    main()
