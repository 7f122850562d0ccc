"""A gift whose donor covered the fee, partly refunded: how much of its match is left.

The rule: a refund comes out of the gift first and out of the fee cover last, so the match
follows what the campaign keeps of the gift, `max(amount - refunded, 0)`, scaled by the
program's ratio. It is the rule the ledger already books (a refund leaves the campaign's
account in full, `campaigns.donations.bookkeeping`; the fee cover paid Stripe's fee, which
Stripe does not give back) and the campaign's raised total already counts. A match must not
stay larger than the ratio times what the campaign still holds.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest

from campaigns.matching.eligibility import net_of_refunds
from campaigns.matching.models import MatchStatus
from campaigns.payouts.models import ReversalStatus
from service.db import Database, utcnow
from service.settings import Settings
from tests.campaigns.matching.helpers import World, make_program, make_world, only_match, program_row
from tests.payouts.helpers import PayoutWorld, connect_account, relay, reversals, run_outbox
from tests.webhooks import stripe_events
from tests.webhooks.builders import deliver, get_campaign, insert_donation, process_all
from webhooks.commands import check_ledger

GIFT = 1_000
FEE_COVER = 59
"""Charged 10.59 for a gift of 10.00."""


@pytest.fixture
async def world(client: httpx.AsyncClient, database: Database, settings: Settings) -> World:
    return await make_world(client, database, settings)


def refund_events(payment: stripe_events.Payment, *, refunded_minor: int) -> list[dict[str, object]]:
    made = payment.refund(refund_id=stripe_events.new_id("re"), amount_minor=refunded_minor)
    return [
        stripe_events.event("refund.created", made),
        stripe_events.event("charge.refunded", payment.charge(amount_refunded=refunded_minor)),
    ]


async def give_with_fee_cover(
    world: World, *, amount_minor: int = GIFT, fee_cover_minor: int = FEE_COVER, refund_first: int = 0
) -> stripe_events.Payment:
    """A card gift charged amount + fee cover; with `refund_first`, refunded before it is confirmed."""
    email = f"donor-{uuid.uuid4().hex[:10]}@example.org"
    payment = await insert_donation(
        world.database,
        world.campaign,
        amount_minor=amount_minor,
        fee_cover_minor=fee_cover_minor,
        donor_email=email,
    )
    events = [stripe_events.event("charge.succeeded", payment.charge(fingerprint=uuid.uuid4().hex[:16]))]
    if refund_first:
        events += refund_events(payment, refunded_minor=refund_first)
    events.append(stripe_events.event("checkout.session.completed", payment.checkout_session(email=email)))
    for evt in events:
        response = await deliver(world.client, evt, world.settings.webhook_secret)
        assert response.status_code == 200, response.text
    await process_all(world.database)
    return payment


async def refund(world: World, payment: stripe_events.Payment, *, refunded_minor: int) -> None:
    for evt in refund_events(payment, refunded_minor=refunded_minor):
        await deliver(world.client, evt, world.settings.webhook_secret)
    await process_all(world.database)


class TestTheRule:
    @pytest.mark.parametrize(
        ("refunded", "net"),
        [(0, 1_000), (30, 970), (500, 500), (999, 1), (1_000, 0), (1_030, 0), (1_059, 0)],
    )
    def test_a_refund_comes_out_of_the_gift_first(self, refunded: int, net: int) -> None:
        assert net_of_refunds(GIFT, refunded_minor=refunded) == net


class TestPartialRefundOfACoveredFee:
    @pytest.mark.parametrize("when", ["after_confirmation", "before_confirmation"])
    @pytest.mark.parametrize(
        ("ratio_bps", "refunded", "match_left"),
        [
            (10_000, 500, 500),
            (10_000, 30, 970),
            (15_000, 500, 750),
            (5_000, 333, 333),  # 667 kept, half of it rounded down
        ],
    )
    async def test_the_match_follows_what_the_campaign_keeps(
        self, world: World, when: str, ratio_bps: int, refunded: int, match_left: int
    ) -> None:
        program_id = await make_program(world, policy={"policy": "fixed_ratio", "ratio_bps": ratio_bps})
        if when == "before_confirmation":
            payment = await give_with_fee_cover(world, refund_first=refunded)
        else:
            payment = await give_with_fee_cover(world)
            assert (await only_match(world.database, payment)).amount_minor == GIFT * ratio_bps // 10_000
            await refund(world, payment, refunded_minor=refunded)

        match = await only_match(world.database, payment)
        assert (match.status, match.amount_minor) == (MatchStatus.PENDING, match_left)
        raised = (await get_campaign(world.database, world.campaign.id)).raised_minor
        assert raised == GIFT - refunded
        assert match.amount_minor == raised * ratio_bps // 10_000
        assert (await program_row(world.database, program_id)).reserved_minor == match_left
        assert await check_ledger(world.database) == []

    @pytest.mark.parametrize("refunded", [GIFT, GIFT + 30])
    async def test_refunding_the_whole_gift_but_not_the_fee_cover_voids_the_match(
        self, world: World, refunded: int
    ) -> None:
        program_id = await make_program(world)
        payment = await give_with_fee_cover(world)

        await refund(world, payment, refunded_minor=refunded)

        match = await only_match(world.database, payment)
        assert match.status is MatchStatus.VOIDED
        program = await program_row(world.database, program_id)
        assert (program.reserved_minor, program.available_minor) == (0, 100_000)
        assert (await get_campaign(world.database, world.campaign.id)).raised_minor == 0
        assert await check_ledger(world.database) == []


class TestAfterPayout:
    async def test_a_partial_refund_claws_back_what_the_campaign_gave_back(self, pw: PayoutWorld) -> None:
        program_id = await make_program(pw.world)
        await connect_account(pw)
        payment = await give_with_fee_cover(pw.world)
        match = await only_match(pw.database, payment)
        approved = await pw.world.client.post(
            f"/api/v1/admin/matches/{match.id}/approve", json={}, headers=pw.world.reviewer.headers
        )
        assert approved.status_code == 200, approved.text
        await run_outbox(pw, now=utcnow() + timedelta(days=8))
        await relay(pw)
        assert (await only_match(pw.database, payment)).status is MatchStatus.PAID

        await refund(pw.world, payment, refunded_minor=500)
        await run_outbox(pw, now=utcnow() + timedelta(days=8))
        await relay(pw)

        (reversal,) = await reversals(pw.database)
        assert (reversal.status, reversal.amount_minor) == (ReversalStatus.REVERSED, 500)
        assert (await only_match(pw.database, payment)).recovered_minor == 500
        assert (await program_row(pw.database, program_id)).recovered_minor == 500
        assert await check_ledger(pw.database) == []
