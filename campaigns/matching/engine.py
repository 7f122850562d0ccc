"""The matching engine's reactions to money: reserve on settle, shrink on partial refunds,
void or claw back on refunds and disputes, release quotes on failed checkouts.

Called from the donation hooks inside the webhook processor's transaction, so everything here
is idempotent: a replayed event finds the match already made (UNIQUE per donation and
program) and the ledger keys already posted. Program rows are locked in id order, all of the
programs one call needs in one statement, so two workers never wait on each other in a cycle.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign
from campaigns.donations.models import SETTLED, Donation, DonationStatus
from campaigns.matching import (
    amounts,
    announcements,
    challenges,
    hooks,
    identity,
    pool,
    repository,
    risk,
    risk_settings,
)
from campaigns.matching import status as machine
from campaigns.matching.eligibility import Context, ineligible_reason, net_gift_minor, program_takes, scaled
from campaigns.matching.journal import note
from campaigns.matching.models import (
    Match,
    MatchingProgram,
    MatchQuote,
    MatchStatus,
    Policy,
    ProgramStatus,
    QuoteStatus,
)
from campaigns.matching.policies import ChallengeUnlockParams, challenge_bonus_minor
from campaigns.matching.risk_settings import RiskConfig
from campaigns.nonprofits.models import Nonprofit
from service.auth.models import Admin
from service.unit_of_work import UnitOfWork

UNWOUND = frozenset({DonationStatus.REFUNDED, DonationStatus.DISPUTED})
VOIDABLE = frozenset({MatchStatus.PENDING, MatchStatus.HELD_FOR_REVIEW, MatchStatus.APPROVED})


async def context_of(session: AsyncSession, campaign_id: uuid.UUID) -> Context:
    row = (
        await session.execute(
            sa.select(Campaign, Nonprofit)
            .join(Nonprofit, Nonprofit.id == Campaign.nonprofit_id)
            .where(Campaign.id == campaign_id)
        )
    ).one()
    return Context(campaign=row[0], nonprofit=row[1])


async def on_money_changed(session: UnitOfWork, donation: Donation) -> None:
    """A donation was confirmed, refunded (in part or whole) or disputed."""
    if not await repository.any_program(session):
        return
    if donation.status in UNWOUND:
        await _unwind(session, donation)
        return
    if donation.status in SETTLED:
        await _settle(session, donation)


@dataclass
class _Locked:
    programs: dict[uuid.UUID, MatchingProgram]
    matches: dict[uuid.UUID, Match]
    quotes: dict[uuid.UUID, MatchQuote]


async def _lock_for(session: AsyncSession, donation: Donation, *, also: Iterable[uuid.UUID] = ()) -> _Locked:
    """The donation's programs, then its matches and held quotes, locked in that order.

    Programs come first on every path (admin decisions, chores, checkout), so no two
    transactions wait on each other in a cycle.
    """
    seen = await repository.matches_of_donation(session, donation.id)
    held = await repository.held_quotes(session, donation.id)
    programs = await pool.lock_programs(
        session, [*also, *(m.program_id for m in seen), *(q.program_id for q in held)]
    )
    if not programs:
        return _Locked({}, {}, {})
    matches = await repository.matches_of_donation(session, donation.id, lock=bool(seen))
    quotes = await repository.held_quotes(session, donation.id, lock=bool(held))
    return _Locked(programs, {m.program_id: m for m in matches}, {q.program_id: q for q in quotes})


async def on_checkout_closed(session: UnitOfWork, donation: Donation) -> None:
    """Checkout failed or expired unpaid: what was quoted goes back to the pool."""
    if not await repository.any_program(session):
        return
    locked = await _lock_for(session, donation)
    for program_id, quote in locked.quotes.items():
        await release_quote(session, locked.programs[program_id], quote)


async def on_facts_changed(session: UnitOfWork, donation: Donation) -> None:
    """New facts about a settled donation (card, Radar score, early fraud warning): look again."""
    if donation.status not in SETTLED or not await repository.any_program(session):
        return
    # Even without a match of its own, a card arriving late can show that other donors'
    # matches belong to one person (or to the nonprofit's own people).
    candidates = await repository.programs_for(
        session, currency=donation.currency, campaign_id=donation.campaign_id, at=donation.created_at
    )
    locked = await _lock_for(session, donation, also=(p.id for p in candidates))
    if not locked.programs:
        return
    cluster_id = await _link(session, donation, locked.programs)
    ctx = await context_of(session, donation.campaign_id)
    live = [m for m in locked.matches.values() if m.status in VOIDABLE]
    config = await risk_settings.load(session) if live else None
    for match in live:
        assert config is not None
        program = locked.programs[match.program_id]
        match.cluster_id = cluster_id
        reason = await ineligible_reason(
            session, program, donation, cluster_id=cluster_id, ctx=ctx, program_level=False
        )
        if reason is not None:
            await void_match(session, program, match, reason=reason)
            continue
        weight = await refresh_risk(
            session, program, match, donation=donation, ctx=ctx, at=session.now(), config=config
        )
        if match.status is MatchStatus.APPROVED and weight >= risk.REVIEW_SCORE:
            # Approved but not paid yet: what Stripe or the cluster told us since goes to a person.
            machine.move(match, MatchStatus.HELD_FOR_REVIEW)
            note(
                session,
                match,
                action="match.held_for_review",
                before=MatchStatus.APPROVED,
                note="new risk facts",
            )


async def refresh_risk(
    session: AsyncSession,
    program: MatchingProgram,
    match: Match,
    *,
    donation: Donation | None,
    ctx: Context,
    at: datetime,
    config: RiskConfig,
) -> int:
    """Look at the match's risk again; returns its total weight.

    Signals seen before stay on the record even if the burst that raised them has passed.
    Callers load the risk settings once for all the matches they look at.
    """
    signals = await risk.assess(
        session,
        program=program,
        donation=donation,
        amount_minor=match.amount_minor,
        nonprofit=ctx.nonprofit,
        at=at,
        config=config,
    )
    known = set(risk.reason_codes(match.risk_reasons))
    fresh = [s.as_json() for s in signals if s.code not in known]
    if fresh:
        match.risk_reasons = match.risk_reasons + fresh
    return risk.total_weight(match.risk_reasons)


async def _link(
    session: UnitOfWork, donation: Donation, programs: dict[uuid.UUID, MatchingProgram]
) -> uuid.UUID:
    """The donation's donor cluster, after looking again at what a grown cluster changes."""
    linked = await identity.link_donation(session, donation)
    if linked.merged:
        await _after_merge(session, programs, cluster_id=linked.cluster_id)
    return linked.cluster_id


async def _after_merge(
    session: UnitOfWork, programs: dict[uuid.UUID, MatchingProgram], *, cluster_id: uuid.UUID
) -> None:
    """Donors who looked like strangers turned out to be one person: look at their matches again.

    If the person is one of a nonprofit's own, their unpaid matches for it are voided. Their
    per-donor cap is shared from now on: paid matches count first (a cap is not a reason to
    claw money back), then unpaid ones oldest first; the rest shrink or are voided.
    """
    owner_of: dict[uuid.UUID, bool] = {}
    for program in programs.values():
        matches = await repository.cluster_matches(session, program_id=program.id, cluster_id=cluster_id)
        for match in matches:
            if match.nonprofit_id not in owner_of:
                owner_of[match.nonprofit_id] = await identity.is_owner_linked(
                    session, cluster_id=cluster_id, nonprofit_id=match.nonprofit_id
                )
            if owner_of[match.nonprofit_id] and match.status in VOIDABLE:
                await void_match(session, program, match, reason="owner_linked")
        if program.per_donor_cap_minor is not None:
            await _fit_cap(session, program, [m for m in matches if m.status is not MatchStatus.VOIDED])


async def _fit_cap(session: UnitOfWork, program: MatchingProgram, matches: list[Match]) -> None:
    assert program.per_donor_cap_minor is not None
    room = program.per_donor_cap_minor
    for match in sorted(matches, key=lambda m: (m.status is not MatchStatus.PAID, m.created_at, m.id)):
        kept = match.amount_minor - match.recovered_minor
        if match.status is MatchStatus.PAID or kept <= room:
            room -= min(kept, room)
        elif room == 0:
            await void_match(session, program, match, reason="per_donor_cap")
        else:
            await _resize(
                session, program, match, amount_minor=room, why="linked to other gifts of the same donor"
            )
            room = 0


async def _resize(
    session: UnitOfWork, program: MatchingProgram, match: Match, *, amount_minor: int, why: str
) -> None:
    before = match.amount_minor
    await pool.resize(session, program, match, amount_minor=amount_minor)
    note(
        session,
        match,
        action="match.resized",
        before=match.status,
        note=why,
        extra_before={"amount_minor": before},
        extra_after={"amount_minor": amount_minor},
    )


async def release_quote(session: UnitOfWork, program: MatchingProgram, quote: MatchQuote) -> None:
    await pool.close_quote(session, program, quote)
    quote.status = QuoteStatus.RELEASED


async def void_match(
    session: UnitOfWork,
    program: MatchingProgram,
    match: Match,
    *,
    reason: str,
    admin: Admin | None = None,
    note_text: str | None = None,
) -> None:
    """Give a match's reservation back to the pool (a paid one is clawed back instead).

    With an admin, it is their rejection: recorded as their decision, with their note.
    """
    if match.status is MatchStatus.VOIDED:
        return
    if match.status is MatchStatus.PAID:
        await claw_back(session, program, match, total_minor=match.amount_minor, reason=reason)
        return
    machine.check_transition(match, MatchStatus.VOIDED)
    await pool.release(session, program, match)
    before = machine.move(match, MatchStatus.VOIDED)
    match.void_reason = reason
    if admin is not None:
        match.decided_by_admin_id = admin.id
        match.decision_note = note_text
    action = "match.rejected" if admin is not None else "match.voided"
    note(session, match, action=action, before=before, note=note_text or reason, admin=admin)
    await announcements.announce_voided(session, match, rejected=admin is not None)


async def claw_back(
    session: UnitOfWork, program: MatchingProgram, match: Match, *, total_minor: int, reason: str
) -> None:
    # A paid match's money sits in the nonprofit's Stripe account: it comes back through a
    # transfer reversal from the payout outbox, and the pool only when that settles.
    clawbacks = hooks.clawbacks()
    if await clawbacks.request_clawback(session, program, match, total_minor=total_minor, reason=reason):
        return
    if total_minor <= match.recovered_minor:
        return
    before = {"recovered_minor": match.recovered_minor}
    await pool.claw_back(session, program, match, total_minor=total_minor)
    note(
        session,
        match,
        action="match.clawed_back",
        before=match.status,
        note=reason,
        extra_before=before,
        extra_after={"recovered_minor": match.recovered_minor},
    )


async def _unwind(session: UnitOfWork, donation: Donation) -> None:
    locked = await _lock_for(session, donation)
    reason = "refunded" if donation.status is DonationStatus.REFUNDED else "disputed"
    for program_id, quote in locked.quotes.items():
        await release_quote(session, locked.programs[program_id], quote)
    for program_id, match in locked.matches.items():
        await void_match(session, locked.programs[program_id], match, reason=reason)


async def _settle(session: UnitOfWork, donation: Donation) -> None:
    candidates = await repository.programs_for(
        session, currency=donation.currency, campaign_id=donation.campaign_id, at=donation.created_at
    )
    locked = await _lock_for(session, donation, also=(p.id for p in candidates))
    if not locked.programs:
        return
    cluster_id = await _link(session, donation, locked.programs)
    ctx = await context_of(session, donation.campaign_id)
    for program_id, program in locked.programs.items():
        match = locked.matches.get(program_id)
        quote = locked.quotes.get(program_id)
        if match is not None:
            await _shrink_for_refunds(session, program, match, donation)
        elif program.policy in amounts.DONATION_POLICIES:
            await _match_donation(session, program, donation, cluster_id=cluster_id, ctx=ctx, quote=quote)
        elif quote is not None:
            await release_quote(session, program, quote)
        if program.policy is Policy.CHALLENGE_UNLOCK and program.status is ProgramStatus.ACTIVE:
            await check_challenge(session, program, ctx=ctx, at=session.now(), final=False)


async def _match_donation(
    session: UnitOfWork,
    program: MatchingProgram,
    donation: Donation,
    *,
    cluster_id: uuid.UUID,
    ctx: Context,
    quote: MatchQuote | None,
) -> None:
    reason = await ineligible_reason(session, program, donation, cluster_id=cluster_id, ctx=ctx)
    offer = amounts.Offer(0, 0)
    if reason is None:
        held = quote.amount_minor if quote is not None else 0
        # Always on the whole gift, then scaled to what refunds left of it: the same figure
        # whether a partial refund arrived before the payment's confirmation or after.
        offer = await amounts.donation_offer(
            session,
            program,
            donation,
            cluster_id=cluster_id,
            gift_minor=donation.amount_minor,
            already_held_minor=held,
        )
    if quote is not None:
        # The hold counted as available above, so the pool running low since cannot shrink
        # the promise; only the caps can (the donor's other gifts, learnt from the payment).
        await pool.close_quote(session, program, quote)
        quote.status = QuoteStatus.CONVERTED if offer.amount_minor > 0 else QuoteStatus.RELEASED
    amount = scaled(
        offer.amount_minor, original_gift_minor=donation.amount_minor, net_gift=net_gift_minor(donation)
    )
    if amount <= 0:
        return
    match = _new_match(
        program,
        ctx=ctx,
        key=f"{program.id}:donation:{donation.id}",
        amount_minor=amount,
        original_minor=offer.amount_minor,
        donation_id=donation.id,
        cluster_id=cluster_id,
        referrer_cluster_id=offer.referrer_cluster_id,
        at=session.now(),
    )
    await _open(session, program, match, ctx=ctx, donation=donation)


def _new_match(
    program: MatchingProgram,
    *,
    ctx: Context,
    key: str,
    amount_minor: int,
    original_minor: int,
    donation_id: uuid.UUID | None = None,
    cluster_id: uuid.UUID | None = None,
    referrer_cluster_id: uuid.UUID | None = None,
    at: datetime,
) -> Match:
    """A pending match for a donation or (without one) for the campaign, in its hold period."""
    return Match(
        id=uuid.uuid4(),
        key=key,
        program_id=program.id,
        donation_id=donation_id,
        campaign_id=ctx.campaign.id,
        nonprofit_id=ctx.nonprofit.id,
        cluster_id=cluster_id,
        referrer_cluster_id=referrer_cluster_id,
        currency=program.currency,
        amount_minor=amount_minor,
        original_minor=original_minor,
        status=MatchStatus.PENDING,
        revision=0,
        recovered_minor=0,
        hold_until=at + timedelta(days=program.hold_days),
    )


async def _open(
    session: UnitOfWork, program: MatchingProgram, match: Match, *, ctx: Context, donation: Donation | None
) -> None:
    signals = await risk.assess(
        session,
        program=program,
        donation=donation,
        amount_minor=match.amount_minor,
        nonprofit=ctx.nonprofit,
        at=session.now(),
    )
    match.risk_reasons = risk.reasons_json(signals)
    session.add(match)
    await pool.reserve(session, program, match)
    await session.flush()
    note(session, match, action="match.reserved", before=None)


async def _shrink_for_refunds(
    session: UnitOfWork, program: MatchingProgram, match: Match, donation: Donation
) -> None:
    """A partial refund voids the match in proportion (a new, smaller reservation)."""
    target = scaled(
        match.original_minor, original_gift_minor=donation.amount_minor, net_gift=net_gift_minor(donation)
    )
    if match.status is MatchStatus.PAID:
        await claw_back(
            session, program, match, total_minor=match.amount_minor - target, reason="partially refunded"
        )
        return
    if match.status is MatchStatus.VOIDED or target >= match.amount_minor:
        return
    if target <= 0:
        # The whole gift went back (only the fee cover is left): nothing is left to match.
        await void_match(session, program, match, reason="refunded")
        return
    await _resize(session, program, match, amount_minor=target, why="partially refunded")


async def check_challenge(
    session: UnitOfWork, program: MatchingProgram, *, ctx: Context, at: datetime, final: bool
) -> None:
    """Unlock a campaign's challenge bonus once its target is met (pro rata at the deadline)."""
    key = challenges.campaign_match_key(program.id, ctx)
    if program_takes(program, ctx) is not None or await repository.get_match(
        session, program_id=program.id, key=key
    ):
        return
    params = ChallengeUnlockParams.model_validate(program.policy_params)
    # One count for the engine and the page's "12 more donors unlock ..." (challenges).
    count = await challenges.challenge_count(session, program, params, ctx=ctx)
    bonus = challenge_bonus_minor(
        params, donors=count.donors, raised_minor=count.raised_minor, at=at, final=final
    )
    await open_campaign_match(session, program, ctx=ctx, amount_minor=bonus)


async def open_campaign_match(
    session: UnitOfWork, program: MatchingProgram, *, ctx: Context, amount_minor: int
) -> Match | None:
    """A campaign-level match (challenge bonus, quadratic share), within the caps and the pool."""
    room = [amount_minor, program.available_minor]
    if program.per_campaign_cap_minor is not None:
        used = await repository.committed_minor(session, program_id=program.id, campaign_id=ctx.campaign.id)
        room.append(program.per_campaign_cap_minor - used)
    amount = max(min(room), 0)
    if amount <= 0 or (amount < amount_minor and not program.allow_partial):
        return None
    match = _new_match(
        program,
        ctx=ctx,
        key=challenges.campaign_match_key(program.id, ctx),
        amount_minor=amount,
        original_minor=amount,
        at=session.now(),
    )
    await _open(session, program, match, ctx=ctx, donation=None)
    return match
