"""End to end in a real browser, the anomaly-detection tab: the first load shows flagged rows and the
plots, the slider re-flags from the kept scores (no new fit), and an uploaded workbook is checked.

Reuses the browser, page and helpers of test_e2e_browser.py (skipped, like it, without Chromium
unless E2E_REQUIRED=1)."""
from __future__ import annotations

import re
from pathlib import Path

from test_e2e_browser import _column, _no_error_pills, _summary, _tab, _wait_for_text, browser, page  # noqa: F401

FIXTURES = Path(__file__).parent / "fixtures" / "anomaly_detection"
TAB = "Anomaly detection"
TOP = "Most unusual rows, and the features that make them unusual"


def _model_ms(summary: str) -> str:
    return re.search(r"model ([\d,]+) ms", summary).group(1)


def test_first_load_shows_flagged_rows_and_plots_and_the_slider_re_flags(page):  # noqa: F811
    _tab(page, TAB)
    summary = _wait_for_text(page, _summary(page), r"Flagged [\d,]+ rows \(5\.\d%\)")
    assert "Wireless sensors, single-hop" in summary and "ROC-AUC" in summary
    page.locator(".js-plotly-plot:visible").nth(1).wait_for()  # the scatter plot and the histogram
    assert "rows flagged" in page.locator(".js-plotly-plot:visible").first.inner_text()
    flagged = _column(page, TOP, "flagged")
    assert flagged and set(flagged) == {"yes"}  # the top rows are the flagged ones at 5 %
    reasons = _column(page, TOP, "why (feature value, direction, contribution)")
    assert any("temperature" in r or "humidity" in r for r in reasons)
    fitted = _model_ms(summary)

    slider = page.get_by_label("number input for Share of rows to flag (contamination)").first
    slider.fill("0.3")
    slider.press("Enter")
    page.locator("input[type=range]:visible").first.dispatch_event("pointerup")
    summary = _wait_for_text(page, _summary(page), r"Flagged [\d,]+ rows \(30\.\d%\)")
    assert _model_ms(summary) == fitted  # the same fit: re-flagged from the kept scores
    assert "precision" in summary and "recall" in summary
    _no_error_pills(page)


def test_an_uploaded_workbook_is_checked(page):  # noqa: F811
    _tab(page, TAB)
    _wait_for_text(page, _summary(page), "Wireless sensors")
    page.get_by_label("my file").first.check()
    page.locator("#anomaly-file").wait_for(state="visible")  # the upload box shows once "my file" is chosen
    page.locator("#anomaly-file input[type=file]").set_input_files(str(FIXTURES / "mixed_columns.xlsx"))
    summary = _wait_for_text(page, _summary(page), "mixed_columns.xlsx")
    assert "40 rows" in summary and "is_anomaly" in summary
    assert "dropped record_id" in summary and "filled 2 empty cell(s) of temperature" in summary
    rows = _column(page, TOP, "row")
    assert set(rows[:2]) == {"17", "33"}  # the two planted anomalies come first
    page.locator(".js-plotly-plot:visible").nth(1).wait_for()
    _no_error_pills(page)
