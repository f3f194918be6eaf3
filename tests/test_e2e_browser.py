"""End to end in a real browser: what a person sees after uploading, drawing and clicking.

Uses Debian's Chromium (/usr/bin/chromium) through Playwright. Skipped when Chromium is not
installed, except in CI (`E2E_REQUIRED=1`, set by .ci/run), where a missing browser fails.
"""
from __future__ import annotations

import os
import shutil

import pytest

from core.registry import EXAMPLES_DIR

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    if os.environ.get("E2E_REQUIRED") == "1":
        raise RuntimeError("E2E_REQUIRED=1 but Chromium is not installed (apt-get install chromium)")
    pytest.skip("Chromium is not installed", allow_module_level=True)

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


# Every security-policy violation the page reports, recorded from the first script on.
RECORD_CSP_VIOLATIONS = """window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"""


@pytest.fixture(scope="module")
def page(app_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        page.add_init_script(RECORD_CSP_VIOLATIONS)
        page.requested_urls = []
        page.on("request", lambda request: page.requested_urls.append(request.url))
        page.goto(app_url)
        yield page
        browser.close()


def _tab(page, name: str):
    page.get_by_role("tab", name=name, exact=True).first.click()


def test_the_overview_comes_first_with_a_card_per_task_and_readable_model_cards(page):
    from core.registry import TASKS

    assert page.get_by_role("tab", selected=True).first.inner_text().strip() == "Overview"
    cards = page.locator(".task-card")
    cards.first.wait_for()
    assert cards.count() == len(TASKS)
    for spec in TASKS.values():
        assert spec.summary in cards.filter(has_text=spec.summary).first.inner_text()
    spec = TASKS["time_series_forecasting"]
    page.get_by_text(f"Model card: {spec.title}").first.click()
    figure = page.locator("img[src*='figures']").first
    figure.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=figure.element_handle())


def test_upload_a_product_photo_and_see_the_prediction(page):
    _tab(page, "Image classification")
    page.locator("input[type=file]").first.set_input_files(str(EXAMPLES_DIR / "image_classification" / "fashion_on_white_sandal.jpg"))
    page.get_by_role("button", name="Classify").first.click()
    top_class = page.get_by_test_id("label-output-value").first
    page.wait_for_function("el => el.textContent.trim() !== ''", arg=top_class.element_handle())
    assert top_class.inner_text().strip() == "Sandal"


def test_draw_a_digit_on_the_sketchpad(page):
    _tab(page, "Image classification")
    _tab(page, "Sketch")
    page.get_by_role("button", name="Brush", exact=True).first.click()  # Gradio starts with no tool selected
    page.keyboard.press("Escape")  # close the brush options popover, if it opened
    canvas = page.locator("canvas").last
    canvas.wait_for()
    box = canvas.bounding_box()
    x, top, bottom = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.2, box["y"] + box["height"] * 0.8
    page.mouse.move(x, top)
    page.mouse.down()
    for step in range(1, 21):  # one vertical stroke: a "1"
        page.mouse.move(x, top + (bottom - top) * step / 20)
    page.mouse.up()
    page.get_by_role("button", name="Read digit").first.click()
    top_class = page.get_by_test_id("label-output-value").nth(1)
    page.wait_for_function("el => el.textContent.trim() !== ''", arg=top_class.element_handle())
    assert top_class.inner_text().strip() == "1"


def test_forecast_a_bundled_series(page):
    _tab(page, "Time-series forecasting")
    page.get_by_role("button", name="Forecast").first.click()
    page.get_by_text("(chosen)").first.wait_for()
    page.locator(".js-plotly-plot:visible").nth(1).wait_for()  # forecast chart and STL decomposition both drawn


def test_metrics_tab_shows_the_confusion_matrix(page):
    _tab(page, "Metrics")
    page.get_by_text("Confusion matrix").first.wait_for()
    page.locator(".js-plotly-plot:visible").first.wait_for()
    assert "image_classification" in page.get_by_label("Summary across tasks").first.inner_text()


def test_the_app_works_under_its_security_policy_and_stays_offline(page, app_url):
    """Runs last: after every tab above was used, the page reported no Content-Security-Policy
    violation and requested nothing but the app itself (no fonts or scripts from elsewhere)."""
    assert page.evaluate("window.__csp") == []
    own = app_url.rstrip("/")
    assert [u for u in page.requested_urls if not u.startswith((own, "data:", "blob:"))] == []
