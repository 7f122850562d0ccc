"""Migration f6a7b8c9d0e1 backfills campaigns.matched_minor from the matches already made."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign, CampaignStatus
from campaigns.matching.models import FunderKind, Match, MatchingProgram, MatchStatus, Policy
from campaigns.nonprofits.models import Nonprofit, NonprofitStatus
from migrations.runner import downgrade, upgrade
from service.db import create_engine
from tests import databases

BEFORE = "e5f6a7b8c9d0"
AT = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture(params=databases.BACKENDS)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    server = databases.postgres_url_or_skip()
    url, name = databases.fresh_postgres_database(server)
    yield url
    databases.drop_postgres_database(server, name)


def _campaign(nonprofit_id: uuid.UUID, slug: str) -> Campaign:
    return Campaign(
        nonprofit_id=nonprofit_id,
        slug=slug,
        title=slug,
        story_markdown="s",
        story_html="<p>s</p>",
        currency="eur",
        goal_minor=100_000,
        min_amount_minor=100,
        status=CampaignStatus.LIVE,
        created_at=AT,
        updated_at=AT,
    )


def _match(
    program: MatchingProgram, campaign: Campaign, n: int, status: MatchStatus, amount: int, back: int
) -> Match:
    return Match(
        key=f"{program.id}:campaign:{campaign.id}:{n}",
        program_id=program.id,
        campaign_id=campaign.id,
        nonprofit_id=campaign.nonprofit_id,
        currency="eur",
        amount_minor=amount,
        original_minor=amount,
        recovered_minor=back,
        status=status,
        hold_until=AT,
        created_at=AT,
        updated_at=AT,
    )


async def test_backfill_counts_pending_held_approved_and_paid_net_of_clawbacks(empty_db_url: str) -> None:
    engine = create_engine(empty_db_url)
    try:
        await upgrade(engine)
        async with AsyncSession(engine) as session, session.begin():
            nonprofit = Nonprofit(
                name="Harbor",
                contact_email="h@harbor.org",
                country="IE",
                registration_number="CHY 1",
                website="https://harbor.org",
                status=NonprofitStatus.VERIFIED,
                created_at=AT,
            )
            session.add(nonprofit)
            await session.flush()
            matched, quiet = _campaign(nonprofit.id, "matched"), _campaign(nonprofit.id, "quiet")
            program = MatchingProgram(
                name="Winter",
                funder_kind=FunderKind.PLATFORM,
                funder_name="Goodloop",
                currency="eur",
                budget_minor=100_000,
                starts_at=AT,
                ends_at=AT + timedelta(days=30),
                min_donation_minor=0,
                allow_partial=True,
                hold_days=7,
                max_risk_score=65,
                verified_nonprofits_only=True,
                policy=Policy.FIXED_RATIO,
                policy_params={"policy": "fixed_ratio", "ratio_bps": 10_000},
                held_minor=0,
                reserved_minor=6_000,
                paid_minor=4_000,
                recovered_minor=500,
                returned_minor=0,
                created_at=AT,
            )
            session.add_all([matched, quiet, program])
            await session.flush()
            rows = [
                (MatchStatus.PENDING, 1_000, 0),
                (MatchStatus.HELD_FOR_REVIEW, 2_000, 0),
                (MatchStatus.APPROVED, 3_000, 0),
                (MatchStatus.PAID, 4_000, 500),
                (MatchStatus.VOIDED, 7_000, 0),
            ]
            session.add_all(_match(program, matched, n, *row) for n, row in enumerate(rows))
        # Back to the schema before the column, then forward again: the backfill runs on these rows.
        await downgrade(engine, BEFORE)
        await upgrade(engine)
        async with engine.connect() as conn:
            found = dict((await conn.execute(sa.text("SELECT slug, matched_minor FROM campaigns"))).all())
    finally:
        await engine.dispose()

    assert found == {"matched": 1_000 + 2_000 + 3_000 + 4_000 - 500, "quiet": 0}
