"""Task 09 end to end in a real browser (the fixtures and helpers of test_e2e_browser.py): the first
load shows an existing user's recommendations, and a visitor who rates a movie gets their own at once,
can hide one they are not interested in, and starts again from an example."""
from __future__ import annotations

from test_e2e_browser import _no_error_pills, _summary, _tab, _toast, _wait_for_text  # noqa: F401
from test_e2e_browser import browser, page  # noqa: F401 - fixtures

TAB = "Recommender"


def _rows(tab_page) -> list[str]:
    """The titles in the recommendations table, as the page shows them."""
    return tab_page.get_by_label("Recommendations (click a row to pick it)").first.evaluate("""el => {
        const head = [...el.querySelectorAll('th[title]')].find(th => th.title === 'title');
        if (!head) return [];
        return [...el.querySelectorAll(`[role=gridcell][data-col="${head.dataset.heading}"]`)].map(c => c.innerText.trim());
    }""")


def test_first_load_shows_recommendations_with_reasons_and_the_history(page):  # noqa: F811
    _tab(page, TAB)
    summary = _wait_for_text(page, _summary(page), r"movies for user 5 ")
    assert "hybrid" in summary and "handling the request on the server" in summary
    page.wait_for_function("el => el.querySelectorAll('[role=gridcell]').length >= 60",
                           arg=page.get_by_label("Recommendations (click a row to pick it)").first.element_handle())
    assert len([t for t in _rows(page) if t]) == 10
    page.locator(".js-plotly-plot:visible").first.wait_for()  # the genre profile
    assert page.get_by_label("Rating history (newest first)").first.inner_text().strip()
    _no_error_pills(page)


def test_a_new_user_rates_a_movie_and_gets_recommendations_at_once(page):  # noqa: F811
    _tab(page, TAB)
    _wait_for_text(page, _summary(page), r"movies for user 5 ")
    page.get_by_label("me: I rate a few movies").first.check()
    page.get_by_role("button", name="Add my rating").click()
    assert "pick a movie" in _toast(page)  # nothing chosen yet: a clear message, the last result stays
    search = page.get_by_label("Find a movie (type part of its title)").first
    search.click()
    search.press_sequentially("shining", delay=60)
    page.locator("ul.option-list li", has_text="Shining, The (1980)").first.click()
    page.get_by_role("button", name="Add my rating").click()
    summary = _wait_for_text(page, _summary(page), r"movies for you \(1 rating\)")
    assert "hybrid" in summary
    first = _rows(page)[0]
    page.get_by_role("button", name="Not interested", exact=True).click()  # the first one is picked
    _wait_for_text(page, _summary(page), r"1 hidden")
    assert first not in _rows(page)
    page.get_by_label("Or start from an example").first.click()
    page.locator("ul.option-list li", has_text="Family animation").first.click()
    _wait_for_text(page, _summary(page), r"movies for you \(5 ratings\)")
    _no_error_pills(page)
