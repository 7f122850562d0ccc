"""Every HTML form route refuses a POST without the right CSRF token: 403, and nothing written.

The routes are read from the app itself (`app.routes`, through every `Mount`), so a form
route added later is covered without touching this test: every POST under /dashboard and
/admin, the sign-up and sign-in forms, and the donor's forms under /c/{slug}/. Each is posted
by a client signed in with the right role (an owner for the dashboard, a superadmin for the
console, nobody for the public forms) with a body that would otherwise be valid, once with no
token and once with a wrong one. The database must be exactly as before (touch timestamps of
the signed-in session aside) and the client still signed in (a logout is a form too).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route

from campaigns.nonprofits.models import ApiKey
from migrations.metadata import target_metadata
from service.auth.models import AdminRole
from service.db import Database
from service.settings import Settings
from tests.builders import PASSWORD, sign_up_payload
from tests.campaigns.dashboard.helpers import campaign_form, csrf_token, log_in
from tests.campaigns.matching.helpers import give, make_program, make_world_with_org, only_match
from tests.console.helpers import insert_console_admin, sign_in

FORM_PREFIXES = ("/dashboard", "/admin", "/signup", "/c/", "/donor", "/recurring")
"""Where the HTML forms live; /api, /webhooks and the Stripe sandbox are not forms."""

TOUCH_COLUMNS = frozenset({"last_seen_at", "last_used_at"})
"""Refreshed by any signed-in request (idle timeouts), whatever the form does."""

KNOWN_FORMS = {
    "/admin/matches/bulk-approve",
    "/admin/login",
    "/dashboard/login",
    "/signup",
    "/c/{slug}/donate",
    "/c/{slug}/report",
}
"""A floor for the enumeration, so that it can never silently find nothing."""

_PARAM = re.compile(r"{([a-z_]+)(?::[a-z]+)?}")


def form_routes(routes: list[BaseRoute], prefix: str = "") -> Iterator[str]:
    for route in routes:
        if isinstance(route, Mount):
            yield from form_routes(list(route.routes or []), prefix + route.path)
        elif isinstance(route, Route) and route.methods and "POST" in route.methods:
            path = prefix + route.path
            if path.startswith(FORM_PREFIXES):
                yield path


def plain(path: str) -> str:
    return _PARAM.sub(lambda m: "{" + m.group(1) + "}", path)


@dataclass
class Scene:
    """Real rows for every path parameter, and a client per kind of visitor."""

    params: dict[str, str]
    bodies: dict[str, dict[str, str]]
    default: dict[str, str]
    member: httpx.AsyncClient
    admin: httpx.AsyncClient
    app: Starlette

    def url(self, path: str) -> str:
        def value(m: re.Match[str]) -> str:
            name = m.group(1)
            assert name in self.params, f"{path}: add a real value for the path parameter {name!r}"
            return self.params[name]

        return _PARAM.sub(value, path)

    def body_for(self, path: str) -> dict[str, str]:
        return dict(self.bodies.get(plain(path), self.default))

    def client_for(self, path: str) -> tuple[httpx.AsyncClient, str | None]:
        """The visitor who would post this form, and a page that shows them signed in."""
        public = path in {"/dashboard/login", "/admin/login", "/signup"} or path.startswith(
            ("/c/", "/dashboard/invite/")
        )
        if public:
            return new_client(self.app), None
        if path.startswith("/admin"):
            return self.admin, "/admin"
        return self.member, "/dashboard"


def new_client(app: Starlette) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def scene(
    app: Starlette, client: httpx.AsyncClient, database: Database, settings: Settings
) -> AsyncIterator[Scene]:
    world, org = await make_world_with_org(client, database, settings)
    await make_program(world, hold_days=30)
    match = await only_match(database, await give(world, amount_minor=1_000))
    campaign = (await client.get(f"/api/v1/campaigns/{world.campaign.id}", headers=org.headers)).json()
    invite = await client.post(
        "/api/v1/members/invites",
        json={"email": "new-editor@example.org", "role": "editor"},
        headers=org.headers,
    )
    assert invite.status_code == 201, invite.text
    async with database.transaction() as session:
        api_key_id = await session.scalar(
            sa.select(ApiKey.id).where(ApiKey.nonprofit_id == uuid.UUID(org.id))
        )
    superadmin = await insert_console_admin(database, role=AdminRole.SUPERADMIN)
    update = await client.post(
        f"/api/v1/campaigns/{world.campaign.id}/updates",
        json={"body": "News for donors."},
        headers=org.headers,
    )
    assert update.status_code == 201, update.text
    endpoint = await client.post(
        "/api/v1/webhook-endpoints",
        json={"url": "https://crm.example.org/goodloop", "enabled_events": ["*"]},
        headers=org.headers,
    )
    assert endpoint.status_code == 201, endpoint.text
    delivery = await client.post(
        f"/api/v1/webhook-endpoints/{endpoint.json()['id']}/test", headers=org.headers
    )
    assert delivery.status_code == 202, delivery.text
    params = {
        "slug": campaign["slug"],
        "campaign_id": str(world.campaign.id),
        "match_id": str(match.id),
        "donation_id": str(match.donation_id),
        "update_id": update.json()["id"],
        "nonprofit_id": org.id,
        "api_key_id": str(api_key_id),
        "token": httpx.URL(invite.json()["accept_url"]).path.rsplit("/", 1)[-1],
        # A fundraiser page that does not exist: the form token is checked before the page is looked up.
        "fundraiser_slug": "no-such-page",
        "code": "new_nonprofit",
        "action": "pause",
        "gift_id": "00000000-0000-4000-8000-000000000001",
        "endpoint_id": endpoint.json()["id"],
        "delivery_id": delivery.json()["id"],
        "invite_id": invite.json()["id"],
        "fundraiser_id": "00000000-0000-4000-8000-000000000002",
    }
    # Bodies that are valid but for the token: credentials that work, an amount that would
    # go to Checkout, a campaign that would be created. Forms cap their field count, so each
    # gets only what it reads.
    campaign_fields = campaign_form()
    bodies = {
        "/c/{slug}/donate": {"amount": "25", "currency": campaign["currency"], "email": "donor@example.org"},
        "/c/{slug}/report": {"reason": "scam", "message": "It copies another campaign word for word."},
        "/c/{slug}/supporters/{donation_id}/report": {"reason": "spam", "message": "An advert."},
        "/dashboard/campaigns/{campaign_id}/updates": {"title": "News", "body": "We bought the coats."},
        "/signup": sign_up_payload(),
        "/dashboard/login": {"email": org.email, "password": PASSWORD},
        "/dashboard/invite/{token}": {"password": "a long enough passphrase"},
        "/dashboard/campaigns/new": campaign_fields,
        "/dashboard/campaigns/{campaign_id}/edit": {**campaign_fields, "slug": campaign["slug"]},
        "/dashboard/members/invite": {"email": "another-editor@example.org", "role": "editor"},
        "/dashboard/api-keys": {"name": "newsletter tool"},
        "/dashboard/campaigns/{campaign_id}/share-links": {"channel": "email"},
        "/dashboard/matches/{match_id}/appeal": {"message": "Our donors are real people, here is why."},
        "/dashboard/password": {"current_password": PASSWORD, "new_password": "another long passphrase"},
        "/dashboard/tax-profile": {
            "legal_name": "Stichting Warme Jassen",
            "country": "NL",
            "registration_number": "12345678",
            "tax_id": "111222333",
            "time_zone": "Europe/Amsterdam",
        },
        "/admin/login": {"email": superadmin.email, "password": superadmin.password},
        "/admin/matches/bulk-approve": {"match_id": str(match.id), "note": "checked by hand"},
        "/admin/risk/{code}": {"weight": "10", "threshold": "5", "enabled": "on"},
        "/donor": {"email": "donor@example.org"},
        "/donor/recurring/{gift_id}/amount": {"amount": "25"},
        "/dashboard/webhooks": {"url": "https://crm.example.org/new", "enabled_events": "*"},
        "/dashboard/webhooks/{endpoint_id}": {
            "url": "https://crm.example.org/changed",
            "enabled_events": "*",
            "enabled": "on",
        },
        "/dashboard/webhooks/{endpoint_id}/replay": {"since": "2020-01-01T00:00"},
        "/dashboard/notifications": {"gift_emails": "each", "money_emails": "on", "language": "nl"},
        "/dashboard/forgot-password": {"email": org.email},
        "/admin/forgot-password": {"email": superadmin.email},
        "/dashboard/reset-password/{token}": {"new_password": "another long passphrase"},
        "/admin/reset-password/{token}": {"new_password": "another long passphrase"},
        "/dashboard/members/invites/{invite_id}/resend": {"submission": "a-form-submission-value"},
    }
    default = {"note": "checked by hand", "reason": "checked by hand"}
    member = new_client(app)
    admin = new_client(app)
    async with member, admin:
        await log_in(member, org.email)
        await sign_in(admin, superadmin)
        yield Scene(params=params, bodies=bodies, default=default, member=member, admin=admin, app=app)


async def snapshot(database: Database) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table (touch timestamps left out), in a comparable form."""
    tables: dict[str, list[tuple[str, ...]]] = {}
    async with database.transaction() as session:
        for table in target_metadata.sorted_tables:
            columns = [c for c in table.columns if c.name not in TOUCH_COLUMNS]
            rows = (await session.execute(sa.select(*columns))).all()
            tables[table.name] = sorted(tuple(repr(v) for v in row) for row in rows)
    return tables


def changed_tables(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [name for name in before if before[name] != after.get(name)]


class TestCsrfOnEveryForm:
    async def test_every_form_refuses_a_missing_or_wrong_token_and_writes_nothing(
        self, app: Starlette, database: Database, scene: Scene
    ) -> None:
        paths = sorted(set(form_routes(list(app.routes))))
        assert {plain(p) for p in paths} >= KNOWN_FORMS | set(scene.bodies), paths

        refused_wrongly: list[str] = []
        for path in paths:
            for variant, token in (("missing", None), ("wrong", "not-the-session-token-" + "x" * 21)):
                visitor, home = scene.client_for(path)
                if home is None:
                    # A visitor who opened a page has a session token; theirs is still not sent.
                    await csrf_token(visitor, "/dashboard/login")
                body = scene.body_for(path)
                if token is not None:
                    body.update(csrf_token=token, form_token=token)
                before = await snapshot(database)

                response = await visitor.post(scene.url(path), data=body)

                after = await snapshot(database)
                problems = []
                if response.status_code != 403:
                    problems.append(f"status {response.status_code}")
                if changed := changed_tables(before, after):
                    problems.append(f"wrote to {', '.join(changed)}")
                if home is not None and (await visitor.get(home)).status_code != 200:
                    problems.append("signed the visitor out")
                if home is None:
                    await visitor.aclose()
                if problems:
                    refused_wrongly.append(f"{path} ({variant} token): {'; '.join(problems)}")

        assert refused_wrongly == [], "\n".join(refused_wrongly)
