"""Screenshots of every tab at desktop (1366 px) and phone (390 px) width, as a visitor sees them.

    .venv/bin/python scripts/screenshots.py            # launches the app on a free port
    .venv/bin/python scripts/screenshots.py --url http://127.0.0.1:7860/ --out build/screenshots

Writes <out>/<width>_<nn>_<tab>.png (full page), after each tab's first-load results have
appeared, and prints what a visitor should never see on one of them (an "Error" badge, an error
message, a table with placeholder headers "1 2 3", a server path). Exits 1 if it found any.
Needs Chromium (Debian `chromium`); Playwright drives it.
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


# What a visitor should never see, checked in the page: (description, JavaScript returning a count)
PROBLEMS = [
    ("an Error badge over an output", "document.querySelectorAll('.wrap.full > span.error').length"),
    ("an error message", "[...document.querySelectorAll('[data-testid=toast-body]')].length"),
    ("a table with placeholder headers 1 2 3", "[...document.querySelectorAll('table')].filter(t => t.offsetParent && "
     "[...t.querySelectorAll('thead th')].map(th => th.innerText.trim()).join(' ') === '1 2 3').length"),
    ("a server path", "(document.body.innerText.match(/\\/tmp\\/gradio|Traceback/g) || []).length"),
]


def problems(page) -> list[str]:
    """What, of PROBLEMS, the page shows now."""
    return [description for description, count in PROBLEMS if page.evaluate(f"() => {count}")]


def take(url: str, out: Path, browser) -> tuple[list[Path], list[str]]:
    """Visit every top-level tab at each width in `browser` (Playwright) and save a full-page
    screenshot of it; return the paths and the problems seen ("<screenshot>: <problem>")."""
    out.mkdir(parents=True, exist_ok=True)
    written, seen = [], []
    for label, (width, height) in WIDTHS.items():
        page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1,
                                is_mobile=label == "phone", has_touch=label == "phone")
        page.set_default_timeout(60_000)
        page.goto(url)
        page.locator(".tab-wrapper").first.wait_for()
        names = tab_names()
        for number, name in enumerate(names):
            _open_tab(page, name)
            _wait_until_idle(page)
            path = out / f"{label}_{number:02d}_{_slug(name)}.png"
            page.screenshot(path=str(path), full_page=True)
            written.append(path)
            seen += [f"{path.name}: {problem}" for problem in problems(page)]
        page.close()
    return written, seen


def tab_names() -> list[str]:
    """The app's top-level tabs, in order (as app.build_app names them)."""
    from core.registry import TASKS

    return ["Overview"] + [spec.title for spec in sorted(TASKS.values(), key=lambda s: s.number)] + ["Metrics"]


def _wait_until_idle(page) -> None:
    """Until no event is pending (Gradio shows a progress bar or "processing" while one is)."""
    page.wait_for_timeout(500)
    page.wait_for_function("!document.querySelector('.eta-bar, .progress-text, .wrap.pending')", timeout=60_000)
    page.wait_for_function("[...document.querySelectorAll('.result-summary')].filter(e => e.offsetParent)"
                           ".every(e => e.innerText.trim())", timeout=60_000)  # first-load results are in
    page.wait_for_timeout(1000)  # plots finish their first draw


def _open_tab(page, name: str) -> None:
    """Click a top-level tab, through the overflow menu when the tab bar is too narrow to show it."""
    tab = page.locator(".tab-wrapper").first.get_by_role("tab", name=name, exact=True)
    if tab.count() and tab.is_visible():
        tab.click()
        return
    page.locator(".tab-wrapper").first.locator(".overflow-menu button").first.click()
    page.locator(".overflow-dropdown button", has_text=name).first.click()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running app (default: launch one)")
    parser.add_argument("--out", type=Path, default=Path("build/screenshots"))
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    demo = None
    if not args.url:
        from core.settings import apply_offline_defaults

        apply_offline_defaults()
        import app as app_module

        demo = app_module.build_app()
        app_module.launch(demo, prevent_thread_lock=True, server_port=None, quiet=True)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            paths, seen = take(args.url or demo.local_url, args.out, browser)
            browser.close()
    finally:
        if demo is not None:
            demo.close()
    for path in paths:
        print(path)
    for problem in seen:
        print("PROBLEM", problem)
    sys.exit(1 if seen else 0)


if __name__ == "__main__":
    main()
