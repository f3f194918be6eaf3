"""End to end in a real browser, task 12: the fusion tab shows a result with all three inputs on
first load, explains each modality, answers a text alone, and turns a drawing into the picture input.

Reuses the browser, page fixtures and helpers of tests/test_e2e_browser.py (skipped, like it, when
Chromium is not installed, except under E2E_REQUIRED=1)."""
from __future__ import annotations

import math

from core.tasks.multimodal_fusion.data import CATEGORIES
from test_e2e_browser import _no_error_pills, _subtab, _summary, _tab, _wait_for_text  # noqa: F401
from test_e2e_browser import browser, page  # noqa: F401 - fixtures

VERDICT = r"\(\d+%\); next: .* Read from"


def test_fusion_first_load_reads_all_three_inputs_and_explains_each(page):  # noqa: F811
    _tab(page, "Multimodal fusion")
    summary = _wait_for_text(page, _summary(page), VERDICT)
    assert "Read from image, text, audio" in summary and "Each input alone would say" in summary
    label = page.get_by_test_id("label-output-value").locator("visible=true").first.inner_text().strip()
    assert label in CATEGORIES
    assert "Synthetic speech" in page.locator(".synthetic-caveat:visible").first.inner_text()
    page.locator(".js-plotly-plot:visible").nth(1).wait_for()  # importance and speech plots render after the text
    assert page.locator(".js-plotly-plot:visible").count() >= 2
    page.locator("#fusion-cam img").first.wait_for()  # the picture's heat map
    assert not page.locator("[data-testid=json]:visible").count()  # the API JSON is tucked away


def test_fusion_text_alone_and_a_drawing(page):  # noqa: F811
    _tab(page, "Multimodal fusion")
    _wait_for_text(page, _summary(page), VERDICT)
    page.locator("#fusion-image").get_by_label("Remove Image").first.click()
    page.locator("#fusion-audio").get_by_label("Clear").first.click()
    box = page.locator("#fusion-text textarea")
    box.fill("a slice of pizza")
    box.press("Enter")
    summary = _wait_for_text(page, _summary(page), r"Read from text\.")
    assert summary.startswith("Food & Drink")
    _subtab(page, "Draw")
    canvas = page.locator("#fusion-sketchpad canvas").last
    canvas.wait_for()
    area = canvas.bounding_box()
    cx, cy, r = area["x"] + area["width"] / 2, area["y"] + area["height"] / 2, 0.25 * min(area["width"], area["height"])
    page.mouse.move(cx + r, cy)
    page.mouse.down()
    for step in range(1, 41):  # a circle
        angle = 2 * math.pi * step / 40
        page.mouse.move(cx + r * math.cos(angle), cy + r * math.sin(angle))
    page.mouse.up()
    page.get_by_role("button", name="Use the drawing").click()
    summary = _wait_for_text(page, _summary(page), r"Read from image, text\.")
    assert "Each input alone would say" in summary
    _no_error_pills(page)
