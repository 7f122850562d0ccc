"""Receipts issued from donation facts: one per confirmed gift with an email, numbered gapless
per nonprofit and year, emailed once with its PDF; corrections after refunds and lost disputes."""

from __future__ import annotations

import uuid

import httpx

from campaigns.receipts.models import ReceiptKind
from service.db import Database
from service.settings import Settings
from tests.campaigns.receipts.helpers import (
    NL_PROFILE,
    US_PROFILE,
    disputed,
    email_all,
    flat,
    issuer,
    paid,
    pdf_text,
    pending_gift,
    receipts,
    refunded,
    send,
)
from tests.mail_server import SmtpServer, attachments, parts
from tests.webhooks.stripe_events import event


class TestReceipt:
    async def test_a_confirmed_gift_gets_its_receipt_by_email_with_the_pdf(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        org = await issuer(client, database, profile=NL_PROFILE)
        gift = await pending_gift(
            database, org.campaign, amount_minor=2500, fee_cover_minor=59, language="nl"
        )
        await send(client, database, settings, paid(gift, method="ideal"))

        [receipt] = await receipts(database)
        assert await email_all(database) == 1
        [message] = await smtp_server.deliver(database)

        number = receipt.display_number
        assert number == f"{receipt.year}-000001"
        assert message["To"] == "anna@example.org"
        assert number in message["Subject"] and "Stichting Warme Jassen" in message["Subject"]
        text, html = parts(message)
        for body in (flat(text), flat(html)):
            assert number in body
            assert "€ 25,59" in body
            assert "Inclusief € 0,59 die je toevoegde voor de transactiekosten." in body
            assert "iDEAL" in body
            assert "RSIN" in body and "111222333" in body
            assert "algemeen nut beogende instelling (ANBI)" in body
        [(filename, content_type, content)] = attachments(message)
        assert (filename, content_type) == (f"ontvangstbewijs-{number}.pdf", "application/pdf")
        pdf = flat(pdf_text(content))
        assert number in pdf
        assert "€ 25,59" in pdf
        assert "Inclusief € 0,59" in pdf
        assert "Stichting Warme Jassen" in pdf
        assert "Anna de Vries" in pdf
        assert "algemeen nut beogende instelling (ANBI), RSIN 111222333" in pdf

    async def test_replayed_events_issue_and_email_one_receipt(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        org = await issuer(client, database, profile=US_PROFILE)
        gift = await pending_gift(database, org.campaign)
        events = paid(gift)
        await send(client, database, settings, events)
        await email_all(database)
        # Stripe delivers again (new deliveries of the same events) and the worker runs again.
        for evt in events:
            evt["id"] = f"evt_{uuid.uuid4().hex}"
        await send(client, database, settings, events + events)
        await email_all(database)

        assert len(await receipts(database)) == 1
        delivered = await smtp_server.deliver(database)
        assert len(delivered) == 1
        text, _ = parts(delivered[0])
        assert "501(c)(3)" in text and "EIN 12-3456789" in text

    async def test_without_the_donors_language_the_issuers_country_decides(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        dutch = await issuer(client, database, profile=NL_PROFILE)
        american = await issuer(client, database, profile=US_PROFILE)
        gifts = [
            await pending_gift(database, dutch.campaign, language=None),
            await pending_gift(database, american.campaign, language=None),
            await pending_gift(database, dutch.campaign, language="en"),
        ]
        for gift in gifts:
            await send(client, database, settings, paid(gift))

        by_donation = {str(r.donation_id): r.language for r in await receipts(database)}
        assert [by_donation[g.donation_id] for g in gifts] == ["nl", "en", "en"]

    async def test_a_charge_that_arrives_after_the_confirmation_still_names_the_payment_method(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        org = await issuer(client, database)
        gift = await pending_gift(database, org.campaign, language="en")
        charge_event, session_event = paid(gift, method="bancontact")
        await send(client, database, settings, [session_event])
        await send(client, database, settings, [charge_event])
        await email_all(database)

        [receipt] = await receipts(database)
        assert receipt.payment_method == "bancontact"
        [message] = await smtp_server.deliver(database)
        text, _ = parts(message)
        assert "Payment method: Bancontact" in text
        [(_, _, content)] = attachments(message)
        assert "Bancontact" in pdf_text(content)

    async def test_a_gift_without_an_email_gets_no_receipt(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        org = await issuer(client, database)
        gift = await pending_gift(database, org.campaign, email="")
        session = gift.checkout_session()
        session["customer_details"]["email"] = None

        await send(client, database, settings, [event("checkout.session.completed", session)])

        assert await receipts(database) == []


class TestCorrection:
    async def test_a_partial_refund_sends_a_corrected_receipt_referring_to_the_original(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        org = await issuer(client, database, profile=US_PROFILE)
        gift = await pending_gift(database, org.campaign, amount_minor=5000, language="en")
        await send(client, database, settings, paid(gift))
        await send(client, database, settings, refunded(gift, 2000))
        await email_all(database)

        original, correction = await receipts(database)
        assert (original.kind, correction.kind) == (ReceiptKind.RECEIPT, ReceiptKind.CORRECTION)
        assert correction.refers_to_id == original.id
        assert (original.number, correction.number) == (1, 2)
        assert (original.amount_minor, correction.amount_minor) == (5000, 3000)
        first, second = await smtp_server.deliver(database)
        assert original.display_number in first["Subject"]
        assert second["Subject"].startswith(f"Corrected receipt {correction.display_number}")
        [(_, _, content)] = attachments(second)
        pdf = flat(pdf_text(content))
        assert "Corrected donation receipt" in pdf
        assert f"Replaces receipt {original.display_number}" in pdf
        assert "Corrected amount €30.00" in pdf
        assert "Amount on that receipt €50.00" in pdf
        assert "501(c)(3)" in pdf

    async def test_each_larger_refund_sends_one_more_correction_with_the_net_gift(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        org = await issuer(client, database)
        gift = await pending_gift(database, org.campaign, amount_minor=5000)
        await send(client, database, settings, paid(gift))
        first = refunded(gift, 1000)
        await send(client, database, settings, first)
        await send(client, database, settings, refunded(gift, 4000, total_minor=5000))
        # A replay of the first refund changes nothing.
        for evt in first:
            evt["id"] = f"evt_{uuid.uuid4().hex}"
        await send(client, database, settings, first)

        found = await receipts(database)
        assert [(r.kind, r.number, r.amount_minor) for r in found] == [
            (ReceiptKind.RECEIPT, 1, 5000),
            (ReceiptKind.CORRECTION, 2, 4000),
            (ReceiptKind.CORRECTION, 3, 0),
        ]
        assert {r.refers_to_id for r in found[1:]} == {found[0].id}

    async def test_a_lost_dispute_sends_a_corrected_receipt_and_a_won_one_nothing(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        org = await issuer(client, database, profile=NL_PROFILE)
        lost = await pending_gift(
            database, org.campaign, amount_minor=3000, email="lost@example.org", language="en"
        )
        won = await pending_gift(database, org.campaign, amount_minor=2000, email="won@example.org")
        await send(client, database, settings, paid(lost) + paid(won))
        await send(client, database, settings, disputed(lost, "lost") + disputed(won, "won"))
        await email_all(database)

        corrections = await receipts(database, kind=ReceiptKind.CORRECTION)
        assert [(c.donor_email, c.amount_minor) for c in corrections] == [("lost@example.org", 0)]
        messages = await smtp_server.deliver(database)
        assert sorted(m["To"] for m in messages) == [
            "lost@example.org",
            "lost@example.org",
            "won@example.org",
        ]
        [correction] = [m for m in messages if m["Subject"].startswith("Corrected")]
        text, _ = parts(correction)
        assert "dispute with your bank" in flat(text)


class TestReceiptList:
    async def test_a_nonprofit_lists_its_own_receipts_page_by_page(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        org = await issuer(client, database, profile=NL_PROFILE)
        other = await issuer(client, database, profile=US_PROFILE)
        gifts = [await pending_gift(database, org.campaign, amount_minor=1000 * (i + 1)) for i in range(3)]
        theirs = await pending_gift(database, other.campaign, email="kim@example.org")
        for gift in [*gifts, theirs]:
            await send(client, database, settings, paid(gift))
        await send(client, database, settings, refunded(gifts[0], 400))
        year = (await receipts(database))[0].year

        first = await client.get("/api/v1/receipts", params={"limit": 3}, headers=org.org.headers)
        assert first.status_code == 200, first.text
        cursor = first.json()["next_cursor"]
        rest = await client.get(
            "/api/v1/receipts", params={"limit": 3, "cursor": cursor}, headers=org.org.headers
        )
        listed = first.json()["data"] + rest.json()["data"]

        assert rest.json()["next_cursor"] is None
        assert sorted(r["number"] for r in listed) == [f"{year}-00000{n}" for n in range(1, 5)]
        [correction] = [r for r in listed if r["kind"] == "correction"]
        assert (correction["amount_minor"], correction["refers_to"]) == (600, f"{year}-000001")
        assert "kim@example.org" not in first.text + rest.text
        other_year = await client.get("/api/v1/receipts", params={"year": year + 1}, headers=org.org.headers)
        assert other_year.json()["data"] == []
