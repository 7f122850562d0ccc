"""Payout and match decision emails: members with money emails on hear each fact once, with the
match's campaign and amount, a rejection's reason and how to appeal."""

from __future__ import annotations

import uuid

import httpx

from campaigns import facts
from campaigns.matching.models import Match, MatchStatus
from campaigns.notifications.listener import LISTENER
from service.db import Database
from service.settings import Settings
from tests.campaigns.matching.helpers import give, make_program, make_world_with_org, only_match
from tests.campaigns.notifications.helpers import add_member, set_notifications, to
from tests.mail_server import SmtpServer, parts


def fact(match: Match, fact_type: str, key: str, data: dict[str, object] | None = None) -> facts.Fact:
    return facts.Fact(
        type=fact_type,
        key=key,
        nonprofit_id=match.nonprofit_id,
        subject_id=match.id,
        occurred_at=match.created_at,
        data=data or {},
    )


async def hear(database: Database, *announced: facts.Fact) -> None:
    """The listener in the announcing unit of work, as campaigns.facts.announce runs it."""
    async with database.transaction() as session:
        for one in announced:
            await LISTENER.on_fact(session, one)


async def decide(database: Database, match_id: uuid.UUID, *, reason: str, note: str | None = None) -> Match:
    """What a rejection or a void leaves on the match (the state machine's fields)."""
    async with database.transaction() as session:
        match = await session.get(Match, match_id)
        assert match is not None
        match.status = MatchStatus.VOIDED
        match.void_reason = reason
        match.decision_note = note
        return match


class TestMatchDecisions:
    async def test_approved_rejected_and_voided_reach_members_with_money_emails_once(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        world, org = await make_world_with_org(client, database, settings)
        await make_program(world)
        quiet = await add_member(client, org, "quiet@harbor-relief.org")
        await set_notifications(client, org, quiet, gift_emails="none", money_emails=False)
        match = await only_match(database, await give(world, amount_minor=3000))
        other = await only_match(database, await give(world, amount_minor=1000))
        await smtp_server.deliver(database)  # the invitation

        approved = fact(match, facts.MATCH_APPROVED, f"match:{match.id}:approved:r0:a0")
        await hear(database, approved, approved)
        rejected_match = await decide(
            database, match.id, reason="rejected", note="The gifts come from one card."
        )
        rejected = fact(rejected_match, facts.MATCH_REJECTED, f"match:{match.id}:rejected:r0")
        await hear(database, rejected, rejected)
        voided_match = await decide(database, other.id, reason="refunded")
        voided = fact(voided_match, facts.MATCH_VOIDED, f"match:{other.id}:voided:r0")
        await hear(database, voided, voided)
        arrived = await smtp_server.deliver(database)

        assert to(arrived, "quiet@harbor-relief.org") == []
        assert [m["Subject"] for m in to(arrived, org.email)] == [
            "Match approved: €30.00",
            "Match not approved: €30.00",
            "Match released: €10.00",
        ]
        approved_mail, rejected_mail, voided_mail = arrived
        assert "A match of €30.00 for Winter coats for 300 kids is approved." in parts(approved_mail)[0]
        text, html = parts(rejected_mail)
        assert "The gifts come from one card." in text and "The gifts come from one card." in html
        assert "you may appeal once" in text
        assert "http://testserver/dashboard/matches" in text
        assert "The gift was refunded, so its match was released." in parts(voided_mail)[0]

    async def test_a_rejection_after_an_appeal_does_not_offer_another_appeal(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        world, _ = await make_world_with_org(client, database, settings)
        await make_program(world)
        match = await only_match(database, await give(world))
        async with database.transaction() as session:
            row = await session.get(Match, match.id)
            assert row is not None
            row.appealed_at = row.created_at
        decided = await decide(database, match.id, reason="rejected", note="Still one card.")

        await hear(database, fact(decided, facts.MATCH_REJECTED, f"match:{match.id}:rejected:r1"))
        [mail] = await smtp_server.deliver(database)

        assert "Still one card." in parts(mail)[0]
        assert "appeal" not in parts(mail)[0].lower()


class TestPayouts:
    async def test_a_paid_payout_names_what_reached_the_account(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        world, org = await make_world_with_org(client, database, settings)
        await make_program(world)
        match = await only_match(database, await give(world))
        owner = (await client.get("/api/v1/members", headers=org.headers)).json()["data"][0]["id"]
        await set_notifications(client, org, owner, gift_emails="daily", language="nl")
        paid = facts.Fact(
            type=facts.PAYOUT_PAID,
            key=f"payout:{uuid.uuid4()}:paid",
            nonprofit_id=match.nonprofit_id,
            subject_id=uuid.uuid4(),  # a payout this test did not make: the fact's own object tells
            occurred_at=match.created_at,
            data={"amount_minor": 2500, "transfer_minor": 2000, "currency": "eur"},
        )

        await hear(database, paid, paid)
        [mail] = await smtp_server.deliver(database)

        assert mail["Subject"] == "Uitbetaald: € 20,00"
        assert "gekoppelde Stripe-account" in parts(mail)[0]
