"""Yearly statements: one donor's gifts to one nonprofit in one year, net of refunds, with their
receipt numbers and the nonprofit's tax text; the portal's receipt list and receipt PDFs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest

from campaigns.receipts import repository, service, statements
from campaigns.receipts.errors import ReceiptNotFound
from service.clock import SettableClock
from service.db import Database
from service.settings import Settings
from tests.campaigns.receipts.helpers import (
    NL_PROFILE,
    US_PROFILE,
    flat,
    issuer,
    paid,
    pdf_text,
    pending_gift,
    receipts,
    refunded,
    send,
)


class TestYearlyStatement:
    async def test_the_statement_lists_the_years_gifts_net_of_refunds(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        org = await issuer(client, database, profile=US_PROFILE)
        other = await issuer(client, database, profile=NL_PROFILE)
        first = await pending_gift(
            database, org.campaign, amount_minor=5000, email="sam@example.org", name="Sam Lee"
        )
        second = await pending_gift(
            database, org.campaign, amount_minor=2000, email="sam@example.org", name="Sam Lee"
        )
        elsewhere = await pending_gift(database, other.campaign, amount_minor=9900, email="sam@example.org")
        someone_else = await pending_gift(database, org.campaign, amount_minor=7700, email="kim@example.org")
        await send(
            client, database, settings, paid(first) + paid(second) + paid(elsewhere) + paid(someone_else)
        )
        await send(client, database, settings, refunded(first, 1500))
        found = {(str(r.donation_id), r.kind.value): r.display_number for r in await receipts(database)}
        year = (await receipts(database))[0].year

        async with database.transaction() as session:
            pdf = await statements.yearly_statement_pdf(
                session,
                email="Sam@Example.org",
                nonprofit_id=org.campaign.nonprofit_id,
                year=year,
                language="en",
            )
        text = flat(pdf_text(pdf))

        assert f"Yearly statement {year}" in text
        assert "Warm Coats Inc." in text and "EIN: 12-3456789" in text and "Sam Lee" in text
        assert found[(first.donation_id, "receipt")] in text
        assert found[(first.donation_id, "correction")] in text
        assert found[(second.donation_id, "receipt")] in text
        assert f"Total given in {year} €55.00" in text
        assert "€99.00" not in text and "€77.00" not in text
        assert "Section 501(c)(3)" in text

    async def test_a_year_without_gifts_says_so_in_the_donors_language(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        org = await issuer(client, database, profile=NL_PROFILE)
        gift = await pending_gift(database, org.campaign, email="sam@example.org")
        await send(client, database, settings, paid(gift))
        clock = SettableClock(datetime(2031, 3, 1, tzinfo=UTC))
        later = Database.from_url(settings.database_url, clock=clock)
        try:
            async with later.transaction() as session:
                pdf = await statements.yearly_statement_pdf(
                    session,
                    email="sam@example.org",
                    nonprofit_id=org.campaign.nonprofit_id,
                    year=2030,
                    language="nl",
                )
        finally:
            await later.dispose()

        text = flat(pdf_text(pdf))
        assert "Jaaroverzicht 2030" in text
        assert "In 2030 hebben we geen giften van je ontvangen." in text
        assert "algemeen nut beogende instelling (ANBI)" in text


class TestForThePortal:
    async def test_a_donors_receipts_across_nonprofits_and_each_pdf(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        first = await issuer(client, database, profile=NL_PROFILE)
        second = await issuer(client, database, profile=US_PROFILE)
        mine = [
            await pending_gift(database, first.campaign, email="sam@example.org"),
            await pending_gift(database, second.campaign, email="sam@example.org"),
        ]
        theirs = await pending_gift(database, first.campaign, email="kim@example.org")
        await send(client, database, settings, paid(mine[0]) + paid(mine[1]) + paid(theirs))

        async with database.transaction() as session:
            found = await repository.receipts_for_email(session, " SAM@example.org")
            pdfs = [await service.receipt_pdf(session, r.id) for r in found]
            with pytest.raises(ReceiptNotFound):
                await service.receipt_pdf(session, uuid.uuid4())

        assert {str(r.donation_id) for r in found} == {g.donation_id for g in mine}
        assert {r.nonprofit_id for r in found} == {first.campaign.nonprofit_id, second.campaign.nonprofit_id}
        for receipt, pdf in zip(found, pdfs, strict=True):
            assert receipt.display_number in pdf_text(pdf)
