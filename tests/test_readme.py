"""The README's task table is generated from the metrics files and must be current."""
from __future__ import annotations

from scripts.update_readme import README, render


def test_readme_task_table_matches_metrics_files():
    text = README.read_text(encoding="utf-8")
    assert render(text) == text, "README task table is stale: run `make readme`"


def test_readme_has_spaces_front_matter():
    front = README.read_text(encoding="utf-8").split("---")[1]
    for key in ("sdk: gradio", "app_file: app.py", 'python_version: "3.11"', "sdk_version: 6.31.0", "license:"):
        assert key in front


def test_spaces_sdk_version_matches_pinned_gradio():
    import re

    from core.settings import REPO_ROOT

    pinned = re.search(r"^gradio==([\d.]+)$", (REPO_ROOT / "requirements.txt").read_text(), re.M).group(1)
    assert f"sdk_version: {pinned}\n" in README.read_text(encoding="utf-8")
