"""Write task 06's committed sample of the distilled corpus:
assets/examples/machine_translation/distilled_sample.jsonl, a few hundred (English, Apertium's
Spanish, Apertium's English of that Spanish) triples of each split, the data of quick runs, tests
and the quick notebook on machines without Apertium or the corpus.

    .venv/bin/python scripts/make_examples_machine_translation.py   # after the corpus is built (core.train)
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.tasks.machine_translation.corpus import SAMPLE, build, write_pairs  # noqa: E402

SIZES = {"train": 320, "validation": 40, "test": 40}  # short sentences: the sample stays small


def main() -> None:
    corpus = build()
    rows = []
    for name, size in SIZES.items():
        short = [p for p in corpus[name] if len(p.en.split()) <= 16]
        rows += sorted(random.Random(f"sample-{name}").sample(short, size), key=short.index)
    write_pairs(rows, SAMPLE)
    print(f"wrote {len(rows)} pairs ({SAMPLE.stat().st_size / 1e3:.0f} kB) to {SAMPLE}")


if __name__ == "__main__":
    main()
