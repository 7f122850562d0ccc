"""GET /api/v1/recurring-gifts and /recurring-gifts/figures (tenant-isolated), the dashboard's
Recurring page, and how MRR and churn are counted."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx

from campaigns.recurring import figures
from campaigns.recurring.models import Interval, RecurringGift, RecurringStatus
from service.db import Database
from service.settings import Settings
from tests.builders import Org, insert_admin, live_campaign, sign_up, verify
from tests.campaigns.dashboard.helpers import log_in
from tests.webhooks.builders import LiveCampaign, deliver, process_all
from tests.webhooks.recurring_events import insert_recurring_donation


async def org_with_campaign(client: httpx.AsyncClient, database: Database) -> tuple[Org, LiveCampaign]:
    org = await sign_up(client)
    admin = await insert_admin(database)
    await verify(client, admin, org)
    campaign = await live_campaign(client, org, admin)
    return org, LiveCampaign(
        id=uuid.UUID(campaign["id"]), nonprofit_id=uuid.UUID(org.id), currency=campaign["currency"]
    )


async def start(
    client: httpx.AsyncClient,
    database: Database,
    settings: Settings,
    campaign: LiveCampaign,
    *,
    amount_minor: int,
    interval: str,
    email: str,
) -> None:
    gift = await insert_recurring_donation(
        database, campaign, amount_minor=amount_minor, interval=interval, email=email
    )
    for evt in gift.started_events():
        assert (await deliver(client, evt, settings.webhook_secret)).status_code == 200
    await process_all(database)


class TestApi:
    async def test_lists_the_nonprofits_gifts_and_their_figures(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        org, campaign = await org_with_campaign(client, database)
        await start(
            client, database, settings, campaign, amount_minor=1000, interval="month", email="ada@example.org"
        )
        await start(
            client, database, settings, campaign, amount_minor=12_500, interval="year", email="bo@example.org"
        )

        listed = await client.get("/api/v1/recurring-gifts", headers=org.headers)
        shown = await client.get("/api/v1/recurring-gifts/figures", headers=org.headers)

        assert listed.status_code == 200, listed.text
        gifts = {g["donor_email"]: g for g in listed.json()["data"]}
        assert set(gifts) == {"ada@example.org", "bo@example.org"}
        assert gifts["ada@example.org"]["interval"] == "month"
        assert gifts["ada@example.org"]["installments_paid"] == 1
        assert gifts["bo@example.org"]["monthly_minor"] == 1041  # 12500 // 12
        assert {g["status"] for g in gifts.values()} == {"active"}
        [row] = shown.json()["data"]
        assert row["campaign_id"] == str(campaign.id)
        assert (row["active_donors"], row["mrr_minor"], row["currency"]) == (2, 1000 + 1041, "eur")

    async def test_another_nonprofit_sees_none_of_them(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        _, campaign = await org_with_campaign(client, database)
        other, _ = await org_with_campaign(client, database)
        await start(
            client, database, settings, campaign, amount_minor=1000, interval="month", email="ada@example.org"
        )

        listed = await client.get("/api/v1/recurring-gifts", headers=other.headers)
        shown = await client.get("/api/v1/recurring-gifts/figures", headers=other.headers)

        assert listed.json() == {"data": []}
        assert shown.json() == {"data": []}

    async def test_without_an_api_key_it_is_401(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/recurring-gifts")

        assert response.status_code == 401
        assert response.json()["error"]

    async def test_a_bad_filter_is_a_clear_422(self, client: httpx.AsyncClient, database: Database) -> None:
        org, _ = await org_with_campaign(client, database)

        response = await client.get("/api/v1/recurring-gifts?status=paused", headers=org.headers)

        assert response.status_code == 422
        assert "status" in response.text


class TestDashboard:
    async def test_the_recurring_page_shows_mrr_and_the_gifts(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        org, campaign = await org_with_campaign(client, database)
        await start(
            client, database, settings, campaign, amount_minor=1000, interval="month", email="ada@example.org"
        )
        await log_in(client, org.email)

        page = await client.get("/dashboard/recurring")

        assert page.status_code == 200, page.text
        assert 'data-figure="mrr">€10.00' in page.text
        assert "ada@example.org" in page.text
        assert 'data-status="active"' in page.text


def gift(
    *,
    status: RecurringStatus,
    started_days_ago: int,
    stopped_days_ago: int | None = None,
    amount_minor: int = 1000,
    interval: Interval = Interval.MONTH,
    email: str | None = None,
) -> RecurringGift:
    now = NOW
    return RecurringGift(
        id=uuid.uuid4(),
        campaign_id=CAMPAIGN,
        currency="eur",
        amount_minor=amount_minor,
        fee_cover_minor=0,
        interval=interval,
        status=status,
        donor_email=email or f"{uuid.uuid4().hex[:6]}@example.org",
        started_at=now - timedelta(days=started_days_ago),
        canceled_at=now - timedelta(days=stopped_days_ago) if stopped_days_ago is not None else None,
    )


NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)
CAMPAIGN = uuid.uuid4()


class TestFigures:
    def test_mrr_counts_a_yearly_gift_for_a_twelfth_and_leaves_stopped_ones_out(self) -> None:
        gifts = [
            gift(status=RecurringStatus.ACTIVE, started_days_ago=5),
            gift(status=RecurringStatus.PAST_DUE, started_days_ago=5, amount_minor=2000),
            gift(
                status=RecurringStatus.ACTIVE, started_days_ago=5, amount_minor=12_011, interval=Interval.YEAR
            ),
            gift(status=RecurringStatus.CANCELED, started_days_ago=50, stopped_days_ago=3),
        ]

        [row] = figures.by_campaign(gifts, now=NOW)

        assert row.mrr_minor == 1000 + 2000 + 1000
        assert row.active_donors == 3

    def test_churn_is_stopped_since_over_running_thirty_days_ago(self) -> None:
        gifts = [
            gift(status=RecurringStatus.ACTIVE, started_days_ago=60),
            gift(status=RecurringStatus.ACTIVE, started_days_ago=45),
            gift(status=RecurringStatus.CANCELED, started_days_ago=90, stopped_days_ago=10),
            gift(status=RecurringStatus.ENDED, started_days_ago=40, stopped_days_ago=2),
            gift(status=RecurringStatus.CANCELED, started_days_ago=90, stopped_days_ago=40),  # gone before
            gift(status=RecurringStatus.ACTIVE, started_days_ago=3),  # new since
        ]

        [row] = figures.by_campaign(gifts, now=NOW)

        assert (row.canceled_last_30_days, row.active_30_days_ago) == (2, 4)
        assert row.churn_bps == 5000

    def test_a_gift_canceled_at_period_end_churns_when_it_ends(self) -> None:
        # Asked 40 days ago, ended yesterday: it was running 30 days ago and stopped since.
        asked_long_ago = gift(status=RecurringStatus.CANCELED, started_days_ago=90, stopped_days_ago=40)
        asked_long_ago.ended_at = NOW - timedelta(days=1)

        [row] = figures.by_campaign(
            [asked_long_ago, gift(status=RecurringStatus.ACTIVE, started_days_ago=60)], now=NOW
        )

        assert (row.canceled_last_30_days, row.active_30_days_ago) == (1, 2)
        assert row.churn_bps == 5000

    def test_no_churn_figure_without_gifts_running_thirty_days_ago(self) -> None:
        [row] = figures.by_campaign([gift(status=RecurringStatus.ACTIVE, started_days_ago=3)], now=NOW)

        assert row.churn_bps is None
