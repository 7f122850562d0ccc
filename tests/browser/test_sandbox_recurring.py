"""The Stripe sandbox's recurring pages in headless Chromium, mounted in the app as in development:
subscription-mode Checkout, the hosted invoice page after a declined renewal, the Billing Portal.
Screenshots at phone and desktop size go to GOODLOOP_SCREENSHOTS_DIR or `.screenshots/`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from playwright.sync_api import Browser, Page, ViewportSize, expect

from service.settings import SANDBOX_API_KEY, SANDBOX_PATH
from tests import databases
from tests.browser.conftest import PHONE
from tests.browser.screenshots import screenshots_dir
from tests.campaigns.giving.sandboxed import sandbox_settings
from tests.live_server import free_port, serve

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
SIZES = {"phone": PHONE, "desktop": DESKTOP}


@pytest.fixture
def site(sqlite_template: Path, tmp_path: Path) -> Iterator[str]:
    database_url = databases.copy_sqlite_template(sqlite_template, tmp_path)
    port = free_port()
    with serve(sandbox_settings(database_url, tmp_path / "data", port), port=port) as url:
        yield url


def _client(site: str) -> stripe.StripeClient:
    base = site + SANDBOX_PATH
    return stripe.StripeClient(
        SANDBOX_API_KEY,
        base_addresses={"api": base, "connect": base, "files": base},
        http_client=stripe.HTTPXClient(allow_sync_methods=True),
        max_network_retries=0,
    )


def _control(site: str, path: str, body: dict[str, Any] | None = None) -> Any:
    response = httpx.post(f"{site}{SANDBOX_PATH}/_control/{path}", json=body or {}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _session_url(client: stripe.StripeClient, site: str) -> str:
    session = client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "eur",
                        "unit_amount": 1_000,
                        "product_data": {"name": "Monthly gift to Clean Rivers"},
                        "recurring": {"interval": "month"},
                    },
                }
            ],
            "customer_email": "ada@example.org",
            "success_url": site + "/?session={CHECKOUT_SESSION_ID}",
            "cancel_url": site + "/",
        }
    )
    assert session.url is not None
    return session.url


def _shoot(browser: Browser, url: str, name: str, check: str) -> None:
    for size, viewport in SIZES.items():
        phone = size == "phone"
        context = browser.new_context(
            viewport=viewport, device_scale_factor=2 if phone else 1, is_mobile=phone
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
        page.goto(url)
        expect(page.get_by_text(check, exact=False).first).to_be_visible()
        page.screenshot(path=screenshots_dir() / f"sandbox-{name}-{size}.png", full_page=True)
        context.close()
        assert errors == [], errors


@pytest.mark.browser
class TestSandboxRecurringPages:
    def test_checkout_invoice_and_portal_pages(self, browser: Browser, site: str, page: Page) -> None:
        client = _client(site)
        checkout_url = _session_url(client, site)
        _shoot(browser, checkout_url, "checkout-subscription", "€10.00 per month")

        page.goto(checkout_url)
        page.get_by_role("button", name="Subscribe").click()
        expect(page).to_have_url(re.compile(re.escape(site) + r"/\?session=cs_test_"))
        session_id = page.url.rsplit("=", 1)[1]
        subscription = client.v1.checkout.sessions.retrieve(session_id).subscription
        assert isinstance(subscription, str)

        renewed = _control(site, f"subscriptions/{subscription}/renew", {"outcome": "fail"})
        invoice = client.v1.invoices.retrieve(renewed["object"]["latest_invoice"])
        assert invoice.hosted_invoice_url is not None
        _shoot(browser, invoice.hosted_invoice_url, "hosted-invoice", "€10.00 due")

        customer = client.v1.subscriptions.retrieve(subscription).customer
        portal = client.v1.billing_portal.sessions.create(
            {"customer": str(customer), "return_url": site + "/"}
        )
        _shoot(browser, portal.url, "billing-portal", "Manage your giving")

        page.goto(invoice.hosted_invoice_url)
        page.get_by_label("Card number").fill("5555 5555 5555 4444")
        page.get_by_role("button", name="Pay €10.00").click()
        expect(page.get_by_text("€10.00 paid")).to_be_visible()

        page.goto(portal.url)
        page.get_by_role("button", name="Cancel subscription").click()
        expect(page.get_by_text("Cancel this subscription?")).to_be_visible()
        page.screenshot(path=screenshots_dir() / "sandbox-billing-portal-confirm-phone.png", full_page=True)
        page.get_by_role("button", name="Cancel subscription").click()
        expect(page.get_by_text("Cancels on")).to_be_visible()
        assert client.v1.subscriptions.retrieve(subscription).cancel_at_period_end is True
