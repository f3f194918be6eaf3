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


def test_readme_api_examples_run_against_the_app(app_url, monkeypatch):
    """The README's gradio_client snippet works as written (pointed at the test server)."""
    import re

    from core.settings import REPO_ROOT

    snippet = re.search(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S).group(1)
    assert "http://127.0.0.1:7860/" in snippet
    monkeypatch.chdir(REPO_ROOT)
    namespace: dict = {}
    exec(snippet.replace("http://127.0.0.1:7860/", app_url), namespace)  # noqa: S102 - our own README
    assert namespace["forecast"], "forecast example returned no forecast"
    assert namespace["srt_path"].endswith(".srt") and namespace["vtt_path"].endswith(".vtt")
    assert namespace["result"]["metrics"]["roc_auc"] > 0.8, "the last example (anomalies in wbc) lost its metrics"
    assert namespace["metrics"]["task"] == "image_classification"
