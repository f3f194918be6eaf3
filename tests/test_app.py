"""The launched app: contract endpoints, lazy start-up, the metrics endpoint, offline guard."""
from __future__ import annotations

import html
import socket
import subprocess
import sys

import pytest

from core.registry import TASKS
from core.settings import REPO_ROOT


def test_startup_loads_no_model():
    """Building the whole app (every tab) must not load a single model."""
    code = (
        "import app; app.build_app(); from core.registry import model_cache; "
        "print('loads', model_cache().loads)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "loads 0" in result.stdout


def test_contract_endpoints_are_public(client):
    api = client.view_api(print_info=False, return_format="dict")
    named = set(api["named_endpoints"])
    expected = {e for spec in TASKS.values() for e in spec.endpoints} | {"/model_metrics"}
    assert expected <= named, f"missing endpoints: {expected - named}"


def test_model_metrics_endpoint_returns_the_task_json(client):
    for name in TASKS:
        result = client.predict(task=name, api_name="/model_metrics")
        assert result["task"] == name
        headline = result["headline"]
        assert headline["variant"] in result["variants"]
        assert isinstance(headline["value"], float)


def test_model_metrics_rejects_unknown_task_and_keeps_serving(client):
    with pytest.raises(Exception, match="not in the list of choices|Unknown task"):
        client.predict(task="nope", api_name="/model_metrics")
    assert client.predict(task=next(iter(TASKS)), api_name="/model_metrics")["task"]


def test_network_guard_blocks_non_loopback():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(AssertionError, match="non-loopback"):
            sock.connect(("192.0.2.1", 80))  # TEST-NET-1, never routed


def test_page_serves_the_overview_one_tab_per_task_and_metrics(app_url):
    """What a browser receives: the page config lists the Overview, every task's tab (named in
    plain words) and the Metrics tab."""
    import httpx

    config = httpx.get(app_url.rstrip("/") + "/config", timeout=30).json()
    labels = {c.get("props", {}).get("label") for c in config["components"] if c.get("type") == "tabitem"}
    expected = {spec.title for spec in TASKS.values()} | {"Overview", "Metrics"}
    assert expected <= labels, labels


def test_every_event_has_an_explicit_api_name_and_only_contract_ones_are_public():
    import app

    # gr.render functions (a notebook on the Overview) get Gradio's own undocumented event names
    dependencies = [dep for dep in app.build_app().config["dependencies"] if dep.get("render_id") is None]
    names = [dep["api_name"] for dep in dependencies]
    assert len(names) == len(set(names)), "api names must be unique"
    assert not [n for n in names if n[-1].isdigit() and n.rsplit("_", 1)[-1].isdigit()], f"auto-suffixed names: {names}"
    public = {dep["api_name"] for dep in dependencies if dep.get("api_visibility", "public") == "public"}
    contract = {e.lstrip("/") for spec in TASKS.values() for e in spec.endpoints} | {"model_metrics"}
    assert public == contract


def test_favicon_and_link_preview(app_url):
    import httpx

    import app

    base = app_url.rstrip("/")
    assert httpx.get(base + "/favicon.ico", timeout=30).content == app.FAVICON.read_bytes()
    page = httpx.get(base + "/", timeout=30).text
    assert f'<meta property="og:title" content="{app.TITLE}"' in page  # in the served HTML, for crawlers
    head = httpx.get(base + "/config", timeout=30).json()["head"]  # added to the page by Gradio's front end
    assert f'<meta name="description" content="{app.DESCRIPTION}">' in head


def test_overview_cards_come_from_the_registry_and_the_metrics():
    from core.artifacts import load_metrics
    from demos.metrics import metric_label
    from demos.overview import card_markdown, task_card

    for spec in TASKS.values():
        card = task_card(spec)
        headline = load_metrics(spec.card_dir)["headline"]
        assert spec.title in card and html.escape(spec.summary) in card and all(e in card for e in spec.endpoints)
        assert f"{metric_label(headline['metric'])} = " in card and f"<code>{headline['variant']}</code>" in card
        assert ("higher is better" in card) == headline["higher_is_better"]
        markdown = card_markdown(spec)
        assert not markdown.startswith("---") and "](figures/" not in markdown
