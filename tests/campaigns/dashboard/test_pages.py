"""The member dashboard through HTTP, as a browser without JavaScript uses it."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from starlette.routing import Route

from campaigns.dashboard.auth import PREFIX
from campaigns.dashboard.routes import routes as dashboard_routes
from campaigns.dashboard.routes import site_routes
from service.auth.models import AdminRole
from service.db import Database
from tests import builders
from tests.campaigns.dashboard import helpers
from tests.campaigns.dashboard.helpers import field_error, form_error, input_value, submit

SIGNED_IN_PAGES = ["/dashboard", "/dashboard/campaigns", "/dashboard/campaigns/new", "/dashboard/members"]


class TestLogin:
    async def test_right_password_signs_in(self, client: httpx.AsyncClient) -> None:
        org = await builders.sign_up(client, name="Harbor Relief Dublin")
        await helpers.log_in(client, org.email)
        page = await client.get("/dashboard")
        assert page.status_code == 200
        assert "Harbor Relief Dublin" in page.text

    async def test_wrong_password_is_refused_with_a_message(self, client: httpx.AsyncClient) -> None:
        org = await builders.sign_up(client)
        response = await submit(
            client, "/dashboard/login", {"email": org.email, "password": "not the password"}
        )
        assert response.status_code == 400
        assert form_error(response.text) == "That email and password do not match an account."
        assert input_value(response.text, "email") == org.email
        assert (await client.get("/dashboard")).status_code == 303

    async def test_too_many_attempts_for_one_email_are_refused(self, client: httpx.AsyncClient) -> None:
        org = await builders.sign_up(client)
        token = await helpers.csrf_token(client)
        statuses = []
        for _ in range(9):
            response = await client.post(
                "/dashboard/login",
                data={"csrf_token": token, "email": org.email, "password": "wrong password"},
            )
            statuses.append(response.status_code)
        assert statuses == [400] * 8 + [429]
        assert "Too many sign-in attempts" in (form_error(response.text) or "")
        assert int(response.headers["Retry-After"]) > 0
        # Even the right password waits out the window.
        right = await client.post(
            "/dashboard/login", data={"csrf_token": token, "email": org.email, "password": builders.PASSWORD}
        )
        assert right.status_code == 429

    # A fixed id for the campaign nobody has: test ids must be the same in every xdist worker.
    @pytest.mark.parametrize(
        "path", [*SIGNED_IN_PAGES, "/dashboard/api-keys", f"/dashboard/campaigns/{uuid.UUID(int=1)}"]
    )
    async def test_signed_out_visitor_is_sent_to_the_login_page(
        self, client: httpx.AsyncClient, path: str
    ) -> None:
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == "/dashboard/login"

    async def test_sign_out_ends_the_session(self, client: httpx.AsyncClient) -> None:
        await helpers.signed_in_org(client)
        await helpers.log_out(client)
        assert (await client.get("/dashboard/campaigns")).status_code == 303


def sign_up_form(**overrides: str) -> dict[str, str]:
    payload = builders.sign_up_payload()
    payload.update(overrides)
    return payload


class TestSignUp:
    async def test_shows_the_api_key_once_and_signs_in(self, client: httpx.AsyncClient) -> None:
        response = await submit(client, "/signup", sign_up_form(name="Coats for Kids"), page="/signup")
        assert response.status_code == 200
        key = re.search(r'id="api-key" class="secret" value="([^"]+)"', response.text)
        assert key is not None
        assert "Copy it now" in response.text
        me = await client.get("/api/v1/nonprofits/me", headers={"Authorization": f"Bearer {key.group(1)}"})
        assert me.json()["name"] == "Coats for Kids"
        dashboard = await client.get("/dashboard")
        assert dashboard.status_code == 200
        assert key.group(1) not in dashboard.text
        assert key.group(1) not in (await client.get("/dashboard/api-keys")).text

    async def test_field_errors_are_shown_next_to_fields_and_input_kept(
        self, client: httpx.AsyncClient
    ) -> None:
        form = sign_up_form(name="Coats for Kids", password="short", country="XX", website="ftp://x")
        response = await submit(client, "/signup", form, page="/signup")
        assert response.status_code == 422
        assert field_error(response.text, "password") is not None
        assert field_error(response.text, "country") == "Must be an ISO 3166 two-letter country code."
        assert field_error(response.text, "website") == "Must be a web address like https://example.org/page."
        assert field_error(response.text, "name") is None
        assert input_value(response.text, "name") == "Coats for Kids"
        assert "short" not in re.findall(r'id="password"[^>]*>', response.text)[0]
        assert (await client.get("/dashboard")).status_code == 303

    async def test_taken_email_is_reported_on_the_email_field(self, client: httpx.AsyncClient) -> None:
        org = await builders.sign_up(client)
        response = await submit(client, "/signup", sign_up_form(contact_email=org.email), page="/signup")
        assert response.status_code == 409
        assert field_error(response.text, "contact_email") == "An account with this email already exists."

    async def test_shares_the_api_sign_up_allowance(self, client: httpx.AsyncClient) -> None:
        for _ in range(10):
            await builders.sign_up(client)
        response = await submit(client, "/signup", sign_up_form(), page="/signup")
        assert response.status_code == 429
        assert form_error(response.text) == "Too many sign-ups from this network; try again in an hour."
        assert "Retry-After" in response.headers


async def verified_org(
    client: httpx.AsyncClient, database: Database
) -> tuple[builders.Org, builders.AdminUser]:
    org = await builders.sign_up(client)
    admin = await builders.insert_admin(database, role=AdminRole.SUPERADMIN)
    await builders.verify(client, admin, org)
    return org, admin


class TestCreateCampaign:
    async def test_field_errors_are_shown_next_to_fields_and_input_kept(
        self, client: httpx.AsyncClient
    ) -> None:
        await helpers.signed_in_org(client)
        form = helpers.campaign_form(
            title="Coats", slug="Bad Slug!", goal="25.505", suggested_amounts="10 0.001", max_amount="abc"
        )
        form["story"] = "Line one\r\nline <two>"
        response = await submit(client, "/dashboard/campaigns/new", form, page="/dashboard/campaigns/new")
        assert response.status_code == 422
        assert field_error(response.text, "goal") == "EUR has 2 decimal places; 25.505 has more."
        assert (field_error(response.text, "slug") or "").startswith("Use 3-80 lowercase letters")
        assert field_error(response.text, "suggested_amounts") is not None
        assert field_error(response.text, "max_amount") is not None
        assert field_error(response.text, "title") is None
        assert input_value(response.text, "title") == "Coats"
        assert input_value(response.text, "goal") == "25.505"
        assert input_value(response.text, "slug") == "Bad Slug!"
        assert helpers.textarea_value(response.text, "story") == "Line one\r\nline <two>"
        assert "No campaigns yet." in (await client.get("/dashboard/campaigns")).text

    async def test_service_rules_are_shown_next_to_the_field(self, client: httpx.AsyncClient) -> None:
        await helpers.signed_in_org(client)
        form = helpers.campaign_form(min_amount="100", suggested_amounts="10 200")
        response = await submit(client, "/dashboard/campaigns/new", form, page="/dashboard/campaigns/new")
        assert response.status_code == 422
        assert field_error(response.text, "suggested_amounts") == (
            "Every suggested amount must lie between the minimum and maximum."
        )

    @pytest.mark.parametrize(
        ("code", "goal", "suggested", "goal_minor", "suggested_minor"),
        [
            ("eur", "2500.50", "10 25.50", 250_050, [1000, 2550]),
            ("jpy", "5000", "500 1000", 5000, [500, 1000]),
            ("kwd", "1.250", "1.500 2.010", 1250, [1500, 2010]),
        ],
    )
    async def test_major_units_become_exact_minor_units(
        self,
        client: httpx.AsyncClient,
        code: str,
        goal: str,
        suggested: str,
        goal_minor: int,
        suggested_minor: list[int],
    ) -> None:
        org = await helpers.signed_in_org(client)
        url = await helpers.create_campaign_via_page(
            client, currency=code, goal=goal, suggested_amounts=suggested
        )
        campaign_id = url.rsplit("/", 1)[1]
        saved = (await client.get(f"/api/v1/campaigns/{campaign_id}", headers=org.headers)).json()
        assert (saved["currency"], saved["goal_minor"]) == (code, goal_minor)
        assert saved["suggested_amounts_minor"] == suggested_minor

    async def test_jpy_amount_with_decimals_is_refused(self, client: httpx.AsyncClient) -> None:
        await helpers.signed_in_org(client)
        form = helpers.campaign_form(currency="jpy", goal="5000.5")
        response = await submit(client, "/dashboard/campaigns/new", form, page="/dashboard/campaigns/new")
        assert response.status_code == 422
        assert field_error(response.text, "goal") == "JPY has no decimal places; 5000.5 has more."

    async def test_dates_and_origins_are_saved(self, client: httpx.AsyncClient) -> None:
        org = await helpers.signed_in_org(client)
        url = await helpers.create_campaign_via_page(
            client,
            starts_at="2026-12-01T09:30",
            ends_at="2027-01-31T18:00",
            allowed_embed_origins="https://harbor-relief.org\r\nhttps://blog.harbor-relief.org",
        )
        saved = (await client.get(f"/api/v1/campaigns/{url.rsplit('/', 1)[1]}", headers=org.headers)).json()
        assert saved["starts_at"] == "2026-12-01T09:30:00Z"
        assert saved["ends_at"] == "2027-01-31T18:00:00Z"
        assert saved["allowed_embed_origins"] == [
            "https://harbor-relief.org",
            "https://blog.harbor-relief.org",
        ]

    async def test_taken_slug_is_reported_on_the_slug_field(self, client: httpx.AsyncClient) -> None:
        await helpers.signed_in_org(client)
        await helpers.create_campaign_via_page(client, slug="winter-coats-dublin")
        form = helpers.campaign_form(slug="winter-coats-dublin")
        response = await submit(client, "/dashboard/campaigns/new", form, page="/dashboard/campaigns/new")
        assert response.status_code == 409
        assert (
            field_error(response.text, "slug") == "The slug 'winter-coats-dublin' is taken; choose another."
        )

    async def test_preview_renders_the_sanitised_story_without_saving(
        self, client: httpx.AsyncClient
    ) -> None:
        await helpers.signed_in_org(client)
        story = "## Why\n\nWarm **coats**. <script>alert(1)</script> [x](javascript:alert(1))"
        form = {**helpers.campaign_form(story=story), "intent": "preview"}
        response = await submit(client, "/dashboard/campaigns/new", form, page="/dashboard/campaigns/new")
        assert response.status_code == 200
        preview = response.text.split('id="story-preview"', 1)[1].split("</div>", 2)[0]
        assert "<h2>Why</h2>" in preview
        assert "<strong>coats</strong>" in preview
        assert "<script" not in response.text
        assert 'href="javascript' not in preview
        assert "No campaigns yet." in (await client.get("/dashboard/campaigns")).text


class TestCampaignDetail:
    async def test_shows_fields_status_and_sanitised_story(self, client: httpx.AsyncClient) -> None:
        org = await helpers.signed_in_org(client)
        campaign = await builders.create_campaign(
            client,
            org,
            title="Coats",
            story="Hi <script>alert(1)</script> **there**",
            currency="jpy",
            goal_minor=5000,
        )
        page = await client.get(f"/dashboard/campaigns/{campaign['id']}")
        assert page.status_code == 200
        assert "status-draft" in page.text
        assert "¥5,000" in page.text
        assert "<strong>there</strong>" in page.text
        assert "<script" not in page.text
        assert 'action="/dashboard/campaigns/{}/submit"'.format(campaign["id"]) in page.text
        assert 'action="/dashboard/campaigns/{}/archive"'.format(campaign["id"]) in page.text
        assert "/pause" not in page.text

    async def test_list_links_each_campaign_with_its_status(self, client: httpx.AsyncClient) -> None:
        org = await helpers.signed_in_org(client)
        campaign = await builders.create_campaign(client, org, title="Coats for Cork")
        page = await client.get("/dashboard/campaigns")
        assert f'href="/dashboard/campaigns/{campaign["id"]}">Coats for Cork</a>' in page.text
        assert "status-draft" in page.text

    async def test_shows_the_moderators_note_after_a_rejection(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        org, admin = await verified_org(client, database)
        await helpers.log_in(client, org.email)
        campaign = await builders.create_campaign(client, org)
        await client.post(f"/api/v1/campaigns/{campaign['id']}/submit", headers=org.headers)
        rejected = await client.post(
            f"/api/v1/admin/campaigns/{campaign['id']}/reject",
            json={"reason": "Please add your registration number to the story."},
            headers=admin.headers,
        )
        assert rejected.status_code == 200, rejected.text
        page = await client.get(f"/dashboard/campaigns/{campaign['id']}")
        assert "Please add your registration number to the story." in page.text


async def other_orgs_campaign(client: httpx.AsyncClient) -> str:
    """A campaign of another organisation; the client ends up signed in as a third party's owner."""
    other = await builders.sign_up(client)
    campaign = await builders.create_campaign(client, other)
    await helpers.signed_in_org(client)
    return str(campaign["id"])


class TestTenantIsolation:
    @pytest.mark.parametrize("suffix", ["", "/edit"])
    async def test_pages_of_another_orgs_campaign_are_not_found(
        self, client: httpx.AsyncClient, suffix: str
    ) -> None:
        campaign_id = await other_orgs_campaign(client)
        response = await client.get(f"/dashboard/campaigns/{campaign_id}{suffix}")
        assert response.status_code == 404
        assert helpers.error_code(response.text) == "campaign_not_found"

    @pytest.mark.parametrize("action", ["edit", "submit", "archive"])
    async def test_posts_to_another_orgs_campaign_are_not_found(
        self, client: httpx.AsyncClient, action: str
    ) -> None:
        campaign_id = await other_orgs_campaign(client)
        path = f"/dashboard/campaigns/{campaign_id}/{action}"
        response = await submit(client, path, helpers.campaign_form(title="Hijacked"), page="/dashboard")
        assert response.status_code == 404
        assert helpers.error_code(response.text) == "campaign_not_found"


class TestEditCampaign:
    async def test_saves_changed_fields(self, client: httpx.AsyncClient) -> None:
        org = await helpers.signed_in_org(client)
        url = await helpers.create_campaign_via_page(client, goal="5000")
        form_page = await client.get(f"{url}/edit")
        assert input_value(form_page.text, "goal") == "5000.00"
        form = helpers.campaign_form(
            title="Warm coats", goal="7500.25", slug=input_value(form_page.text, "slug") or ""
        )
        response = await submit(client, f"{url}/edit", form, page=f"{url}/edit")
        assert response.status_code == 303
        saved = (await client.get(f"/api/v1/campaigns/{url.rsplit('/', 1)[1]}", headers=org.headers)).json()
        assert (saved["title"], saved["goal_minor"]) == ("Warm coats", 750_025)

    async def test_locked_field_on_a_live_campaign_is_refused_at_the_top(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        org, admin = await verified_org(client, database)
        campaign = await builders.live_campaign(client, org, admin)
        await helpers.log_in(client, org.email)
        url = f"/dashboard/campaigns/{campaign['id']}/edit"
        values = await client.get(url)
        form = {name: input_value(values.text, name) or "" for name in helpers.CAMPAIGN_FORM_FIELDS}
        form.update(
            story=helpers.textarea_value(values.text, "story") or "", currency="eur", title="Something else"
        )
        response = await submit(client, url, form, page=url)
        assert response.status_code == 409
        assert (form_error(response.text) or "").startswith(
            "Title cannot change once a campaign has been approved"
        )
        assert input_value(response.text, "title") == "Something else"

    async def test_goal_of_a_live_campaign_can_change(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        org, admin = await verified_org(client, database)
        campaign = await builders.live_campaign(client, org, admin)
        await helpers.log_in(client, org.email)
        url = f"/dashboard/campaigns/{campaign['id']}/edit"
        values = await client.get(url)
        form = {name: input_value(values.text, name) or "" for name in helpers.CAMPAIGN_FORM_FIELDS}
        form.update(story=helpers.textarea_value(values.text, "story") or "", currency="eur", goal="9000")
        form["allowed_embed_origins"] = ""
        response = await submit(client, url, form, page=url)
        assert response.status_code == 303, form_error(response.text)
        saved = (await client.get(f"/api/v1/campaigns/{campaign['id']}", headers=org.headers)).json()
        assert saved["goal_minor"] == 900_000

    async def test_preview_on_edit_does_not_save(self, client: httpx.AsyncClient) -> None:
        org = await helpers.signed_in_org(client)
        url = await helpers.create_campaign_via_page(client, story="old story")
        form = {**helpers.campaign_form(story="new *story*"), "intent": "preview"}
        response = await submit(client, f"{url}/edit", form, page=f"{url}/edit")
        assert "<em>story</em>" in response.text
        saved = (await client.get(f"/api/v1/campaigns/{url.rsplit('/', 1)[1]}", headers=org.headers)).json()
        assert saved["story"] == "old story"


class TestTransitions:
    async def test_pending_org_cannot_submit_and_is_told_why(self, client: httpx.AsyncClient) -> None:
        await helpers.signed_in_org(client)
        url = await helpers.create_campaign_via_page(client)
        response = await submit(client, f"{url}/submit", page=url)
        assert response.status_code == 409
        assert form_error(response.text) == "Only a verified nonprofit can submit campaigns for review."
        assert "status-draft" in response.text

    async def test_verified_org_submits_for_review(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        org, _ = await verified_org(client, database)
        await helpers.log_in(client, org.email)
        url = await helpers.create_campaign_via_page(client)
        response = await submit(client, f"{url}/submit", page=url)
        assert response.status_code == 303
        page = await client.get(url)
        assert "status-in_review" in page.text
        assert "Sent for review" in page.text
        assert f'action="{url}/withdraw"' in page.text

    async def test_action_not_allowed_now_is_refused(self, client: httpx.AsyncClient) -> None:
        await helpers.signed_in_org(client)
        url = await helpers.create_campaign_via_page(client)
        response = await submit(client, f"{url}/pause", page=url)
        assert response.status_code == 409
        assert (form_error(response.text) or "").startswith("Cannot pause a campaign that is draft")


class TestViewer:
    async def test_sees_campaigns_without_forms_or_buttons(self, client: httpx.AsyncClient) -> None:
        org = await builders.sign_up(client)
        campaign = await builders.create_campaign(client, org, title="Coats")
        await helpers.add_member(client, org, role="viewer")
        for path in ["/dashboard", "/dashboard/campaigns", f"/dashboard/campaigns/{campaign['id']}"]:
            page = await client.get(path)
            assert page.status_code == 200
            forms = re.findall(r'<form[^>]*action="([^"]+)"', page.text)
            assert forms == ["/dashboard/logout"], path
            assert "/edit" not in page.text
            assert "/dashboard/campaigns/new" not in page.text

    @pytest.mark.parametrize("path", ["/dashboard/campaigns/new", "{campaign}/edit"])
    async def test_cannot_open_edit_forms(self, client: httpx.AsyncClient, path: str) -> None:
        org = await builders.sign_up(client)
        campaign = await builders.create_campaign(client, org)
        await helpers.add_member(client, org, role="viewer")
        response = await client.get(path.format(campaign=f"/dashboard/campaigns/{campaign['id']}"))
        assert response.status_code == 403

    @pytest.mark.parametrize("action", ["/dashboard/campaigns/new", "{campaign}/edit", "{campaign}/archive"])
    async def test_posts_are_forbidden(self, client: httpx.AsyncClient, action: str) -> None:
        org = await builders.sign_up(client)
        campaign = await builders.create_campaign(client, org, title="Coats")
        await helpers.add_member(client, org, role="viewer")
        path = action.format(campaign=f"/dashboard/campaigns/{campaign['id']}")
        response = await submit(client, path, helpers.campaign_form(title="Changed"), page="/dashboard")
        assert response.status_code == 403
        assert helpers.error_code(response.text) == "role_required"
        saved = (await client.get(f"/api/v1/campaigns/{campaign['id']}", headers=org.headers)).json()
        assert (saved["title"], saved["status"]) == ("Coats", "draft")


class TestMembers:
    async def test_invite_shows_a_link_that_lets_the_invitee_join(self, client: httpx.AsyncClient) -> None:
        org = await helpers.signed_in_org(client)
        response = await submit(
            client,
            "/dashboard/members/invite",
            {"email": "Editor@Harbor-Relief.org", "role": "editor"},
            page="/dashboard/members",
        )
        assert response.status_code == 200
        link = re.search(r'id="invite-url" class="secret" value="([^"]+)"', response.text)
        assert link is not None
        path = httpx.URL(link.group(1)).path
        await helpers.log_out(client)

        join = await client.get(path)
        assert "editor@harbor-relief.org" in join.text
        short = await submit(client, path, {"password": "short"}, page=path)
        assert short.status_code == 422
        assert field_error(short.text, "password") is not None
        joined = await submit(client, path, {"password": builders.PASSWORD}, page=path)
        assert joined.status_code == 303
        assert joined.headers["location"] == "/dashboard"
        members = await client.get("/dashboard/members")
        assert "editor@harbor-relief.org" in members.text
        assert org.email in members.text
        assert 'action="/dashboard/members/invite"' not in members.text  # editors do not invite
        again = await client.get(path)
        assert again.status_code == 404

    async def test_unknown_invitation_is_a_friendly_not_found(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/dashboard/invite/not-a-real-token")
        assert response.status_code == 404
        assert "ask for a new one" in response.text

    async def test_invite_errors_are_shown_next_to_fields(self, client: httpx.AsyncClient) -> None:
        org = await helpers.signed_in_org(client)
        bad = await submit(
            client,
            "/dashboard/members/invite",
            {"email": "nope", "role": "editor"},
            page="/dashboard/members",
        )
        assert bad.status_code == 422
        assert field_error(bad.text, "email") is not None
        taken = await submit(
            client,
            "/dashboard/members/invite",
            {"email": org.email, "role": "viewer"},
            page="/dashboard/members",
        )
        assert taken.status_code == 409
        assert field_error(taken.text, "email") == "An account with this email already exists."

    async def test_editor_cannot_invite(self, client: httpx.AsyncClient) -> None:
        org = await builders.sign_up(client)
        await helpers.add_member(client, org, role="editor")
        response = await submit(
            client, "/dashboard/members/invite", {"email": "x@y.org", "role": "owner"}, page="/dashboard"
        )
        assert response.status_code == 403


class TestApiKeys:
    async def test_new_key_is_shown_once_and_works_until_revoked(self, client: httpx.AsyncClient) -> None:
        await helpers.signed_in_org(client)
        created = await submit(
            client, "/dashboard/api-keys", {"name": "website widget"}, page="/dashboard/api-keys"
        )
        assert created.status_code == 200
        key = re.search(r'id="new-api-key" class="secret" value="([^"]+)"', created.text)
        assert key is not None
        headers = {"Authorization": f"Bearer {key.group(1)}"}
        assert (await client.get("/api/v1/nonprofits/me", headers=headers)).status_code == 200
        listing = await client.get("/dashboard/api-keys")
        assert "website widget" in listing.text
        assert key.group(1) not in listing.text

        revoke = re.search(r'action="(/dashboard/api-keys/[0-9a-f-]+/revoke)"', listing.text)
        assert revoke is not None
        response = await submit(client, revoke.group(1), page="/dashboard/api-keys")
        assert response.status_code == 303
        assert (await client.get("/api/v1/nonprofits/me", headers=headers)).status_code == 401
        assert "revoked" in (await client.get("/dashboard/api-keys")).text

    async def test_key_name_is_required(self, client: httpx.AsyncClient) -> None:
        await helpers.signed_in_org(client)
        response = await submit(client, "/dashboard/api-keys", {"name": " "}, page="/dashboard/api-keys")
        assert response.status_code == 422
        assert field_error(response.text, "name") is not None

    async def test_only_owners_see_keys(self, client: httpx.AsyncClient) -> None:
        org = await builders.sign_up(client)
        await helpers.add_member(client, org, role="editor")
        assert 'href="/dashboard/api-keys"' not in (await client.get("/dashboard")).text
        assert (await client.get("/dashboard/api-keys")).status_code == 403
        response = await submit(client, "/dashboard/api-keys", {"name": "mine"}, page="/dashboard")
        assert response.status_code == 403


def post_routes() -> list[str]:
    # The dashboard's mount (paths relative to PREFIX) and its routes outside it (/signup).
    paths = []
    for prefix, routes in ((PREFIX, dashboard_routes), ("", site_routes)):
        for route in routes:
            if isinstance(route, Route) and route.methods and "POST" in route.methods:
                paths.append(prefix + route.path)
    return paths


class TestCsrf:
    def test_the_walk_covers_every_form(self) -> None:
        # If this list shrinks, a route moved out of `routes` and the walk below stopped seeing it.
        assert len(post_routes()) >= 15

    @pytest.mark.parametrize("path", post_routes())
    async def test_post_without_token_is_refused(self, client: httpx.AsyncClient, path: str) -> None:
        org = await helpers.signed_in_org(client)
        campaign = await builders.create_campaign(client, org)
        concrete = re.sub(r"\{\w+:uuid\}", campaign["id"], path).replace("{token}", "some-token")
        response = await client.post(
            concrete, data={**helpers.campaign_form(), "email": "x@y.org", "name": "k"}
        )
        assert response.status_code == 403
        assert helpers.error_code(response.text) == "csrf_failed"
        still = (await client.get(f"/api/v1/campaigns/{campaign['id']}", headers=org.headers)).json()
        assert still["status"] == "draft"

    async def test_token_from_another_session_is_refused(self, client: httpx.AsyncClient) -> None:
        foreign = await helpers.csrf_token(client)
        client.cookies.clear()
        await helpers.signed_in_org(client)
        response = await client.post("/dashboard/api-keys", data={"csrf_token": foreign, "name": "k"})
        assert response.status_code == 403
