"""The shared layout and error pages in a real Chromium, in both languages (issue #19): the skip
link is the first stop of the keyboard and takes it to the content; a 404 speaks the visitor's
language. Screenshots at phone and desktop sizes land in .screenshots/ for a person to look at."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.screenshots import screenshots_dir

pytestmark = pytest.mark.browser

SIZES = {"phone": (390, 844), "desktop": (1280, 900)}


@pytest.mark.parametrize(
    ("lang", "skip", "heading", "sentence"),
    [
        ("nl", "Naar de inhoud", "Niet gevonden", "Deze pagina bestaat niet, of is er niet meer."),
        ("en", "Skip to content", "Not found", "This page does not exist, or is no longer here."),
    ],
)
def test_not_found_page_and_skip_link(
    live_server: LiveServer, page: Page, lang: str, skip: str, heading: str, sentence: str
) -> None:
    response = page.goto(live_server.url(f"/no-such-page?lang={lang}"))

    assert response is not None and response.status == 404
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.locator(".error-detail")).to_have_text(sentence)
    skip_link = page.get_by_role("link", name=skip)
    # Out of sight until the keyboard reaches it: the first Tab does.
    box = skip_link.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 0
    page.keyboard.press("Tab")
    expect(skip_link).to_be_focused()
    box = skip_link.bounding_box()
    assert box is not None and box["y"] >= 0 and box["height"] >= 24
    for name, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(screenshots_dir() / f"shared-404-skip-{lang}-{name}.png"))
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
