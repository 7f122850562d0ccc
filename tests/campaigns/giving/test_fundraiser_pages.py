"""The public fundraiser pages (#15), through HTTP only: start a page from the campaign, confirm
it from the email that arrived at the real SMTP server, the fundraiser and team pages, the
campaign page's block, signing in by email to edit, and what each refuses. On SQLite and
PostgreSQL (the `db_url` fixture)."""

from __future__ import annotations

import html
import io
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from PIL import Image

from campaigns.campaign.models import Campaign
from campaigns.fundraising.models import Fundraiser, FundraiserStatus, FundraiserTeam
from campaigns.moderation.models import CampaignReport
from campaigns.nonprofits.models import Nonprofit
from service.db import Database
from service.settings import Settings
from tests import builders
from tests.campaigns.giving.helpers import live
from tests.conftest import TEST_SECRET_KEY
from tests.mail_server import SmtpServer, parts

SUPPORTER = "Rosa.Runner@example.org"


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    # No page cache: each request reads what the previous one wrote.
    return Settings(
        database_url=db_url,
        secret_key=TEST_SECRET_KEY,
        public_base_url="http://testserver",
        data_dir=tmp_path / "data",
        log_json=False,
        public_page_ttl_s=0,
    )


def token_in(page: str, name: str = "form_token") -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert match is not None, f"no {name} on the page"
    return html.unescape(match.group(1))


async def start(client: httpx.AsyncClient, slug: str, **fields: str) -> httpx.Response:
    page = await client.get(f"/c/{slug}/fundraisers/new?lang=en")
    assert page.status_code == 200, page.text
    data = {
        "form_token": token_in(page.text),
        "name": "Rosa Runner",
        "email": SUPPORTER,
        "title": "I'm running 10 km for warm coats",
        "story": "Every kilometre is a coat. **Join me!**",
        "goal": "100",
        "team_choice": "create",
        "team_name": "Harbour Runners",
        **fields,
    }
    return await client.post(f"/c/{slug}/fundraisers/new?lang=en", data=data)


async def emailed_link(smtp_server: SmtpServer, database: Database, pattern: str) -> str:
    messages = await smtp_server.deliver(database)
    for message in reversed(messages):
        text, _ = parts(message)
        if match := re.search(rf"http://testserver({pattern}\S+)", text):
            return match.group(1)
    raise AssertionError(f"no email with a link like {pattern}")


async def fundraisers(database: Database) -> list[Fundraiser]:
    async with database.transaction() as session:
        return list((await session.scalars(sa.select(Fundraiser))).all())


async def started_and_confirmed(
    client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, slug: str
) -> str:
    """A live fundraiser page's path."""
    assert (await start(client, slug)).status_code == 303
    link = await emailed_link(smtp_server, database, f"/c/{slug}/fundraisers/confirm/")
    button = await client.get(link)
    confirmed = await client.post(link, data={"csrf_token": token_in(button.text, "csrf_token")})
    assert confirmed.status_code == 303, confirmed.text
    return httpx.URL(confirmed.headers["location"]).path


@pytest.fixture
async def campaign(client: httpx.AsyncClient, database: Database) -> dict[str, Any]:
    return await live(client, database, fundraisers_enabled=True)


class TestStartingAPage:
    async def test_the_campaign_page_invites_supporters_only_when_peer_to_peer_is_on(
        self, client: httpx.AsyncClient, database: Database, campaign: dict[str, Any]
    ) -> None:
        closed = await live(client, database)

        on = await client.get(f"/c/{campaign['slug']}?lang=en")
        off = await client.get(f"/c/{closed['slug']}?lang=en")
        refused = await client.get(f"/c/{closed['slug']}/fundraisers/new")

        assert 'id="start-fundraiser"' in on.text
        assert f"/c/{campaign['slug']}/fundraisers/new" in on.text
        assert 'id="start-fundraiser"' not in off.text
        assert refused.status_code == 404

    async def test_a_post_without_the_form_token_is_refused_and_writes_nothing(
        self, client: httpx.AsyncClient, database: Database, campaign: dict[str, Any]
    ) -> None:
        response = await start(client, campaign["slug"], form_token="forged")

        assert response.status_code == 403
        assert "This form expired" in response.text
        assert await fundraisers(database) == []

    async def test_missing_fields_are_named_next_to_each_field_and_typed_values_kept(
        self, client: httpx.AsyncClient, database: Database, campaign: dict[str, Any]
    ) -> None:
        response = await start(client, campaign["slug"], name="", email="not-an-email", goal="ten")

        assert response.status_code == 422
        assert 'id="name-error"' in response.text
        assert 'id="email-error"' in response.text or 'id="goal-error"' in response.text
        assert "Harbour Runners" in response.text
        assert await fundraisers(database) == []

    async def test_forms_sent_back_for_typos_do_not_use_up_the_addresss_tries(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, campaign: dict[str, Any]
    ) -> None:
        for _ in range(4):
            refused = await start(client, campaign["slug"], title="")
            assert refused.status_code == 422, refused.text

        assert (await start(client, campaign["slug"])).status_code == 303

    async def test_a_dutch_goal_with_a_decimal_comma_is_understood(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, campaign: dict[str, Any]
    ) -> None:
        page = await client.get(f"/c/{campaign['slug']}/fundraisers/new?lang=nl")
        assert "Start een inzamelingsactie" in page.text
        data = {
            "form_token": token_in(page.text),
            "name": "Rosa",
            "email": SUPPORTER,
            "title": "Ik loop 10 km voor warme jassen",
            "goal": "1.250,50",
            "team_choice": "none",
        }

        response = await client.post(f"/c/{campaign['slug']}/fundraisers/new?lang=nl", data=data)

        assert response.status_code == 303, response.text
        [made] = await fundraisers(database)
        assert made.goal_minor == 125_050

    async def test_the_page_is_public_only_after_the_emailed_link_is_confirmed_by_a_post(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, campaign: dict[str, Any]
    ) -> None:
        slug = campaign["slug"]
        sent = await start(client, slug)
        assert sent.status_code == 303
        check = await client.get(sent.headers["location"])
        assert "Check your email" in check.text
        [made] = await fundraisers(database)
        page = f"/c/{slug}/f/{made.slug}"
        assert (await client.get(page)).status_code == 404

        link = await emailed_link(smtp_server, database, f"/c/{slug}/fundraisers/confirm/")
        # A mail scanner fetching the link twice spends nothing.
        assert (await client.get(link)).status_code == 200
        button = await client.get(link)
        assert "Confirm my page" in button.text
        assert (await client.get(page)).status_code == 404
        confirmed = await client.post(link, data={"csrf_token": token_in(button.text, "csrf_token")})
        again = await client.post(link, data={"csrf_token": token_in(button.text, "csrf_token")})

        assert confirmed.status_code == 303
        assert httpx.URL(confirmed.headers["location"]).path == page
        assert again.status_code == 410
        assert (await client.get(page)).status_code == 200

    async def test_with_approval_required_a_confirmed_page_waits_for_the_nonprofit(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await live(client, database, fundraisers_enabled=True, fundraisers_need_approval=True)
        slug = campaign["slug"]
        assert (await start(client, slug)).status_code == 303
        link = await emailed_link(smtp_server, database, f"/c/{slug}/fundraisers/confirm/")
        button = await client.get(link)

        confirmed = await client.post(link, data={"csrf_token": token_in(button.text, "csrf_token")})

        assert confirmed.status_code == 200
        assert 'data-state="awaiting_approval"' in confirmed.text
        [made] = await fundraisers(database)
        assert made.status is FundraiserStatus.PENDING_APPROVAL
        assert (await client.get(f"/c/{slug}/f/{made.slug}")).status_code == 404


class TestLinksOfAnotherCampaign:
    async def test_a_confirm_link_under_another_campaigns_url_confirms_nothing_and_stays_good(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, campaign: dict[str, Any]
    ) -> None:
        other = await builders.live_campaign(
            client, campaign["_org"], campaign["_admin"], fundraisers_enabled=True
        )
        slug = campaign["slug"]
        assert (await start(client, slug)).status_code == 303
        link = await emailed_link(smtp_server, database, f"/c/{slug}/fundraisers/confirm/")
        button = await client.get(link)
        csrf = token_in(button.text, "csrf_token")

        wrong = await client.post(
            link.replace(f"/c/{slug}/", f"/c/{other['slug']}/"), data={"csrf_token": csrf}
        )

        assert wrong.status_code != 303
        [made] = await fundraisers(database)
        assert made.status is FundraiserStatus.PENDING_EMAIL
        right = await client.post(link, data={"csrf_token": csrf})
        assert right.status_code == 303
        assert httpx.URL(right.headers["location"]).path == f"/c/{slug}/f/{made.slug}"

    async def test_a_sign_in_link_under_another_campaigns_url_is_not_spent(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, campaign: dict[str, Any]
    ) -> None:
        other = await builders.live_campaign(
            client, campaign["_org"], campaign["_admin"], fundraisers_enabled=True
        )
        slug = campaign["slug"]
        await started_and_confirmed(client, database, smtp_server, slug)
        ask = await client.get(f"/c/{slug}/fundraisers/manage?lang=en")
        await client.post(
            f"/c/{slug}/fundraisers/manage/link?lang=en",
            data={"csrf_token": token_in(ask.text, "csrf_token"), "email": SUPPORTER},
        )
        link = await emailed_link(smtp_server, database, f"/c/{slug}/fundraisers/sign-in/")
        button = await client.get(link)
        csrf = token_in(button.text, "csrf_token")

        wrong = await client.post(
            link.replace(f"/c/{slug}/", f"/c/{other['slug']}/"), data={"csrf_token": csrf}
        )
        right = await client.post(link, data={"csrf_token": csrf})

        assert wrong.status_code == 410
        assert right.status_code == 303, right.text
        editor = await client.get(f"/c/{slug}/fundraisers/manage?lang=en")
        assert 'id="fundraiser-edit-form"' in editor.text


class TestTheFundraiserPage:
    async def test_it_names_the_nonprofit_as_the_receiver_and_donates_through_the_page(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, campaign: dict[str, Any]
    ) -> None:
        path = await started_and_confirmed(client, database, smtp_server, campaign["slug"])
        [made] = await fundraisers(database)

        page = await client.get(path + "?lang=en")

        assert page.status_code == 200
        assert page.headers["content-language"] == "en"
        assert "I&#39;m running 10 km for warm coats" in page.text
        assert "Rosa Runner never receives or handles the money" in page.text
        async with database.transaction() as session:
            organisation = await session.scalar(
                sa.select(Nonprofit.name).where(Nonprofit.id == uuid.UUID(campaign["nonprofit_id"]))
            )
        assert f"Every gift goes straight to {organisation}, a nonprofit Goodloop verified." in page.text
        assert f'<input type="hidden" name="fundraiser" value="{made.slug}">' in page.text
        assert f'action="/c/{campaign["slug"]}/donate"' in page.text
        assert f"http://testserver{path}</textarea>" in page.text
        assert '<meta property="og:title" content="I&#39;m running 10 km for warm coats">' in page.text
        assert "<strong>Join me!</strong>" in page.text
        assert "0 donors" in page.text
        # The list of gifts is not headed by a count it may contradict (members and flagged
        # gifts are listed but not counted as donors).
        assert "Gifts through this page" in page.text and "people gave" not in page.text
        assert "https://checkout.stripe.com" in page.headers["content-security-policy"]

    async def test_a_gift_from_a_page_hidden_a_moment_ago_comes_back_to_the_campaign_form(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, campaign: dict[str, Any]
    ) -> None:
        path = await started_and_confirmed(client, database, smtp_server, campaign["slug"])
        [made] = await fundraisers(database)
        page = await client.get(path + "?lang=en")
        async with database.transaction() as session:
            await session.execute(sa.update(Fundraiser).values(status=FundraiserStatus.HIDDEN))

        gift = await client.post(
            f"/c/{campaign['slug']}/donate",
            data={
                "form_token": token_in(page.text),
                "fundraiser": made.slug,
                "currency": campaign["currency"],
                "language": "en",
                "custom_amount": "25",
                "email": "donor@example.org",
            },
        )

        assert gift.status_code == 422, gift.text
        assert "The fundraiser page you came from no longer takes gifts." in gift.text
        assert 'name="fundraiser"' not in gift.text
        assert 'action="/c/' in gift.text

    async def test_it_reads_in_dutch(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, campaign: dict[str, Any]
    ) -> None:
        path = await started_and_confirmed(client, database, smtp_server, campaign["slug"])

        page = await client.get(path + "?lang=nl")

        assert '<html lang="nl">' in page.text
        assert "Rosa Runner ontvangt of beheert het geld nooit" in page.text
        assert "0 donateurs" in page.text
        assert "€\xa00,00" in page.text
        assert "2,9%" in page.text and "2.9%" not in page.text

    async def test_a_hidden_page_is_gone(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, campaign: dict[str, Any]
    ) -> None:
        path = await started_and_confirmed(client, database, smtp_server, campaign["slug"])
        async with database.transaction() as session:
            await session.execute(sa.update(Fundraiser).values(status=FundraiserStatus.HIDDEN))

        assert (await client.get(path)).status_code == 404

    async def test_the_team_page_and_the_campaign_block_list_the_page(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, campaign: dict[str, Any]
    ) -> None:
        slug = campaign["slug"]
        path = await started_and_confirmed(client, database, smtp_server, slug)

        campaign_page = await client.get(f"/c/{slug}?lang=en")
        fundraiser_page = await client.get(path + "?lang=en")
        team_link = re.search(r'href="(/c/[^"]+/t/[^"]+)" id="fundraiser-team"', fundraiser_page.text)
        assert team_link is not None
        team_page = await client.get(team_link.group(1) + "?lang=en")

        assert f'href="{path}"' in campaign_page.text
        assert 'id="board-list-people"' in campaign_page.text
        assert "Harbour Runners" in campaign_page.text
        assert team_page.status_code == 200
        assert "Harbour Runners" in team_page.text
        assert f'href="{path}"' in team_page.text
        assert 'data-donors="0"' in team_page.text


class TestEditingByEmail:
    async def sign_in(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, slug: str, email: str
    ) -> httpx.Response:
        ask = await client.get(f"/c/{slug}/fundraisers/manage?lang=en")
        assert "Email me a sign-in link" in ask.text
        sent = await client.post(
            f"/c/{slug}/fundraisers/manage/link?lang=en",
            data={"csrf_token": token_in(ask.text, "csrf_token"), "email": email},
        )
        assert "Check your email" in sent.text
        link = await emailed_link(smtp_server, database, f"/c/{slug}/fundraisers/sign-in/")
        button = await client.get(link)
        return await client.post(link, data={"csrf_token": token_in(button.text, "csrf_token")})

    async def test_the_fundraiser_signs_in_edits_and_signs_out(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, campaign: dict[str, Any]
    ) -> None:
        slug = campaign["slug"]
        path = await started_and_confirmed(client, database, smtp_server, slug)

        signed_in = await self.sign_in(client, database, smtp_server, slug, SUPPORTER)
        assert signed_in.status_code == 303
        cookie = signed_in.headers["set-cookie"]
        assert "gl_fundraiser=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert f"Path=/c/{slug}/fundraisers/manage" in cookie
        editor = await client.get(f"/c/{slug}/fundraisers/manage?lang=en")
        assert 'id="fundraiser-edit-form"' in editor.text
        saved = await client.post(
            f"/c/{slug}/fundraisers/manage?lang=en",
            data={
                "csrf_token": token_in(editor.text, "csrf_token"),
                "title": "Now 21 km for warm coats",
                "story": "Longer now.",
                "goal": "250",
                "team_choice": "none",
            },
        )
        assert saved.status_code == 303, saved.text
        page = await client.get(path + "?lang=en")
        assert "Now 21 km for warm coats" in page.text
        assert "€250.00" in page.text

        held = client.cookies.get("gl_fundraiser")
        out = await client.post(
            f"/c/{slug}/fundraisers/manage/sign-out", data={"csrf_token": token_in(editor.text, "csrf_token")}
        )
        assert out.status_code == 303
        # The session is revoked on the server: the copied cookie opens nothing any more.
        assert held is not None
        client.cookies.set("gl_fundraiser", held, path=f"/c/{slug}/fundraisers/manage")
        after = await client.get(f"/c/{slug}/fundraisers/manage?lang=en")
        assert "Email me a sign-in link" in after.text

    async def test_an_address_without_a_page_hears_the_same_and_signs_in_to_nothing(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, campaign: dict[str, Any]
    ) -> None:
        slug = campaign["slug"]
        await started_and_confirmed(client, database, smtp_server, slug)

        signed_in = await self.sign_in(client, database, smtp_server, slug, "stranger@example.org")
        editor = await client.get(f"/c/{slug}/fundraisers/manage?lang=en")

        assert signed_in.status_code == 303
        assert 'id="fundraiser-edit-form"' not in editor.text

    async def edit(self, client: httpx.AsyncClient, slug: str, **fields: str) -> httpx.Response:
        editor = await client.get(f"/c/{slug}/fundraisers/manage?lang=en")
        data = {
            "csrf_token": token_in(editor.text, "csrf_token"),
            "title": "Edited title",
            "story": "Edited.",
            "goal": "",
            "team_choice": "none",
            **fields,
        }
        return await client.post(f"/c/{slug}/fundraisers/manage?lang=en", data=data)

    async def test_the_editor_offers_the_pages_own_team_even_without_a_live_page_in_it(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await live(client, database, fundraisers_enabled=True, fundraisers_need_approval=True)
        slug = campaign["slug"]
        assert (await start(client, slug)).status_code == 303
        link = await emailed_link(smtp_server, database, f"/c/{slug}/fundraisers/confirm/")
        button = await client.get(link)
        await client.post(link, data={"csrf_token": token_in(button.text, "csrf_token")})
        await self.sign_in(client, database, smtp_server, slug, SUPPORTER)
        [made] = await fundraisers(database)
        assert made.status is FundraiserStatus.PENDING_APPROVAL
        async with database.transaction() as session:
            team_slug = await session.scalar(
                sa.select(FundraiserTeam.slug).where(FundraiserTeam.id == made.team_id)
            )

        editor = await client.get(f"/c/{slug}/fundraisers/manage?lang=en")
        start_form = await client.get(f"/c/{slug}/fundraisers/new?lang=en&team={team_slug}")

        assert f'value="{team_slug}"' in editor.text
        assert f'value="{team_slug}"' in start_form.text
        saved = await self.edit(client, slug, team_choice="join", team_join=str(team_slug))
        assert saved.status_code == 303, saved.text

    async def test_saving_after_peer_to_peer_is_switched_off_is_refused(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, campaign: dict[str, Any]
    ) -> None:
        slug = campaign["slug"]
        await started_and_confirmed(client, database, smtp_server, slug)
        await self.sign_in(client, database, smtp_server, slug, SUPPORTER)
        editor = await client.get(f"/c/{slug}/fundraisers/manage?lang=en")
        async with database.transaction() as session:
            await session.execute(sa.update(Campaign).values(fundraisers_enabled=False))

        saved = await client.post(
            f"/c/{slug}/fundraisers/manage?lang=en",
            data={
                "csrf_token": token_in(editor.text, "csrf_token"),
                "title": "Edited",
                "team_choice": "none",
            },
        )

        assert saved.status_code == 404
        [made] = await fundraisers(database)
        assert made.title == "I'm running 10 km for warm coats"

    async def test_a_page_slug_that_is_not_the_owners_edits_nothing(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, campaign: dict[str, Any]
    ) -> None:
        slug = campaign["slug"]
        await started_and_confirmed(client, database, smtp_server, slug)
        await self.sign_in(client, database, smtp_server, slug, SUPPORTER)

        saved = await self.edit(client, slug, page="someone-elses-page")

        assert saved.status_code == 303
        assert httpx.URL(saved.headers["location"]).path == f"/c/{slug}/fundraisers/manage"
        [made] = await fundraisers(database)
        assert made.title == "I'm running 10 km for warm coats"

    async def test_saving_a_hidden_page_says_so_in_the_form(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, campaign: dict[str, Any]
    ) -> None:
        slug = campaign["slug"]
        await started_and_confirmed(client, database, smtp_server, slug)
        await self.sign_in(client, database, smtp_server, slug, SUPPORTER)
        async with database.transaction() as session:
            await session.execute(sa.update(Fundraiser).values(status=FundraiserStatus.HIDDEN))

        saved = await self.edit(client, slug)

        # The editor again, with the reason above the form (not a bare error page).
        assert saved.status_code == 409, saved.text
        assert 'id="fundraiser-edit-form"' in saved.text
        assert "This page can no longer be changed." in saved.text
        [made] = await fundraisers(database)
        assert made.title == "I'm running 10 km for warm coats"

    async def test_a_post_without_the_session_token_changes_nothing(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, campaign: dict[str, Any]
    ) -> None:
        slug = campaign["slug"]
        await started_and_confirmed(client, database, smtp_server, slug)
        await self.sign_in(client, database, smtp_server, slug, SUPPORTER)

        forged = await client.post(
            f"/c/{slug}/fundraisers/manage", data={"title": "Hijacked", "team_choice": "none"}
        )

        assert forged.status_code == 403
        [made] = await fundraisers(database)
        assert made.title == "I'm running 10 km for warm coats"


def png(width: int = 640, height: int = 400) -> bytes:
    image = Image.new("RGB", (width, height), (200, 80, 40))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class TestPhotoAndReports:
    async def test_the_fundraiser_uploads_a_photo_that_the_page_shows(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, campaign: dict[str, Any]
    ) -> None:
        slug = campaign["slug"]
        path = await started_and_confirmed(client, database, smtp_server, slug)
        await TestEditingByEmail().sign_in(client, database, smtp_server, slug, SUPPORTER)
        editor = await client.get(f"/c/{slug}/fundraisers/manage?lang=en")
        csrf = token_in(editor.text, "csrf_token")

        refused = await client.post(
            f"/c/{slug}/fundraisers/manage/photo",
            data={"csrf_token": csrf, "alt": "Rosa at the finish"},
            files={"image": ("photo.png", b"not an image", "image/png")},
        )
        uploaded = await client.post(
            f"/c/{slug}/fundraisers/manage/photo",
            data={"csrf_token": csrf, "alt": "Rosa at the finish"},
            files={"image": ("photo.png", png(), "image/png")},
        )

        assert refused.status_code == 422
        assert 'id="image-error"' in refused.text
        assert uploaded.status_code == 303, uploaded.text
        page = await client.get(path + "?lang=en")
        photo = re.search(r'id="fundraiser-photo"[^>]*src="(/media/photos/[^"]+\.jpg)"', page.text)
        assert photo is not None, page.text
        assert 'alt="Rosa at the finish"' in page.text
        assert (await client.get(photo.group(1))).headers["content-type"] == "image/jpeg"

    async def test_a_visitor_reports_a_live_page_to_the_moderation_queue(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, campaign: dict[str, Any]
    ) -> None:
        slug = campaign["slug"]
        path = await started_and_confirmed(client, database, smtp_server, slug)
        page = await client.get(path + "?lang=en")
        report_link = re.search(r'href="([^"]+/report\?lang=en)"[^>]*id="report-fundraiser"', page.text)
        assert report_link is not None
        form = await client.get(html.unescape(report_link.group(1)))

        forged = await client.post(
            report_link.group(1), data={"form_token": "forged", "reason": "impersonation"}
        )
        sent = await client.post(
            html.unescape(report_link.group(1)),
            data={
                "form_token": token_in(form.text),
                "reason": "impersonation",
                "message": "Not the real Rosa.",
            },
        )

        assert forged.status_code == 403
        assert sent.status_code == 200
        assert 'id="report-sent"' in sent.text
        [made] = await fundraisers(database)
        async with database.transaction() as session:
            reports = (await session.scalars(sa.select(CampaignReport))).all()
        assert [(r.fundraiser_id, r.reason.value) for r in reports] == [(made.id, "impersonation")]


class TestDutchAmounts:
    async def test_the_dutch_editor_writes_and_reads_the_goal_with_a_decimal_comma(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, campaign: dict[str, Any]
    ) -> None:
        slug = campaign["slug"]
        await started_and_confirmed(client, database, smtp_server, slug)
        await TestEditingByEmail().sign_in(client, database, smtp_server, slug, SUPPORTER)
        editor = await client.get(f"/c/{slug}/fundraisers/manage?lang=nl")
        assert 'value="100,00"' in editor.text

        saved = await client.post(
            f"/c/{slug}/fundraisers/manage?lang=nl",
            data={
                "csrf_token": token_in(editor.text, "csrf_token"),
                "title": "Ik loop 10 km voor warme jassen",
                "goal": "100,00",
                "team_choice": "none",
            },
        )
        english_point = await client.post(
            f"/c/{slug}/fundraisers/manage?lang=nl",
            data={"csrf_token": token_in(editor.text, "csrf_token"), "title": "Ik loop", "goal": "100.50"},
        )

        assert saved.status_code == 303, saved.text
        assert english_point.status_code == 422
        assert "komma" in english_point.text
        [made] = await fundraisers(database)
        assert made.goal_minor == 10_000
