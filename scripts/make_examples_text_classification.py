"""Write task 04's committed fixtures from held-out test e-mails (the grouped split's test side):

* assets/examples/text_classification/corpus_sample.json: 20 ham + 20 spam messages (parsed), the
  data of quick runs and tests;
* examples.json: six messages shown as the tab's examples (easy ham, hard ham, spam);
* ham.eml and spam.eml: two raw messages, headers included, to try the file upload.

    .venv/bin/python scripts/make_examples_text_classification.py
"""
from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.registry import EXAMPLES_DIR  # noqa: E402
from core.tasks.text_classification.data import DATA_DIR, fetch, read_corpus  # noqa: E402
from core.tasks.text_classification.train import FULL, prepare  # noqa: E402

OUT = EXAMPLES_DIR / "text_classification"


def main() -> None:
    messages = read_corpus()
    test = prepare(DATA_DIR / FULL.name, messages)["test"]
    short = [messages[i] for i in test if 200 < len(messages[i].text) < 1800]
    sample = [m for m in short if m.label == 0][:20] + [m for m in short if m.label == 1][:20]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "corpus_sample.json").write_text(json.dumps([asdict(m) for m in sample], indent=0, ensure_ascii=False))
    picks = [next(m for m in short if m.folder == f) for f in ("easy-ham-1", "easy-ham-2", "hard-ham-1")]
    spam = {m.text[:12]: m for m in reversed([m for m in short if m.label == 1 and len(m.text) < 1200])}
    picks += list(spam.values())[:3]  # three different campaigns
    (OUT / "examples.json").write_text(json.dumps([{"name": m.name, "folder": m.folder, "text": m.text}
                                                   for m in picks], indent=1, ensure_ascii=False))
    data = fetch()
    for label, name in ((0, "ham"), (1, "spam")):
        message = next(m for m in short if m.label == label)
        raw = json.loads(next(data.glob(message.name + "*.json")).read_text(encoding="utf-8"))["text"]
        (OUT / f"{name}.eml").write_text(raw, encoding="utf-8")
    print(f"{len(sample)} sample messages, {len(picks)} examples -> {OUT}")


if __name__ == "__main__":
    main()
