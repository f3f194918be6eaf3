"""Regenerate the README's task table from model_cards/*/metrics.json.

The table between the `<!-- tasks:start -->` and `<!-- tasks:end -->` markers is never typed
by hand; `python -m core.train TASK` calls this after a full run, and a test checks it is in sync.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.artifacts import load_metrics  # noqa: E402
from core.registry import TASKS  # noqa: E402
from core.settings import REPO_ROOT  # noqa: E402

README = REPO_ROOT / "README.md"
START, END = "<!-- tasks:start -->", "<!-- tasks:end -->"


def tasks_table() -> str:
    """Markdown table: one row per task with its endpoints and measured headline metric."""
    lines = ["| # | task | endpoints | headline metric (held-out) | data set |", "|---|---|---|---|---|"]
    for spec in sorted(TASKS.values(), key=lambda s: s.number):
        metrics = load_metrics(spec.card_dir)
        endpoints = ", ".join(f"`{e}`" for e in spec.endpoints)
        if metrics:
            h = metrics["headline"]
            block = metrics["variants"][h["variant"]]
            headline = f"{h.get('label', h['metric'])} = {h['value']:.4f} ({h['variant']}, {h['split']})"
            data = block.get("data", {}).get("name", "")
        else:
            headline, data = "not evaluated yet", ""
        card = f"[{spec.name}](model_cards/{spec.name}/README.md)"
        lines.append(f"| {spec.number:02d} | {card} | {endpoints} | {headline} | {data} |")
    return "\n".join(lines)


def render(text: str) -> str:
    """Return `text` with the block between the markers replaced by the current table."""
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise ValueError(f"README has no {START} ... {END} block")
    return pattern.sub(lambda _: f"{START}\n{tasks_table()}\n{END}", text)


def main() -> None:
    README.write_text(render(README.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"updated {README}")


if __name__ == "__main__":
    main()
