"""A payout netted in full against receivables sends nothing: no "Paid out: €0.00" email."""

from __future__ import annotations

import uuid

import httpx

from campaigns import facts
from service.db import Database
from service.settings import Settings
from tests.campaigns.matching.helpers import give, make_program, make_world_with_org, only_match
from tests.campaigns.notifications.helpers import set_notifications
from tests.campaigns.notifications.test_money_emails import hear
from tests.mail_server import SmtpServer


async def test_a_payout_that_transferred_nothing_emails_nobody(
    client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    world, org = await make_world_with_org(client, database, settings)
    await make_program(world)
    match = await only_match(database, await give(world))
    owner = (await client.get("/api/v1/members", headers=org.headers)).json()["data"][0]["id"]
    await set_notifications(client, org, owner, gift_emails="daily", language="nl")

    def paid(transfer_minor: int) -> facts.Fact:
        return facts.Fact(
            type=facts.PAYOUT_PAID,
            key=f"payout:{uuid.uuid4()}:paid",
            nonprofit_id=match.nonprofit_id,
            subject_id=uuid.uuid4(),  # not a payout row: the fact's own object tells
            occurred_at=match.created_at,
            data={"amount_minor": 2500, "transfer_minor": transfer_minor, "currency": "eur"},
        )

    await hear(database, paid(0), paid(1))
    arrived = await smtp_server.deliver(database)

    assert [m["Subject"] for m in arrived] == ["Uitbetaald: € 0,01"]
