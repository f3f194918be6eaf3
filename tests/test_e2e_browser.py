"""End to end in a real browser: what a visitor sees, at desktop (1366 px) and phone (390 px) width.

Uses Debian's Chromium (/usr/bin/chromium) through Playwright. Skipped when Chromium is not
installed, except in CI (`E2E_REQUIRED=1`, set by .ci/run), where a missing browser fails.
Each test opens its own page, so one test's clicks never change what the next one sees.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.registry import EXAMPLES_DIR, TASKS

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    if os.environ.get("E2E_REQUIRED") == "1":
        raise RuntimeError("E2E_REQUIRED=1 but Chromium is not installed (apt-get install chromium)")
    pytest.skip("Chromium is not installed", allow_module_level=True)

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
IMAGES = EXAMPLES_DIR / "image_classification"
SERIES = EXAMPLES_DIR / "time_series_forecasting"

# Every security-policy violation the page reports, recorded from the first script on.
RECORD_CSP_VIOLATIONS = """window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"""


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _open(browser, app_url: str, viewport: dict):
    page = browser.new_page(viewport=viewport, is_mobile=viewport is PHONE, has_touch=viewport is PHONE)
    page.set_default_timeout(60_000)
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    page.requested_urls = []
    page.on("request", lambda request: page.requested_urls.append(request.url))
    page.goto(app_url)
    page.locator(".tab-wrapper").first.wait_for()
    return page


def _visit(browser, app_url: str, viewport: dict):
    page = _open(browser, app_url, viewport)
    yield page
    _assert_secure_and_offline(page, app_url)
    page.close()


@pytest.fixture
def page(browser, app_url):
    yield from _visit(browser, app_url, DESKTOP)


@pytest.fixture
def phone(browser, app_url):
    yield from _visit(browser, app_url, PHONE)


def _assert_secure_and_offline(page, app_url: str) -> None:
    """After every test: the page reported no Content-Security-Policy violation and requested
    nothing but the app itself (no fonts or scripts from elsewhere)."""
    assert page.evaluate("window.__csp") == []
    own = app_url.rstrip("/")
    assert [u for u in page.requested_urls if not u.startswith((own, "data:", "blob:"))] == []


def _tab(page, name: str) -> None:
    """Open a top-level tab, through the tab bar's overflow menu when it is too narrow to show it."""
    bar = page.locator(".tab-wrapper").first
    tab = bar.get_by_role("tab", name=name, exact=True)
    if tab.count() and tab.first.is_visible():
        tab.first.click()
    else:
        bar.locator(".overflow-menu button").first.click()
        page.locator(".overflow-dropdown button", has_text=name).first.click()


def _subtab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).locator("visible=true").first.click()


def _summary(page):
    """The visible result summary (the sentence above a tab's results)."""
    return page.locator(".result-summary:visible").first


def _wait_for_text(page, locator, pattern: str) -> str:
    page.wait_for_function("([el, p]) => new RegExp(p).test(el.innerText)", arg=[locator.element_handle(), pattern])
    return locator.inner_text()


def _toast(page) -> str:
    toast = page.get_by_test_id("toast-body").first
    toast.wait_for()
    return toast.inner_text()


def _no_error_pills(page) -> None:
    """The last good outputs stay readable: no "Error" badge covers them."""
    assert page.locator(".wrap.full > span.error:visible").count() == 0


def _contrast(page, selector: str) -> float:
    """WCAG contrast ratio of the first element matching `selector`: its text colour against the
    first opaque background behind it."""
    colours = page.evaluate("""sel => {
        const el = document.querySelector(sel);
        let node = el, bg = 'rgba(0, 0, 0, 0)';
        while (node && (bg === 'rgba(0, 0, 0, 0)' || bg === 'transparent')) {
            bg = getComputedStyle(node).backgroundColor; node = node.parentElement;
        }
        return [getComputedStyle(el).color, bg === 'rgba(0, 0, 0, 0)' ? 'rgb(255, 255, 255)' : bg];
    }""", selector)

    def luminance(css: str) -> float:
        r, g, b = (int(v) / 255 for v in re.findall(r"[\d.]+", css)[:3])
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    light, dark = sorted((luminance(c) for c in colours), reverse=True)
    return (light + 0.05) / (dark + 0.05)


# ----------------------------------------------------------------------------- the front page

def test_the_overview_comes_first_with_a_card_per_task_and_readable_model_cards(page):
    assert page.get_by_role("tab", selected=True).first.inner_text().strip() == "Overview"
    cards = page.locator(".task-card")
    cards.first.wait_for()
    assert cards.count() == len(TASKS)
    for spec in TASKS.values():
        card = cards.filter(has_text=spec.summary).first
        assert "better" in card.inner_text() and "Latency" in card.inner_text()
    spec = TASKS["time_series_forecasting"]
    page.get_by_text(f"Model card: {spec.title}").first.click()
    figure = page.locator("img[src*='figures']").first
    figure.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=figure.element_handle())


def test_try_it_opens_the_task_tab_and_a_notebook_renders_in_the_app(page, app_url):
    import httpx

    spec = TASKS["time_series_forecasting"]
    page.get_by_role("button", name=f"Try {spec.title.lower()}").click()
    assert page.get_by_role("tab", selected=True).first.inner_text().strip() == spec.title
    _tab(page, "Overview")
    page.get_by_text(f"Notebook: {spec.title}").first.click()
    page.locator(".js-plotly-plot:visible").first.wait_for()  # its charts, interactive, in the page
    assert page.get_by_text("python -m core.train time_series_forecasting").first.is_visible()
    link = page.get_by_role("link", name="download the .ipynb").first.get_attribute("href")
    assert httpx.get(app_url.rstrip("/") + link, timeout=30).json()["cells"]


# ----------------------------------------------------------------------------- image classification

def test_first_load_shows_a_result_and_the_api_json_is_tucked_away(page):
    _tab(page, "Image classification")
    summary = _wait_for_text(page, _summary(page), "Sandal")
    assert "fashion" in summary and "model" in summary and "handling the request on the server" in summary  # both latencies
    assert page.get_by_test_id("label-output-value").first.inner_text().strip() == "Sandal"
    page.locator("img[src*='grad_cam']:visible").first.wait_for()  # outputs render one by one
    assert page.locator("img[src*='grad_cam']:visible").count() == 1
    assert not page.locator("[data-testid=json]:visible").count()  # closed accordion
    page.get_by_text("API response (JSON)").first.click()
    page.locator(".json-holder:visible, [data-testid=json]:visible").first.wait_for()


def test_upload_a_product_photo_and_see_the_prediction(page):
    _tab(page, "Image classification")
    _wait_for_text(page, _summary(page), "Sandal")
    page.locator("input[type=file]").first.set_input_files(str(IMAGES / "fashion_test_trouser.png"))  # runs at once
    _wait_for_text(page, _summary(page), "Trouser")
    assert page.get_by_test_id("label-output-value").first.inner_text().strip() == "Trouser"


def test_an_example_click_runs_it_and_the_model_follows_the_picture(page):
    _tab(page, "Image classification")
    _wait_for_text(page, _summary(page), "Sandal")
    page.locator(".example-gallery").get_by_text("digit 3", exact=True).click()
    assert "digits" in _wait_for_text(page, _summary(page), r"^\*?\*?3")
    page.locator("input[type=file]").first.set_input_files(str(IMAGES / "fashion_test_bag.png"))
    assert "fashion" in _wait_for_text(page, _summary(page), "Bag")  # not read as a digit


def test_a_bad_upload_after_an_example_gets_a_clear_message_and_keeps_the_last_result(page, tmp_path):
    _tab(page, "Image classification")
    _wait_for_text(page, _summary(page), "Sandal")
    page.locator(".example-gallery").get_by_text("ankle boot", exact=True).click()
    _wait_for_text(page, _summary(page), "Ankle boot")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a picture" * 10)
    page.locator("input[type=file]").first.set_input_files(str(broken))
    message = _toast(page)
    assert "Could not read" in message and "Upload a PNG" in message
    assert "/tmp" not in message and "UnidentifiedImageError" not in message
    _no_error_pills(page)
    assert "Ankle boot" in _summary(page).inner_text()
    assert page.get_by_test_id("label-output-value").first.inner_text().strip() == "Ankle boot"


def test_an_unusual_picture_gets_a_warning(page, tmp_path):
    _tab(page, "Image classification")
    _wait_for_text(page, _summary(page), "Sandal")
    noise = tmp_path / "noise.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (200, 200, 3), dtype=np.uint8)).save(noise)
    page.locator("input[type=file]").first.set_input_files(str(noise))
    assert "looks unusual" in _wait_for_text(page, _summary(page), "unusual")


def _stroke(page) -> None:
    canvas = page.locator("#digit-sketchpad canvas").last
    canvas.wait_for()
    box = canvas.bounding_box()
    x, top, bottom = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.2, box["y"] + box["height"] * 0.8
    page.mouse.move(x, top)
    page.mouse.down()
    for step in range(1, 21):  # one vertical stroke: a "1"
        page.mouse.move(x, top + (bottom - top) * step / 20)
    page.mouse.up()


def test_the_sketchpad_works_with_the_first_stroke_and_after_clear(page):
    _tab(page, "Image classification")
    _subtab(page, "Sketch")
    pad = page.locator("#digit-sketchpad")
    assert pad.get_by_text("Layer").count() == 0  # no layer control
    help_text = page.get_by_text("Draw one digit 0-9").first
    assert help_text.is_visible() and help_text.bounding_box()["y"] + 10 < pad.bounding_box()["y"]  # above, not under the toolbar
    _stroke(page)  # no tool picked by hand
    page.get_by_role("button", name="Read digit").first.click()
    top_class = page.get_by_test_id("label-output-value").locator("visible=true").first
    top_class.wait_for()
    assert top_class.inner_text().strip() == "1"
    pad.get_by_role("button", name="Clear canvas").click()
    page.wait_for_function("el => el.classList.contains('highlight')",
                           arg=pad.get_by_role("button", name="Brush", exact=True).element_handle())
    _stroke(page)
    page.get_by_role("button", name="Read digit").first.click()
    assert "empty" not in _wait_for_text(page, _summary(page), r"^\*?\*?1")


# ----------------------------------------------------------------------------- forecasting

def test_forecast_first_load_and_every_choice_reruns_it(page):
    _tab(page, "Time-series forecasting")
    summary = _wait_for_text(page, _summary(page), "Air passengers")
    assert "monthly" in summary and "`MS`" not in summary and "MS" not in summary.split()
    page.locator(".js-plotly-plot:visible").nth(1).wait_for()  # forecast and STL drawn
    page.get_by_label("Bundled series", exact=True).first.click()
    page.locator("ul.option-list li", has_text="sunspot").first.click()
    summary = _wait_for_text(page, _summary(page), "sunspot")
    assert "yearly" in summary and "cycle of 10 steps" in summary and "floored at 0" in summary
    lower = _column(page, "Forecast table", "lower_95")
    assert lower and min(float(v) for v in lower) >= 0  # a count series never gets a negative interval
    slider = page.get_by_label("number input for Horizon (steps ahead)").first
    slider.fill("6")
    slider.press("Enter")
    page.locator("input[type=range]").first.dispatch_event("pointerup")
    page.wait_for_function("el => el.querySelectorAll('.virtual-row').length === 6",
                           arg=page.get_by_label("Forecast table").first.element_handle())


def _column(page, table_label: str, column: str) -> list[str]:
    """The cells of one column of a gr.Dataframe, as the page shows them."""
    return page.get_by_label(table_label).first.evaluate("""(el, name) => {
        const head = [...el.querySelectorAll('th[title]')].find(th => th.title === name);
        if (!head) return [];
        return [...el.querySelectorAll(`[role=gridcell][data-col="${head.dataset.heading}"]`)].map(c => c.innerText.trim());
    }""", column)


def test_the_forecast_source_is_an_explicit_choice(page, tmp_path):
    _tab(page, "Time-series forecasting")
    _wait_for_text(page, _summary(page), "Air passengers")
    page.get_by_label("my file").first.check()
    page.get_by_role("button", name="Forecast", exact=True).click()
    assert "Upload a CSV or Excel file first" in _toast(page)  # not the bundled series, silently
    _no_error_pills(page)
    page.locator("input[type=file]").first.set_input_files(str(SERIES / "co2_weekly_with_gaps.csv"))
    assert "co2_weekly_with_gaps" in _wait_for_text(page, _summary(page), "co2_weekly")  # the new upload's result
    page.get_by_label("a bundled series").first.check()
    _wait_for_text(page, _summary(page), "Air passengers")


# ----------------------------------------------------------------------------- metrics

def test_metrics_tab_reads_in_words_with_directions(page):
    _tab(page, "Metrics")
    summary = page.locator("#metrics-summary").first
    summary.wait_for()
    text = summary.inner_text()
    assert "Image classification" in text and "held-out MASE" in text and "(auto)" not in text
    assert "higher" in text and "lower" in text and not re.search(r"\b\d+\.0000\b", text)
    page.locator(".js-plotly-plot:visible").first.wait_for()
    assert page.locator(".js-plotly-plot:visible .gtitle").count() == 0  # titles are the components' labels


# ----------------------------------------------------------------------------- phone width

def test_at_phone_width_the_title_fits_and_examples_are_a_compact_gallery(phone):
    title = phone.locator("h1").first
    assert title.bounding_box()["height"] < 40  # one line
    _tab(phone, "Image classification")
    _wait_for_text(phone, _summary(phone), "Sandal")
    gallery = phone.locator(".example-gallery").first
    gallery.scroll_into_view_if_needed()
    box = gallery.bounding_box()
    assert box["width"] <= PHONE["width"] and box["height"] < 500
    assert gallery.get_by_text("digit 3", exact=True).is_visible()  # captions


def test_at_phone_width_the_metrics_summary_shows_every_field(phone):
    _tab(phone, "Metrics")
    cell = phone.locator("#metrics-summary td[data-label='better']").first
    cell.wait_for()
    box = cell.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]  # no horizontal scrolling to read it
    assert phone.evaluate("el => getComputedStyle(el, '::before').content", cell.element_handle()) == '"better"'


def test_plot_toolbars_do_not_cover_titles_until_hovered(phone):
    _tab(phone, "Time-series forecasting")
    _wait_for_text(phone, _summary(phone), "Air passengers")
    toolbar = phone.locator(".js-plotly-plot .modebar-container").first
    assert phone.evaluate("el => getComputedStyle(el).opacity", toolbar.element_handle()) == "0"


# ----------------------------------------------------------------------------- contrast

def test_text_contrast_meets_wcag_aa(page):
    _tab(page, "Image classification")
    assert _contrast(page, "button.primary") >= 4.5
    assert _contrast(page, ".tab-wrapper button[role=tab][aria-selected=true]") >= 4.5
    assert _contrast(page, "footer a, footer button") >= 4.5


# ----------------------------------------------------------------------------- screenshots

def test_the_screenshot_script_captures_every_tab_at_both_widths(browser, app_url, tmp_path):
    from scripts.screenshots import WIDTHS, tab_names, take

    paths, seen = take(app_url, tmp_path, browser)
    assert seen == []  # no error badge or message, no placeholder table, no server path on any tab
    assert len(paths) == len(WIDTHS) * len(tab_names())
    for path in paths:
        with Image.open(path) as shot:
            assert shot.width in {w for w, _ in WIDTHS.values()} and shot.height > 600
    assert Path(paths[0]).name == "desktop_00_overview.png"


# ----------------------------------------------------------------------------- detection and segmentation

DETECTION = EXAMPLES_DIR / "object_detection"


def test_detection_first_load_example_click_and_class_filter(page):
    _tab(page, "Object detection")
    first = _wait_for_text(page, _summary(page), r"\d+ objects?")
    assert page.locator("img[src*='detections']:visible").count() == 1
    page.locator(".example-gallery:visible").get_by_text("2 cars, horse", exact=True).click()
    assert not re.search(r"\bcars?\b", first)  # scene 9000, shown first, has no car ...
    _wait_for_text(page, _summary(page), r"\(.*\bcars?\b")  # ... and scene 9003 holds 2
    label = "car"
    page.get_by_label("Only these classes (empty: all)").locator("visible=true").first.click()
    page.get_by_role("option", name=label, exact=True).click()
    _wait_for_text(page, _summary(page), rf"\(\d+ {label}\)")
    labels = _column(page, "Detections (pixels of your picture)", "label")
    assert labels and set(labels) == {label}


def test_choosing_the_coco_model_offline_says_how_to_install_it_and_keeps_the_result(page):
    _tab(page, "Object detection")
    before = _wait_for_text(page, _summary(page), r"\d+ objects?")
    page.get_by_text("COCO, 80 classes (official Ultralytics): not installed").locator("visible=true").first.click()
    assert "ALLOW_NETWORK=1" in _toast(page)
    _no_error_pills(page)
    assert _summary(page).inner_text() == before


def test_video_gives_an_annotated_h264_video_and_counts_over_time(page):
    _tab(page, "Object detection")
    _subtab(page, "Video")
    first = _wait_for_text(page, _summary(page), "30 frames analysed")  # the example's result on first load
    video = page.locator("video:visible").last
    page.wait_for_function("v => v.readyState >= 1 && v.duration > 2.5", arg=video.element_handle())  # the browser plays it
    assert page.locator(".js-plotly-plot:visible .scatterlayer .trace").count() >= 3  # one line per class found
    page.get_by_label("Clear").locator("visible=true").first.click()  # a new upload, as a visitor makes it
    page.locator("input[type=file][accept*='video']").first.set_input_files(str(DETECTION / "pan_9014.mp4"))
    page.get_by_label("Only these classes (empty: all)").locator("visible=true").first.click()
    page.get_by_role("option", name="airplane", exact=True).click()
    page.get_by_role("button", name="Detect in video").click()
    summary = _wait_for_text(page, _summary(page), r"frames analysed.*: airplane in \d+ frames\.")
    assert summary != first and page.locator(".js-plotly-plot:visible .scatterlayer .trace").count() == 1


def test_segmentation_first_load_and_opacity_rerun(page):
    _tab(page, "Instance segmentation")
    first = _wait_for_text(page, _summary(page), r"\d+ instances?.*covering")
    source = page.locator("img[src*='instances']:visible").first.get_attribute("src")
    number = page.get_by_label("number input for Mask opacity").locator("visible=true").first
    number.fill("0.9")
    number.press("Enter")
    number.locator("xpath=ancestor::*[contains(@class,'block')][1]").locator("input[type=range]").dispatch_event("pointerup")
    page.wait_for_function("([s]) => [...document.querySelectorAll('img')].some(i => i.offsetParent && "
                           "i.src.includes('instances') && i.src !== s)", arg=[source])
    assert _summary(page).inner_text().split("Time")[0] == first.split("Time")[0]  # same instances, new drawing


def test_text_generation_streams_coloured_tokens_and_lists_alternatives(page):
    _tab(page, "Text generation")
    page.get_by_role("button", name="Generate").click()
    summary = _wait_for_text(page, _summary(page), r"tokens\*?\*? in .* tokens/s")
    assert "nucleus" in summary
    assert page.locator("[data-testid='highlighted-text:textfield'] span:visible").count() > 5
    assert _column(page, "Tokens and the alternatives the model weighed", "top alternatives")


def test_translation_first_load_neural_engine_and_swap(page):
    _tab(page, "Machine translation")
    first = _wait_for_text(page, _summary(page), r"Round-trip chrF \d")
    assert "English → Spanish" in first and "route en → es" in first
    assert "committee" in page.locator("#back-translation").inner_text().lower()  # the back-translation, with its diff
    page.get_by_label("Neural (English ↔ Spanish)").check()
    page.get_by_role("button", name="Translate", exact=True).click()
    _wait_for_text(page, _summary(page), r"by the neural model")
    page.get_by_role("button", name="⇄").click()  # Spanish -> English, the translation becomes the text
    page.get_by_role("button", name="Translate", exact=True).click()
    _wait_for_text(page, _summary(page), r"Spanish → English .*by the neural model")
    _no_error_pills(page)


def test_spam_tab_shows_a_verdict_coloured_words_and_reads_an_uploaded_email(page):
    _tab(page, "Text classification")
    _wait_for_text(page, _summary(page), r"(spam|ham)\*?\*? \(\d+%\) says the fine-tuned MiniLM")
    assert page.locator("[data-testid='highlighted-text:textfield'] span:visible").count() > 10
    page.locator("#email-upload input[type=file]").set_input_files(str(EXAMPLES_DIR / "text_classification" / "spam.eml"))
    _wait_for_text(page, _summary(page), r"\*?\*?spam\*?\*? \(\d+%\)")
    assert page.get_by_label("E-mail text").input_value().startswith("From ")  # the raw file; headers are skipped
    page.get_by_label("TF-IDF + logistic regression (baseline)").check()
    _wait_for_text(page, _summary(page), r"says the TF-IDF baseline")
    _no_error_pills(page)
