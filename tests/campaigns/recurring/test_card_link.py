"""/recurring/card/{token}: the failed-payment email's link shows a button (a mail scanner's GET
opens nothing), whose POST opens Stripe's Billing Portal for the gift's customer (a Stripe call
outside any transaction, idempotency-keyed); an unknown token or a stopped gift gets a page that
says so."""

from __future__ import annotations

import re

import httpx
import sqlalchemy as sa

from campaigns.recurring.models import RecurringGift, RecurringStatus
from service.db import Database
from service.mail.models import MailMessage
from service.settings import Settings
from tests.campaigns.giving.stripe_double import StripeDouble
from tests.webhooks.builders import create_live_campaign, deliver, process_all
from tests.webhooks.recurring_events import MONTH, T0, insert_recurring_donation
from tests.webhooks.stripe_events import event


async def failed_gift(client: httpx.AsyncClient, database: Database, settings: Settings) -> tuple[str, str]:
    """A monthly gift whose second installment failed; (the card link's path, the customer id)."""
    campaign = await create_live_campaign(client, database)
    gift = await insert_recurring_donation(database, campaign, amount_minor=1000)
    second = gift.installment()
    failed = event(
        "invoice.payment_failed",
        second.invoice(status="open", attempt_count=1, next_payment_attempt=T0 + MONTH + 86400),
        created=T0 + MONTH,
    )
    for evt in [*gift.started_events(), failed]:
        assert (await deliver(client, evt, settings.webhook_secret)).status_code == 200
    await process_all(database)
    async with database.transaction() as session:
        texts = (await session.scalars(sa.select(MailMessage.text))).all()
    [link] = [
        m.group(0) for text in texts if (m := re.search(r"http://testserver(/recurring/card/\S+)", text))
    ]
    return link.removeprefix("http://testserver"), gift.customer_id


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


class TestCardLink:
    async def test_following_the_link_only_shows_a_button(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, stripe_double: StripeDouble
    ) -> None:
        path, _ = await failed_gift(client, database, settings)

        response = await client.get(path)

        assert response.status_code == 200
        assert "Update card" in response.text
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert [c for c in stripe_double.calls if c.path == "/v1/billing_portal/sessions"] == []
        refused = await client.post(path, data={})
        assert refused.status_code == 403
        assert [c for c in stripe_double.calls if c.path == "/v1/billing_portal/sessions"] == []

    async def test_the_button_asks_stripe_for_a_portal_session_of_the_gifts_customer(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, stripe_double: StripeDouble
    ) -> None:
        path, customer_id = await failed_gift(client, database, settings)
        shown = await client.get(path)

        response = await client.post(path, data={"csrf_token": csrf_of(shown.text)})

        [call] = [c for c in stripe_double.calls if c.path == "/v1/billing_portal/sessions"]
        assert call.method == "POST"
        assert call.params["customer"] == customer_id
        assert call.params["return_url"].startswith("http://testserver/c/")
        assert call.idempotency_key is not None and call.idempotency_key.startswith("recurring:")
        # The double does not fake the portal: Stripe being unavailable is a clear page, not a 500.
        assert response.status_code == 503
        assert "nothing changed" in response.text
        assert response.headers["Referrer-Policy"] == "no-referrer"

    async def test_an_unknown_token_is_a_404_page(
        self, client: httpx.AsyncClient, stripe_double: StripeDouble
    ) -> None:
        response = await client.get("/recurring/card/not-a-real-token")

        assert response.status_code == 404
        assert "does not work" in response.text
        assert stripe_double.calls == []

    async def test_a_stopped_gift_has_no_card_to_update(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, stripe_double: StripeDouble
    ) -> None:
        path, _ = await failed_gift(client, database, settings)
        async with database.transaction() as session:
            await session.execute(sa.update(RecurringGift).values(status=RecurringStatus.CANCELED))

        response = await client.get(path)

        assert response.status_code == 410
        assert not [c for c in stripe_double.calls if c.path == "/v1/billing_portal/sessions"]
