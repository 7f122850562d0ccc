"""The wall of support: display names, anonymous and hidden amounts, the keyword screen,
the nonprofit's hide and show (API and dashboard), tenant isolation, reports on a message."""

from __future__ import annotations

import html
import re
import uuid

import httpx
import sqlalchemy as sa

from campaigns.donations.models import Donation, MessageStatus
from campaigns.moderation.models import CampaignReport
from service.audit import AuditEntry
from service.db import Database
from service.settings import Settings
from service.web import tokens
from tests import builders
from tests.campaigns.giving.helpers import donate_form, live
from tests.campaigns.giving.wall_helpers import checkout, give
from tests.exports.builders import paid_donation
from tests.webhooks.builders import LiveCampaign


def _wall(page: str) -> str:
    match = re.search(r'<ol id="supporter-list".*?</ol>', page, re.S)
    assert match is not None, "the page has no wall of support"
    return html.unescape(match.group(0))


async def _donation(database: Database, donation_id: str) -> Donation:
    async with database.transaction() as session:
        donation = await session.get(Donation, uuid.UUID(donation_id))
    assert donation is not None
    return donation


class TestDisplayName:
    async def test_name_is_stored_and_shown_with_amount_and_message(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        campaign = await live(client, database)
        out = await give(
            client, database, settings, campaign["slug"], name="  Ada Lovelace ", message="Keep them warm!"
        )

        donation = await _donation(database, out["donation_id"])
        wall = _wall((await client.get(f"/c/{campaign['slug']}")).text)

        assert donation.donor_name == "Ada Lovelace"
        assert out["message_status"] == "shown"
        assert "Ada Lovelace" in wall and "€25.00" in wall and "Keep them warm!" in wall
        assert "just now" in wall
        assert "A supporter" not in wall

    async def test_anonymous_hides_the_name_but_keeps_the_message(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        campaign = await live(client, database)
        await give(
            client, database, settings, campaign["slug"], name="Grace Hopper", anonymous=True, message="Go!"
        )

        wall = _wall((await client.get(f"/c/{campaign['slug']}")).text)

        assert "Grace Hopper" not in wall
        assert "Anonymous" in wall and "Go!" in wall

    async def test_no_name_shows_anonymous(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        campaign = await live(client, database)
        await give(client, database, settings, campaign["slug"])

        wall = _wall((await client.get(f"/c/{campaign['slug']}")).text)

        assert "Anonymous" in wall and "€25.00" in wall

    async def test_hidden_amount_is_not_on_the_wall(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        campaign = await live(client, database)
        await give(
            client, database, settings, campaign["slug"], amount_minor=4321, name="Quiet", hide_amount=True
        )

        wall = _wall((await client.get(f"/c/{campaign['slug']}")).text)

        assert "Quiet" in wall and "43.21" not in wall

    async def test_name_rules_are_the_message_rules_plus_length(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        slug = campaign["slug"]

        too_long = await checkout(client, slug, name="x" * 81)
        blank = await checkout(client, slug, name="   ")
        control = await checkout(client, slug, name="Ada\x00")

        for response in (too_long, blank, control):
            assert response.status_code == 422, response.text
            assert response.json()["error"] == "validation_failed"
            assert "name" in response.json()["fields"]

    async def test_donate_form_carries_name_and_hide_amount(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)

        response = await donate_form(
            client, campaign["slug"], amount="25", name=" Form Donor ", hide_amount="on", anonymous="on"
        )

        assert response.status_code == 303
        async with database.transaction() as session:
            donation = await session.scalar(sa.select(Donation).where(Donation.donor_name == "Form Donor"))
        assert donation is not None and donation.hide_amount and donation.anonymous

    async def test_donate_form_shows_a_name_error_next_to_the_field(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)

        response = await donate_form(client, campaign["slug"], amount="25", name="n" * 81)

        assert response.status_code == 422
        assert 'id="name-error"' in response.text
        assert 'aria-describedby="name-error"' in response.text

    async def test_form_asks_amount_then_name_then_email_then_message(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)

        page = (await client.get(f"/c/{campaign['slug']}")).text
        positions = [
            page.index(marker) for marker in ('name="amount"', 'id="name"', 'id="email"', 'id="message"')
        ]

        assert positions == sorted(positions)
        assert "Your name" in page and "(shown with your gift)" in page and "Give anonymously" in page


class TestScreen:
    async def test_flagged_message_is_pending_and_not_public(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        campaign = await live(client, database)
        out = await give(
            client, database, settings, campaign["slug"], name="Sam", message="Send money to my IBAN instead"
        )

        wall = _wall((await client.get(f"/c/{campaign['slug']}")).text)

        assert out["message_status"] == "pending"
        assert "IBAN" not in wall and "Sam" not in wall
        assert "Anonymous" in wall and "€25.00" in wall  # the gift still counts

    async def test_flagged_name_is_pending_too(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        campaign = await live(client, database)
        out = await give(client, database, settings, campaign["slug"], name="Bitcoin Giveaway King")

        assert out["message_status"] == "pending"
        assert (await _donation(database, out["donation_id"])).message_status is MessageStatus.PENDING


class TestNonprofitModeration:
    async def test_lists_messages_with_flags_and_shows_a_pending_one(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        campaign = await live(client, database)
        org: builders.Org = campaign["_org"]
        out = await give(client, database, settings, campaign["slug"], name="Sam", message="wire transfer me")

        listed = await client.get(
            f"/api/v1/campaigns/{campaign['id']}/messages?status=pending", headers=org.headers
        )
        shown = await client.post(
            f"/api/v1/campaigns/{campaign['id']}/messages/{out['donation_id']}/show", headers=org.headers
        )
        wall = _wall((await client.get(f"/c/{campaign['slug']}")).text)

        assert listed.status_code == 200
        [message] = listed.json()["data"]
        assert message["status"] == "pending" and message["flags"][0]["term"] == "wire transfer"
        assert shown.status_code == 200 and shown.json()["status"] == "shown"
        assert "Sam" in wall and "wire transfer me" in wall

    async def test_hide_takes_name_and_message_off_the_wall_and_is_audited(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        campaign = await live(client, database)
        org: builders.Org = campaign["_org"]
        out = await give(client, database, settings, campaign["slug"], name="Loud", message="Hello world")

        hidden = await client.post(
            f"/api/v1/campaigns/{campaign['id']}/messages/{out['donation_id']}/hide", headers=org.headers
        )
        page = await client.get(f"/c/{campaign['slug']}/supporters")
        async with database.transaction() as session:
            entries = (
                await session.scalars(
                    sa.select(AuditEntry).where(AuditEntry.subject_id == out["donation_id"])
                )
            ).all()

        assert hidden.status_code == 200 and hidden.json()["status"] == "hidden"
        wall = _wall(page.text)
        assert "Loud" not in wall and "Hello world" not in wall and "Anonymous" in wall
        assert [e.action for e in entries] == ["donation.message_hidden"]

    async def test_other_tenant_gets_404(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        campaign = await live(client, database)
        out = await give(client, database, settings, campaign["slug"], name="Mine", message="Hi")
        other = await builders.sign_up(client)

        listed = await client.get(f"/api/v1/campaigns/{campaign['id']}/messages", headers=other.headers)
        hidden = await client.post(
            f"/api/v1/campaigns/{campaign['id']}/messages/{out['donation_id']}/hide", headers=other.headers
        )

        assert listed.status_code == 404 and hidden.status_code == 404
        assert (await _donation(database, out["donation_id"])).message_status is MessageStatus.SHOWN

    async def test_a_donation_of_another_campaign_is_404(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        campaign = await live(client, database)
        org: builders.Org = campaign["_org"]
        second = await builders.live_campaign(client, org, campaign["_admin"], slug="second-campaign")
        out = await give(client, database, settings, second["slug"], name="Elsewhere", message="Hi")

        response = await client.post(
            f"/api/v1/campaigns/{campaign['id']}/messages/{out['donation_id']}/hide", headers=org.headers
        )

        assert response.status_code == 404
        assert response.json()["error"] == "message_not_found"


class TestReports:
    async def test_anyone_can_report_a_message_and_the_nonprofit_sees_it(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        campaign = await live(client, database)
        org: builders.Org = campaign["_org"]
        out = await give(client, database, settings, campaign["slug"], name="Troll", message="rude words")
        url = f"/c/{campaign['slug']}/supporters/{out['donation_id']}/report"

        form = await client.get(url)
        token = re.search(r'name="form_token" value="([^"]+)"', form.text)
        assert form.status_code == 200 and "rude words" in form.text and token is not None
        sent = await client.post(
            url, data={"form_token": html.unescape(token.group(1)), "reason": "offensive"}
        )
        listed = await client.get(f"/api/v1/campaigns/{campaign['id']}/messages", headers=org.headers)
        async with database.transaction() as session:
            report = await session.scalar(sa.select(CampaignReport))

        assert sent.status_code == 200 and 'id="report-sent"' in sent.text
        assert report is not None and str(report.donation_id) == out["donation_id"]
        assert str(report.campaign_id) == campaign["id"]
        assert listed.json()["data"][0]["open_reports"] == 1
        admin: builders.AdminUser = campaign["_admin"]
        moderators = await client.get("/api/v1/admin/reports", headers=admin.headers)
        assert [r["donation_id"] for r in moderators.json()["data"]] == [out["donation_id"]]

    async def test_report_without_form_token_is_refused(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        campaign = await live(client, database)
        out = await give(client, database, settings, campaign["slug"], name="Troll", message="rude words")

        sent = await client.post(
            f"/c/{campaign['slug']}/supporters/{out['donation_id']}/report", data={"reason": "offensive"}
        )

        assert sent.status_code == 403
        async with database.transaction() as session:
            assert await session.scalar(sa.select(sa.func.count()).select_from(CampaignReport)) == 0

    async def test_reports_are_rate_limited_per_network(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        campaign = await live(client, database)
        out = await give(client, database, settings, campaign["slug"], name="Troll", message="rude words")
        url = f"/c/{campaign['slug']}/supporters/{out['donation_id']}/report"
        form = await client.get(url)
        token = html.unescape(re.findall(r'name="form_token" value="([^"]+)"', form.text)[0])

        statuses = [
            (await client.post(url, data={"form_token": token, "reason": "spam"})).status_code
            for _ in range(6)
        ]

        assert statuses == [200] * 5 + [429]

    async def test_a_pending_message_cannot_be_reported(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        campaign = await live(client, database)
        out = await give(client, database, settings, campaign["slug"], message="my paypal.me link")

        response = await client.get(f"/c/{campaign['slug']}/supporters/{out['donation_id']}/report")

        assert response.status_code == 404

    async def test_a_gift_without_words_of_its_own_cannot_be_reported_by_url(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        # The wall shows no Report link for it (Supporter.reportable): nothing the donor wrote.
        campaign = await live(client, database)
        out = await give(client, database, settings, campaign["slug"])
        url = f"/c/{campaign['slug']}/supporters/{out['donation_id']}/report"
        token = tokens.form_token(
            settings.secret_key, f"report-message:{campaign['slug']}:{out['donation_id']}"
        )

        page = await client.get(url)
        sent = await client.post(url, data={"form_token": token, "reason": "spam"})

        assert page.status_code == 404
        assert sent.status_code == 404
        async with database.transaction() as session:
            assert await session.scalar(sa.select(sa.func.count()).select_from(CampaignReport)) == 0


class TestPagedWall:
    async def test_campaign_page_shows_ten_newest_and_links_to_all(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        campaign = await live(client, database)
        target = LiveCampaign(
            id=uuid.UUID(campaign["id"]), nonprofit_id=uuid.UUID(campaign["_org"].id), currency="eur"
        )
        # Past checkout (and its per-browser limit): pending donations paid by signed webhooks.
        for i in range(12):
            await paid_donation(
                client, database, settings, target, amount_minor=1000, donor_name=f"Donor {i:02d}"
            )

        wall = _wall((await client.get(f"/c/{campaign['slug']}")).text)
        full = _wall((await client.get(f"/c/{campaign['slug']}/supporters")).text)

        assert wall.count('class="supporter"') == 10
        assert "Donor 11" in wall and "Donor 00" not in wall
        assert wall.index("Donor 11") < wall.index("Donor 10")
        assert full.count('class="supporter"') == 12 and "Donor 00" in full
