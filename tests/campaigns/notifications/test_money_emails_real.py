"""Payout and match decision emails through the real paths: an admin approves and rejects over
the API, the payout outbox pays through the Stripe sandbox and its transfer events arrive three
times over, reversed; the nonprofit appeals once. Each fact reaches the members once."""

from __future__ import annotations

from datetime import datetime, timedelta

from service.db import utcnow
from tests.campaigns.matching.helpers import give, make_program, only_match
from tests.mail_server import SmtpServer, parts
from tests.payouts.helpers import PayoutWorld, connect_account, relay, run_outbox


def later(days: int = 8) -> datetime:
    return utcnow() + timedelta(days=days)


class TestMoneyEmailsThroughTheRealPaths:
    async def test_approved_then_paid_out_each_emailed_once(
        self, pw: PayoutWorld, smtp_server: SmtpServer
    ) -> None:
        await make_program(pw.world)
        await connect_account(pw)
        match = await only_match(pw.database, await give(pw.world, amount_minor=2_000))
        approve = f"/api/v1/admin/matches/{match.id}/approve"
        assert (await pw.world.client.post(approve, json={}, headers=pw.world.reviewer.headers)).is_success

        await run_outbox(pw, now=later())
        await relay(pw, copies=3, reverse=True)
        await run_outbox(pw, now=later(9))
        await relay(pw, copies=2)
        arrived = await smtp_server.deliver(pw.database)

        subjects = sorted(m["Subject"] for m in arrived if m["To"] == pw.org.email)
        assert subjects == ["Match approved: €20.00", "Paid out: €20.00"]

    async def test_a_rejection_says_why_and_how_to_appeal_once(
        self, pw: PayoutWorld, smtp_server: SmtpServer
    ) -> None:
        await make_program(pw.world)
        match = await only_match(pw.database, await give(pw.world, amount_minor=3_000))
        reject = f"/api/v1/admin/matches/{match.id}/reject"
        note = {"note": "These gifts all come from one card."}
        assert (await pw.world.client.post(reject, json=note, headers=pw.world.reviewer.headers)).is_success
        [first] = await smtp_server.deliver(pw.database)

        appeal = await pw.world.client.post(
            f"/api/v1/matches/{match.id}/appeal",
            json={"message": "Three different people in our choir gave, each with their own card."},
            headers=pw.org.headers,
        )
        assert appeal.is_success, appeal.text
        again = {"note": "Still one card."}
        assert (await pw.world.client.post(reject, json=again, headers=pw.world.reviewer.headers)).is_success
        [second] = await smtp_server.deliver(pw.database)

        assert first["To"] == second["To"] == pw.org.email
        assert first["Subject"] == second["Subject"] == "Match not approved: €30.00"
        text, _ = parts(first)
        assert "These gifts all come from one card." in text
        assert "you may appeal once" in text
        later_text, _ = parts(second)
        assert "Still one card." in later_text
        assert "appeal" not in later_text.lower()
