"""Organisation A can never see or change organisation B's data through the API.

The test walks every operation of the nonprofit API, so an endpoint added later without a
tenant check fails here instead of leaking.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from campaigns.fundraising.models import Fundraiser, FundraiserStatus
from campaigns.matching.models import Match
from campaigns.sharing.models import ShareLink, ShareLinkKind
from service.app import api_routes
from service.auth.models import AdminRole
from service.db import Database
from service.settings import Settings
from tests import builders
from tests.campaigns.matching.helpers import World, give, make_program, only_match
from tests.webhooks.builders import LiveCampaign

NONPROFIT_OPERATIONS = [
    op for part in api_routes() for op in part.operations if op.auth and not op.path.startswith("/admin")
]
# A body that would be valid for each operation, so a 404 cannot hide behind a 422.
VALID_BODIES: dict[str, dict[str, Any]] = {
    "PATCH /campaigns/{campaign_id:uuid}": {"title": "Hijacked"},
    "POST /matches/{match_id:uuid}/appeal": {"message": "This match is ours, please look again."},
    "POST /campaigns/{campaign_id:uuid}/updates": {"body": "Hijacked update"},
    "PATCH /webhook-endpoints/{endpoint_id:uuid}": {"description": "Hijacked"},
    "POST /webhook-endpoints/{endpoint_id:uuid}/replay": {"since": "2020-01-01T00:00:00Z"},
    "PUT /members/{member_id:uuid}/notifications": {
        "gift_emails": "none",
        "money_emails": False,
        "language": "en",
    },
}


def _describe(op: Any) -> str:
    return f"{op.method} {op.path}"


@pytest.fixture
async def two_orgs(client: httpx.AsyncClient, database: Database, settings: Settings) -> dict[str, Any]:
    admin = await builders.insert_admin(database)
    a = await builders.sign_up(client)
    b = await builders.sign_up(client)
    await builders.verify(client, admin, a)
    await builders.verify(client, admin, b)
    b_campaign = await builders.live_campaign(client, b, admin)
    b_key = (await client.post("/api/v1/api-keys", json={"name": "b-second"}, headers=b.headers)).json()
    match_id = await _rejected_match(client, database, settings, b, b_campaign["id"])
    update = await client.post(
        f"/api/v1/campaigns/{b_campaign['id']}/updates", json={"body": "B's news"}, headers=b.headers
    )
    endpoint = await client.post(
        "/api/v1/webhook-endpoints",
        json={"url": "https://crm.example.org/b", "enabled_events": ["*"]},
        headers=b.headers,
    )
    delivery = await client.post(f"/api/v1/webhook-endpoints/{endpoint.json()['id']}/test", headers=b.headers)
    member_id = (await client.get("/api/v1/members", headers=b.headers)).json()["data"][0]["id"]
    invite = await client.post(
        "/api/v1/members/invites",
        json={"email": "b-invitee@example.org", "role": "viewer"},
        headers=b.headers,
    )
    async with database.transaction() as session:
        donation_id = await session.scalar(
            sa.select(Match.donation_id).where(Match.id == uuid.UUID(match_id))
        )
        # A supporter's page on B's campaign, live (its path to live is tested in
        # tests/campaigns/fundraising/); here only whose it is matters.
        link = ShareLink(
            campaign_id=uuid.UUID(b_campaign["id"]), code="tenantfr1", kind=ShareLinkKind.FUNDRAISER
        )
        session.add(link)
        await session.flush()
        fundraiser = Fundraiser(
            campaign_id=uuid.UUID(b_campaign["id"]),
            nonprofit_id=uuid.UUID(b.id),
            slug="b-runner",
            name="B Runner",
            email="runner@example.org",
            language="en",
            title="Running for B",
            story_markdown="Story",
            story_html="<p>Story</p>",
            currency="eur",
            status=FundraiserStatus.LIVE,
            share_link_id=link.id,
        )
        session.add(fundraiser)
        await session.flush()
        fundraiser_id = str(fundraiser.id)
    return {
        "a": a,
        "b": b,
        "campaign_id": b_campaign["id"],
        "api_key_id": b_key["id"],
        "match_id": match_id,
        "donation_id": str(donation_id),
        "update_id": update.json()["id"],
        "endpoint_id": endpoint.json()["id"],
        "delivery_id": delivery.json()["id"],
        "member_id": member_id,
        "invite_id": invite.json()["id"],
        "fundraiser_id": fundraiser_id,
    }


async def _rejected_match(
    client: httpx.AsyncClient, database: Database, settings: Settings, org: builders.Org, campaign_id: str
) -> str:
    """A match of B's that B could appeal: A's appeal must find nothing."""
    campaign = LiveCampaign(id=uuid.UUID(campaign_id), nonprofit_id=uuid.UUID(org.id), currency="eur")
    finance = await builders.insert_admin(database, role=AdminRole.FINANCE)
    reviewer = await builders.insert_admin(database, role=AdminRole.REVIEWER)
    world = World(client, database, settings, finance, reviewer, campaign)
    await make_program(world)
    match = await only_match(database, await give(world))
    rejected = await client.post(
        f"/api/v1/admin/matches/{match.id}/reject", json={"note": "test rejection"}, headers=reviewer.headers
    )
    assert rejected.status_code == 200, rejected.text
    return str(match.id)


@pytest.mark.parametrize("op", [op for op in NONPROFIT_OPERATIONS if "{" in op.path], ids=_describe)
async def test_another_orgs_resource_is_not_found(
    client: httpx.AsyncClient, two_orgs: dict[str, Any], op: Any
) -> None:
    a: builders.Org = two_orgs["a"]
    b: builders.Org = two_orgs["b"]
    path = "/api/v1" + op.path.replace("{campaign_id:uuid}", two_orgs["campaign_id"]).replace(
        "{api_key_id:uuid}", two_orgs["api_key_id"]
    ).replace("{match_id:uuid}", two_orgs["match_id"])
    for name in (
        "donation_id",
        "update_id",
        "endpoint_id",
        "delivery_id",
        "member_id",
        "invite_id",
        "fundraiser_id",
    ):
        path = path.replace(f"{{{name}:uuid}}", two_orgs[name])
    assert "{" not in path, f"add the resource for {op.path} to this test"
    before_campaign = (
        await client.get(f"/api/v1/campaigns/{two_orgs['campaign_id']}", headers=b.headers)
    ).json()
    before_keys = (await client.get("/api/v1/api-keys", headers=b.headers)).json()

    response = await client.request(
        op.method, path, json=VALID_BODIES.get(_describe(op), {}), headers=a.headers
    )

    assert response.status_code == 404, response.text
    after_campaign = (
        await client.get(f"/api/v1/campaigns/{two_orgs['campaign_id']}", headers=b.headers)
    ).json()
    after_keys = (await client.get("/api/v1/api-keys", headers=b.headers)).json()
    assert after_campaign == before_campaign
    assert after_keys["data"] == before_keys["data"] or _only_last_used_moved(before_keys, after_keys)


def _only_last_used_moved(before: dict[str, Any], after: dict[str, Any]) -> bool:
    strip = [{k: v for k, v in key.items() if k != "last_used_at"} for key in before["data"]]
    return strip == [{k: v for k, v in key.items() if k != "last_used_at"} for key in after["data"]]


@pytest.mark.parametrize(
    "path", [op.path for op in NONPROFIT_OPERATIONS if "{" not in op.path and op.method == "GET"]
)
async def test_lists_show_only_own_data(
    client: httpx.AsyncClient, two_orgs: dict[str, Any], path: str
) -> None:
    a: builders.Org = two_orgs["a"]
    b: builders.Org = two_orgs["b"]

    response = await client.get("/api/v1" + path, headers=a.headers)

    assert response.status_code == 200
    text = response.text
    assert two_orgs["campaign_id"] not in text
    assert two_orgs["api_key_id"] not in text
    assert b.id not in text and b.email not in text


def test_every_nonprofit_operation_is_covered() -> None:
    with_ids = [op for op in NONPROFIT_OPERATIONS if "{" in op.path]
    listed = [op for op in NONPROFIT_OPERATIONS if "{" not in op.path]
    filled = (
        "campaign_id",
        "api_key_id",
        "match_id",
        "donation_id",
        "update_id",
        "endpoint_id",
        "delivery_id",
        "member_id",
        "invite_id",
        "fundraiser_id",
    )
    assert {p for op in with_ids for p in filled if p in op.path} == set(filled)
    for op in with_ids:
        remaining = op.path
        for name in filled:
            remaining = remaining.replace(f"{{{name}:uuid}}", "")
        assert "{" not in remaining, f"{op.path} has a path parameter this test does not fill"
    assert len(listed) >= 4
