"""The sandbox mailbox in headless Chromium: captured mail reads as its recipient would see it,
its links are absolute, and the mailbox clears; screenshots at phone and desktop size."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from playwright.sync_api import Page, expect

from service.db import Database
from service.mail import outbox
from service.mail.compose import compose
from service.mail.sender import send_due
from service.mail.transports import MailboxTransport
from tests.browser.conftest import LiveServer
from tests.browser.screenshots import screenshots_dir


def capture(live_server: LiveServer) -> None:
    """Enqueue two emails and run the sender the way development does (into the mailbox)."""

    async def run() -> None:
        db = Database.from_url(live_server.database_url)
        try:
            for key, language, to in (
                ("a", "en", "sam@example.org"),
                ("b", "nl", "anna.de.vries@example.nl"),
            ):
                rendered = compose(
                    "mailbox",
                    "sample",
                    language=language,
                    name="Anna",
                    amount_minor=5000,
                    currency="eur",
                    day=date(2026, 12, 5),
                )
                pdf = outbox.Attachment("ontvangstbewijs-2026-000001.pdf", "application/pdf", b"%PDF-1.7\n")
                async with db.transaction() as session:
                    await outbox.enqueue(session, key=key, email=rendered.email(to=to, attachments=(pdf,)))
            await send_due(db, MailboxTransport(db), mail_from="Goodloop <receipts@goodloop.test>")
        finally:
            await db.dispose()

    # Playwright's sync API keeps an event loop running on this thread; use another one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run()).result()


class TestMailbox:
    def test_a_captured_message_reads_as_received_and_the_mailbox_clears(
        self, page: Page, live_server: LiveServer
    ) -> None:
        capture(live_server)
        page.goto(live_server.url("/_sandbox/mail"))
        expect(page.get_by_role("heading", name="Mailbox")).to_be_visible()
        page.screenshot(path=str(screenshots_dir() / "mailbox-list-phone.png"), full_page=True)

        page.get_by_role("link", name="anna.de.vries@example.nl").click()
        expect(page.get_by_role("heading", name="Een bericht van Goodloop")).to_be_visible()
        frame = page.frame_locator("iframe.mailbox-frame")
        expect(frame.get_by_role("heading", name="Hallo Anna,")).to_be_visible()
        expect(page.get_by_role("link", name="ontvangstbewijs-2026-000001.pdf")).to_be_visible()
        page.screenshot(path=str(screenshots_dir() / "mailbox-message-phone.png"), full_page=True)
        # Absolute, on the public base URL; the frame's <base target="_blank"> opens it in a new tab
        # (clicking it from Playwright is unreliable: the frame may run no script, not even Playwright's).
        expect(frame.get_by_role("link", name="Open Goodloop")).to_have_attribute(
            "href", live_server.url("/")
        )

        page.set_viewport_size({"width": 1280, "height": 900})
        expect(page.get_by_role("link", name="sam@example.org")).to_be_visible()  # the list beside it
        page.screenshot(path=str(screenshots_dir() / "mailbox-message-desktop.png"))

        page.get_by_role("button", name="Clear mailbox").click()
        expect(page.get_by_text("Mailbox cleared (2 messages).")).to_be_visible()
        expect(page.get_by_text("No mail yet.")).to_be_visible()
