"""End to end in a real browser, task 07: the emotion tab shows a result on first load, says the
voices are synthetic, and answers an uploaded recording with a timeline.

Reuses the browser, page fixtures and helpers of tests/test_e2e_browser.py (skipped, like it, when
Chromium is not installed, except under E2E_REQUIRED=1)."""
from __future__ import annotations

import re

from core.registry import EXAMPLES_DIR
from test_e2e_browser import _no_error_pills, _summary, _tab, _wait_for_text  # noqa: F401
from test_e2e_browser import browser, page  # noqa: F401 - fixtures

FOLDER = EXAMPLES_DIR / "speech_emotion_recognition"
VERDICT = r"(neutral|happy|sad|angry|fearful)\*?\*? \(\d+%\) says the (log-mel CNN|MFCC baseline)"


def test_emotion_tab_first_load_shows_probabilities_and_the_synthetic_caveat(page):  # noqa: F811
    _tab(page, "Speech emotion recognition")
    summary = _wait_for_text(page, _summary(page), VERDICT)
    assert "log-mel CNN" in summary and "handling the request on the server" in summary
    label = page.get_by_test_id("label-output-value").locator("visible=true").first.inner_text().strip()
    assert label in {"neutral", "happy", "sad", "angry", "fearful"}
    assert "speech synthesiser" in page.locator(".synthetic-caveat:visible").first.inner_text()
    page.locator(".js-plotly-plot:visible").nth(1).wait_for()  # plots render after the text: wait, then count
    assert page.locator(".js-plotly-plot:visible").count() >= 2  # timeline and spectrogram
    assert not page.locator("[data-testid=json]:visible").count()  # the API JSON is tucked away


def test_emotion_upload_of_a_long_recording_gives_a_timeline(page):  # noqa: F811
    _tab(page, "Speech emotion recognition")
    first = _wait_for_text(page, _summary(page), VERDICT)
    assert "Over time" not in first  # the first example is a short clip
    page.locator("#ser-audio").get_by_label("Clear").first.click()  # the example's player gives way to an upload area
    page.locator("#ser-audio input[type=file]").set_input_files(str(FOLDER / "emotion_changes.flac"))  # runs at once
    summary = _wait_for_text(page, _summary(page), r"Over time \(\d+ windows\)")
    assert re.search(VERDICT, summary)
    traces = page.locator(".js-plotly-plot:visible .scatterlayer .trace")
    assert traces.count() >= 5  # one line per emotion
    page.get_by_label("MFCC / pitch / energy baseline").check()  # a new model reruns the same recording
    _wait_for_text(page, _summary(page), r"says the MFCC baseline.*\n*.*Over time")
    _no_error_pills(page)
