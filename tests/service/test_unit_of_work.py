"""The unit of work an edge opens: it finishes its own work before commit and carries the clock."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from campaigns.campaign.models import Campaign, CampaignStatus
from campaigns.donations import settlement
from campaigns.donations.models import Donation, DonationStatus
from campaigns.donations.repository import DonationRef
from campaigns.nonprofits.models import Nonprofit, NonprofitStatus
from service import ledger
from service.clock import SettableClock
from service.db import Database

AT = datetime(2091, 5, 17, 9, 30, tzinfo=UTC)
"""Far from any system clock: a timestamp on it was written from the unit's clock."""


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    db = Database.from_url(db_url, clock=SettableClock(AT))
    yield db
    await db.dispose()


async def _campaign_with_gifts(database: Database) -> tuple[uuid.UUID, uuid.UUID]:
    """A live campaign whose stored totals are stale (zero) beside one confirmed gift of 25.00,
    and a pending gift; returns (campaign id, pending donation id)."""
    nonprofit_id, campaign_id, pending_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with database.transaction() as session:
        session.add(
            Nonprofit(
                id=nonprofit_id,
                name="Totals",
                contact_email="owner@totals.example.org",
                country="IE",
                registration_number="CHY 1",
                website="https://totals.example.org",
                status=NonprofitStatus.VERIFIED,
            )
        )
        await session.flush()
        session.add(
            Campaign(
                id=campaign_id,
                nonprofit_id=nonprofit_id,
                slug=f"c-{campaign_id.hex[:12]}",
                title="Totals",
                story_markdown="A story.",
                story_html="<p>A story.</p>",
                currency="eur",
                goal_minor=100_000,
                min_amount_minor=100,
                status=CampaignStatus.LIVE,
            )
        )
        await session.flush()
        for donation_id, status in (
            (uuid.uuid4(), DonationStatus.CONFIRMED),
            (pending_id, DonationStatus.PENDING),
        ):
            session.add(
                Donation(
                    id=donation_id,
                    campaign_id=campaign_id,
                    nonprofit_id=nonprofit_id,
                    amount_minor=2_500,
                    fee_cover_minor=0,
                    currency="eur",
                    donor_email="donor@example.org",
                    status=status,
                )
            )
    return campaign_id, pending_id


async def _totals(database: Database, campaign_id: uuid.UUID) -> tuple[int, int]:
    async with database.transaction() as session:
        campaign = await session.get_one(Campaign, campaign_id)
        return campaign.raised_minor, campaign.donor_count


class TestFinish:
    async def test_a_touched_campaigns_totals_are_refreshed_without_the_caller_asking(
        self, database: Database
    ) -> None:
        campaign_id, pending_id = await _campaign_with_gifts(database)
        assert await _totals(database, campaign_id) == (0, 0)

        async with database.transaction() as session:
            # A use case that touches the campaign, and nothing else: no refresh call.
            await settlement.mark_processing(session, ref=DonationRef(donation_id=pending_id))

        assert await _totals(database, campaign_id) == (2_500, 1)

    async def test_an_untouched_campaign_keeps_its_totals(self, database: Database) -> None:
        campaign_id, _ = await _campaign_with_gifts(database)

        async with database.transaction() as session:
            await session.get_one(Campaign, campaign_id)

        assert await _totals(database, campaign_id) == (0, 0)

    async def test_queued_postings_are_written_before_commit(self, database: Database) -> None:
        async with database.transaction() as session:
            ledger.defer_postings(session)
            await ledger.post(session, _posting("uow-test:1"))

        async with database.transaction() as session:
            assert await ledger.balance(session, code="uow-test:to", currency="eur") == 700

    async def test_after_commit_work_is_dropped_when_the_unit_rolls_back(self, database: Database) -> None:
        ran: list[str] = []

        async def failing() -> None:
            async with database.transaction() as session:
                session.after_commit(lambda: ran.append("rolled back"))
                raise RuntimeError("the unit fails")

        with pytest.raises(RuntimeError):
            await failing()
        async with database.transaction() as session:
            session.after_commit(lambda: ran.append("committed"))
            assert ran == []
        assert ran == ["committed"]


class TestClock:
    async def test_rows_and_transfers_are_stamped_from_the_units_clock(self, database: Database) -> None:
        clock = database.clock
        assert isinstance(clock, SettableClock)
        campaign_id, pending_id = await _campaign_with_gifts(database)
        later = clock.advance(timedelta(days=3))

        async with database.transaction() as session:
            await settlement.mark_processing(session, ref=DonationRef(donation_id=pending_id))
            await ledger.post(session, _posting("uow-test:2"))

        async with database.transaction() as session:
            donation = await session.get_one(Donation, pending_id)
            assert (donation.created_at, donation.updated_at) == (AT, later)
            campaign = await session.get_one(Campaign, campaign_id)
            assert (campaign.created_at, campaign.updated_at) == (AT, later)
            stamped = await session.scalar(
                sa.select(ledger.LedgerTransfer.created_at).where(
                    ledger.LedgerTransfer.idempotency_key == "uow-test:2"
                )
            )
            assert stamped == later

    async def test_a_second_change_at_the_same_instant_keeps_the_units_time(self, database: Database) -> None:
        # The first flush stamps updated_at with the clock's instant; a later change in the same
        # unit at the same instant sets the value the row already holds. Without writing it
        # anyway, the column's onupdate would stamp the system's time (found by the season
        # simulator: paid matches dated today).
        clock = database.clock
        assert isinstance(clock, SettableClock)
        _, pending_id = await _campaign_with_gifts(database)
        later = clock.advance(timedelta(hours=7))

        async with database.transaction() as session:
            donation = await session.get_one(Donation, pending_id)
            donation.risk_score = 11
            await session.flush()
            donation.risk_score = 13

        async with database.transaction() as session:
            donation = await session.get_one(Donation, pending_id)
            assert (donation.risk_score, donation.updated_at) == (13, later)

    async def test_an_update_statement_on_a_mapped_class_is_stamped_too(self, database: Database) -> None:
        clock = database.clock
        assert isinstance(clock, SettableClock)
        _, pending_id = await _campaign_with_gifts(database)
        later = clock.advance(timedelta(hours=5))

        async with database.transaction() as session:
            await session.execute(sa.update(Donation).where(Donation.id == pending_id).values(risk_score=12))

        async with database.transaction() as session:
            donation = await session.get_one(Donation, pending_id)
            assert (donation.risk_score, donation.updated_at) == (12, later)


def _posting(key: str) -> ledger.Posting:
    return ledger.Posting(
        idempotency_key=key,
        debit="uow-test:from",
        credit="uow-test:to",
        amount_minor=700,
        currency="eur",
        code="uow_test",
    )
