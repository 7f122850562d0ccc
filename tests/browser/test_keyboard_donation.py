"""Issue #19: the whole donation by keyboard alone, in headless Chromium against the app with its
Stripe sandbox and worker. Tab, Shift+Tab, the arrow keys, Space and Enter take a donor from
the campaign page's donate form (frequency, amount radio group, other amount, fee cover, name,
anonymity, email, message, Donate) through the sandbox Checkout's Pay button to the thank-you
page. At every stop the focused element shows a focus indicator (a computed outline or box
shadow on it or on the label that wraps it), and the form's controls come in order, none
skipped. Screenshots of the focus states at 390x844 go to the screenshots folder."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests import databases
from tests.browser.screenshots import screenshots_dir
from tests.browser.test_donor_flows import Site
from tests.campaigns.giving.sandboxed import sandbox_settings
from tests.live_server import free_port, serve

DONOR = "ada.keyboard@example.org"
# The donate form's stops, in the order Tab reaches them (a radio group is one stop).
FORM_STOPS = [
    "radio:frequency",
    "radio:amount",
    "text:custom_amount",
    "checkbox:cover_fees",
    "text:name",
    "checkbox:anonymous",
    "checkbox:hide_amount",
    "email:email",
    "textarea:message",
    "submit:donate",
]

# What the keyboard is on, and whether a person can see it: the element (or the label that
# wraps it, for inputs drawn as chips) has a visible outline or a box shadow, and takes space.
FOCUS_STATE = """() => {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) return null;
    const kind = el.tagName === 'INPUT' ? (el.type || 'text') : el.tagName.toLowerCase();
    const name = el.classList.contains('donate-button') ? 'donate' : (el.name || el.id || '');
    const shows = (node) => {
        if (!node) return false;
        const style = getComputedStyle(node);
        const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
        const shadow = style.boxShadow && style.boxShadow !== 'none';
        return outline || shadow;
    };
    const label = el.closest('label');
    const box = (label || el).getBoundingClientRect();
    return {
        stop: (kind === 'submit' || kind === 'button' ? 'submit' : kind) + ':' + name,
        text: (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 40),
        visible: shows(el) || shows(label),
        sized: box.width > 0 && box.height > 0,
        inForm: !!el.closest('#donate-form'),
        checked: !!el.checked,
        value: el.value || '',
    };
}"""


@pytest.fixture
def site(sqlite_template: Path, tmp_path: Path) -> Iterator[Site]:
    database_url = databases.copy_sqlite_template(sqlite_template, tmp_path)
    port = free_port()
    with serve(sandbox_settings(database_url, tmp_path / "data", port), port=port, run_worker=True) as url:
        yield Site(url=url, database_url=database_url)


def keyboard_context(browser: Browser) -> BrowserContext:
    # A phone-sized window without touch: a keyboard user on a small screen (or zoomed in).
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    context.set_default_timeout(15_000)
    return context


def focus(page: Page) -> dict[str, Any]:
    state: dict[str, Any] | None = page.evaluate(FOCUS_STATE)
    if state is None:
        where = page.evaluate(
            "() => document.activeElement ? document.activeElement.outerHTML.slice(0, 200) : 'none'"
        )
        raise AssertionError(f"focus fell off to {where} on {page.url}")
    return state


def press(page: Page, key: str) -> dict[str, Any]:
    page.keyboard.press(key)
    state = focus(page)
    assert state["visible"], f"{key} moved focus to {state} on {page.url}, with no visible focus indicator"
    assert state["sized"], f"{key} moved focus to {state}, which takes no space on the screen"
    return state


def tab_to(page: Page, stop: str, *, limit: int = 80) -> list[dict[str, Any]]:
    """Tab forward until `stop` has focus; every element passed on the way shows its focus."""
    passed: list[dict[str, Any]] = []
    for _ in range(limit):
        state = press(page, "Tab")
        passed.append(state)
        if state["stop"] == stop:
            return passed
    raise AssertionError(f"{stop} never got focus by Tab on {page.url}; passed {[p['stop'] for p in passed]}")


def walk(page: Page, *, limit: int = 60) -> None:
    """Tab through the whole page once (until focus leaves it); every stop shows its focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        state: dict[str, Any] | None = page.evaluate(FOCUS_STATE)
        if state is None:
            return
        assert state["visible"], f"Tab moved focus to {state} on {page.url}, with no visible focus indicator"


def shoot(page: Page, name: str) -> None:
    page.screenshot(path=str(screenshots_dir() / f"focus-{name}-390.png"))


def checked(page: Page, name: str) -> str | None:
    value: str | None = page.evaluate(
        "(name) => { const c = document.querySelector(`input[name=${name}]:checked`);"
        " return c ? c.value : null; }",
        name,
    )
    return value


@pytest.mark.browser
class TestKeyboardOnlyDonation:
    @pytest.mark.parametrize("lang", ["en", "nl"])
    def test_a_donor_gives_with_the_keyboard_alone_and_always_sees_the_focus(
        self, browser: Browser, site: Site, lang: str
    ) -> None:
        slug = site.live_campaign(origins=[])
        context = keyboard_context(browser)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{site.url}/c/{slug}?lang={lang}")
        page.wait_for_load_state("load")

        # From the top of the page to the form: everything on the way shows its focus.
        tab_to(page, FORM_STOPS[0])
        shoot(page, f"frequency-{lang}")
        # A radio group is one stop; the arrows move within it and choose.
        assert checked(page, "frequency") == "once"
        assert press(page, "ArrowRight")["value"] == "monthly"
        assert press(page, "ArrowLeft")["value"] == "once"
        assert checked(page, "frequency") == "once"

        amount = press(page, "Tab")
        assert amount["stop"] == "radio:amount", amount
        first_amount = amount["value"]
        shoot(page, f"amount-{lang}")
        second = press(page, "ArrowRight")
        assert second["stop"] == "radio:amount" and second["value"] != first_amount
        assert checked(page, "amount") == second["value"]

        # Forward through the rest of the form in order; Shift+Tab goes back one stop.
        seen = [amount["stop"]]
        for expected in FORM_STOPS[2:]:
            state = press(page, "Tab")
            seen.append(state["stop"])
            assert state["stop"] == expected, f"expected {expected} after {seen[:-1]}, got {state}"
            if expected == "checkbox:cover_fees":
                assert press(page, "Space")["checked"], "Space did not tick the fee cover"
                shoot(page, f"cover-fees-{lang}")
            elif expected == "text:name":
                page.keyboard.type("Ada")
            elif expected == "email:email":
                page.keyboard.type(DONOR)
                assert press(page, "Shift+Tab")["stop"] == "checkbox:hide_amount"
                assert press(page, "Tab")["stop"] == "email:email"
        shoot(page, f"donate-{lang}")

        # Enter on Donate opens the sandbox Checkout; its Pay button is reached by Tab.
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(re.escape(site.url) + r"/_sandbox/stripe/checkout/"))
        page.wait_for_load_state("load")
        pay = tab_to(page, "submit:action")
        while pay[-1]["text"] not in ("Pay", "Subscribe"):
            pay.append(press(page, "Tab"))
        shoot(page, f"pay-{lang}")
        page.keyboard.press("Enter")

        expect(page).to_have_url(re.compile(rf"/c/{slug}/thanks\?donation="))
        page.wait_for_load_state("load")
        expect(page.locator("h1")).to_be_visible()
        # The thank-you page, too, can be walked with every stop visible.
        walk(page)
        shoot(page, f"thanks-{lang}")
        paid = site.donations()
        assert len(paid) == 1 and paid[0].donor_email == DONOR
        assert errors == []
        context.close()
