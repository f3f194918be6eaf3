"""Speech recognition in a real browser: the first load shows a transcript, an uploaded file is
transcribed, and the Live tab transcribes a (fake) microphone.

Reuses the browser, page and helpers of tests/test_e2e_browser.py (skipped the same way when
Chromium is missing). The live test starts its own Chromium with a fake microphone that plays a
committed clip (`--use-file-for-fake-audio-capture`)."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile

from core.registry import EXAMPLES_DIR
from test_e2e_browser import (CHROMIUM, CHROMIUM_ARGS, DESKTOP, _assert_secure_and_offline, _no_error_pills, _open,
                              _subtab, _summary, _tab, _wait_for_text)
from test_e2e_browser import browser, page  # noqa: F401 - fixtures

CLIPS = EXAMPLES_DIR / "speech_recognition"


def _transcript(tab, elem_id: str = "asr-transcript") -> str:
    return tab.locator(f"#{elem_id} textarea").input_value()


def test_first_load_shows_a_transcript_with_segments_and_subtitles(page):  # noqa: F811
    _tab(page, "Speech recognition")
    summary = _wait_for_text(page, _summary(page), r"Whisper tiny.en\*?\*? transcribed 2\d\.\d s")
    assert "real-time factor" in summary and "handling the request on the server" in summary
    assert "Dashwood" in _transcript(page) and "amiable himself" in _transcript(page)
    rows = int(page.locator("#asr-segments [role=grid]").get_attribute("aria-rowcount"))
    assert rows >= 4  # the segments table: a header and one row per segment
    assert "0:00.0" in page.locator("#asr-segments").inner_text()
    page.locator("a[download='transcript.srt']").wait_for(state="attached")  # the subtitles, ready to download
    page.locator("a[download='transcript.vtt']").wait_for(state="attached")
    assert not page.locator("[data-testid=json]:visible").count()  # the API JSON is tucked away


def test_an_uploaded_stereo_ogg_is_transcribed_by_the_chosen_engine(page):  # noqa: F811
    _tab(page, "Speech recognition")
    _wait_for_text(page, _summary(page), r"transcribed")
    audio = page.locator("#asr-audio")
    audio.get_by_label("Clear").click()
    audio.locator("input[type=file]").set_input_files(str(CLIPS / "cards_stereo_44k.ogg"))
    page.get_by_label("PocketSphinx (classic HMM, less accurate)").check()
    page.get_by_role("button", name="Transcribe", exact=True).click()
    _wait_for_text(page, _summary(page), r"PocketSphinx\*?\*? transcribed 3\.5 s")
    assert "spades" in _transcript(page) and "hearts" in _transcript(page)
    _no_error_pills(page)


@pytest.fixture
def fake_microphone_page(browser, app_url, tmp_path):  # noqa: F811
    """A page of a second Chromium, whose microphone plays the one-sentence example (then silence) in a loop."""
    from core.audio import load, resample

    samples = np.concatenate([load(CLIPS / "austen_amiable.flac"), np.zeros(24_000, np.float32)])
    wav = tmp_path / "microphone.wav"
    soundfile.write(wav, resample(samples, 16_000, 48_000), 48_000, subtype="PCM_16")
    args = CHROMIUM_ARGS + ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                            f"--use-file-for-fake-audio-capture={wav}"]
    chromium = browser.browser_type.launch(executable_path=CHROMIUM, args=args)  # the same Playwright
    tab = _open(chromium, app_url, DESKTOP)
    yield tab
    _assert_secure_and_offline(tab, app_url)
    chromium.close()


def test_the_live_tab_transcribes_the_microphone_as_it_streams(fake_microphone_page):
    tab = fake_microphone_page
    _tab(tab, "Speech recognition")
    _wait_for_text(tab, _summary(tab), r"transcribed")
    _subtab(tab, "Live")
    mic = tab.locator("#asr-mic")
    mic.get_by_role("button", name="Record").click()
    # the fake microphone repeats "he might even have been made amiable himself": words appear while it streams
    try:
        tab.wait_for_function("() => /might even/i.test(document.querySelector('#asr-live-transcript textarea').value)",
                              timeout=90_000)
    except Exception as exc:  # say where it stood: no audio arriving, or no words in it
        raise AssertionError(f"no words after 90 s; status: {tab.locator('#asr-live-status').inner_text()!r}, "
                             f"transcript: {_transcript(tab, 'asr-live-transcript')!r}") from exc
    status = tab.locator("#asr-live-status").inner_text()
    assert "Whisper tiny.en" in status and "heard" in status
    mic.get_by_role("button", name="Stop").click()
    _wait_for_text(tab, tab.locator("#asr-live-status"), "Recording stopped")
    assert "might even have been" in _transcript(tab, "asr-live-transcript").lower()  # kept, now final
