"""The nonprofit's and moderators' decisions on a page, and the nonprofit's view of its pages.

The status machine (decisions move along its edges through `_decide`):

    pending_email -> pending_approval -> live -> hidden -> live (unhide)
    pending_email -> live (no approval asked, nothing flagged)
    pending_approval -> hidden -> pending_approval (unhide: back where it was hidden from)
    live -> pending_approval (the owner changed what the nonprofit approved: managing)
    pending_approval | live | hidden -> ended (final)

A member (editor or owner) or API key acts only on its own organisation's pages (another's is
"not found", ids are not confirmed); a platform admin (console moderator) on any. Every
decision is audit-logged and announced as a fact in the same unit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Final

import sqlalchemy as sa

from campaigns import facts
from campaigns.campaign.models import Campaign
from campaigns.fundraising import mail, repository
from campaigns.fundraising.errors import FundraiserChanged, FundraiserNotFound, IllegalFundraiserTransition
from campaigns.fundraising.models import Fundraiser, FundraiserStatus
from campaigns.fundraising.schemas import fundraiser_out
from campaigns.moderation.models import CampaignReport
from campaigns.nonprofits.actors import Actor
from campaigns.nonprofits.models import MemberRole
from service import audit
from service.auth.models import Admin
from service.i18n import N_
from service.unit_of_work import UnitOfWork

S = FundraiserStatus
_EDGES: Final[dict[FundraiserStatus, frozenset[FundraiserStatus]]] = {
    S.PENDING_EMAIL: frozenset({S.PENDING_APPROVAL, S.LIVE, S.ENDED}),
    S.PENDING_APPROVAL: frozenset({S.LIVE, S.HIDDEN, S.ENDED}),
    S.LIVE: frozenset({S.PENDING_APPROVAL, S.HIDDEN, S.ENDED}),
    S.HIDDEN: frozenset({S.LIVE, S.PENDING_APPROVAL, S.ENDED}),
    S.ENDED: frozenset(),
}
DecidingActor = Actor | Admin


async def get_for_actor(
    session: UnitOfWork, *, actor: DecidingActor, fundraiser_id: uuid.UUID, lock: bool = False
) -> Fundraiser:
    """The page, when the actor may see it: its own organisation's, or any for an admin."""
    fundraiser = await repository.get_fundraiser(session, fundraiser_id, lock=lock)
    if fundraiser is None or (isinstance(actor, Actor) and fundraiser.nonprofit_id != actor.nonprofit_id):
        raise FundraiserNotFound(N_("There is no such fundraiser page."))
    return fundraiser


async def list_for_nonprofit(
    session: UnitOfWork,
    *,
    actor: Actor,
    campaign_id: uuid.UUID | None = None,
    status: FundraiserStatus | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[Fundraiser]:
    """The organisation's pages, newest first (pages still waiting for their email included)."""
    return await repository.list_for_nonprofit(
        session,
        nonprofit_id=actor.nonprofit_id,
        campaign_id=campaign_id,
        status=status,
        limit=max(1, min(limit, 500)),
        offset=max(0, offset),
    )


async def approve(
    session: UnitOfWork,
    *,
    actor: DecidingActor,
    fundraiser_id: uuid.UUID,
    expected_revision: int | None = None,
) -> Fundraiser:
    """A page waiting for approval goes live; its fundraiser hears by email.

    `expected_revision` is the page's `content_revision` the reviewer saw: the owner may still
    edit a page waiting for approval, and approving must never publish an edit nobody read.
    Checked on the locked row, so an edit cannot slip in between."""
    fundraiser, _ = await _decide(session, actor, fundraiser_id, to=S.LIVE, only_from={S.PENDING_APPROVAL})
    if expected_revision is not None and expected_revision != fundraiser.content_revision:
        # The edge's transaction rolls back with this error: the page stays waiting.
        raise FundraiserChanged(N_("The page changed since you opened it; look again before approving."))
    fundraiser.approved_at = session.now()
    await _record(session, actor, fundraiser, "fundraiser.approve", facts.FUNDRAISER_APPROVED)
    campaign = await session.get(Campaign, fundraiser.campaign_id)
    assert campaign is not None
    await mail.queue_live(session, fundraiser=fundraiser, campaign=campaign)
    return fundraiser


async def hide(
    session: UnitOfWork, *, actor: DecidingActor, fundraiser_id: uuid.UUID, note: str | None = None
) -> Fundraiser:
    """Take a page down (reversible): no page, no leaderboard place, no new gifts through it.
    Its open reports stay open: hiding is a step, moderators still see what was reported."""
    fundraiser, was = await _decide(
        session, actor, fundraiser_id, to=S.HIDDEN, only_from={S.LIVE, S.PENDING_APPROVAL}
    )
    fundraiser.hidden_at = session.now()
    fundraiser.hidden_from = was
    await _record(session, actor, fundraiser, "fundraiser.hide", facts.FUNDRAISER_HIDDEN, note=note)
    return fundraiser


async def unhide(
    session: UnitOfWork, *, actor: DecidingActor, fundraiser_id: uuid.UUID, note: str | None = None
) -> Fundraiser:
    """Put a hidden page back where it was hidden from: live, or still waiting for approval
    (showing a page again never stands in for approving it)."""
    fundraiser, _ = await _decide(session, actor, fundraiser_id, to=unhide_target, only_from={S.HIDDEN})
    fundraiser.hidden_at = None
    fundraiser.hidden_from = None
    await _record(session, actor, fundraiser, "fundraiser.unhide", facts.FUNDRAISER_UNHIDDEN, note=note)
    return fundraiser


def unhide_target(fundraiser: Fundraiser) -> FundraiserStatus:
    """Where a hidden page goes back to. A page hidden before `hidden_from` was kept goes live
    only when the nonprofit had approved it; otherwise it waits for approval."""
    if fundraiser.hidden_from in (S.LIVE, S.PENDING_APPROVAL):
        return fundraiser.hidden_from
    return S.LIVE if fundraiser.approved_at is not None else S.PENDING_APPROVAL


async def end(
    session: UnitOfWork, *, actor: DecidingActor, fundraiser_id: uuid.UUID, note: str | None = None
) -> Fundraiser:
    """Close a page for good; the gifts it brought still count for the campaign."""
    fundraiser, _ = await _decide(
        session,
        actor,
        fundraiser_id,
        to=S.ENDED,
        only_from={S.PENDING_EMAIL, S.PENDING_APPROVAL, S.LIVE, S.HIDDEN},
    )
    fundraiser.ended_at = session.now()
    fundraiser.hidden_from = None
    await _record(session, actor, fundraiser, "fundraiser.end", facts.FUNDRAISER_ENDED, note=note)
    # Gone for good, so what was reported about it is dealt with, whoever ended it (dashboard,
    # API or console). A hidden page's reports stay open (hiding is reversible).
    await close_reports(session, actor=actor, fundraiser=fundraiser, note=note or "The page was ended.")
    return fundraiser


async def close_reports(
    session: UnitOfWork, *, actor: DecidingActor, fundraiser: Fundraiser, note: str
) -> int:
    """Close the page's open reports with the decision's reason (audited); returns how many.
    Ending a page does it itself; the console also does it when a moderator hides a page or
    shows it again."""
    result = await session.execute(
        sa.update(CampaignReport)
        .where(CampaignReport.fundraiser_id == fundraiser.id, CampaignReport.resolved_at.is_(None))
        .values(
            resolved_at=session.now(),
            resolved_by_admin_id=actor.id if isinstance(actor, Admin) else None,
            resolution_note=note,
        )
        .returning(CampaignReport.id)
    )
    closed = len(result.all())
    if closed:
        await audit.record(
            session,
            actor=actor,
            action="fundraiser.reports_resolved",
            subject_type="fundraiser",
            subject_id=str(fundraiser.id),
            nonprofit_id=fundraiser.nonprofit_id,
            after={"resolved": closed},
            note=note,
        )
    return closed


async def _decide(
    session: UnitOfWork,
    actor: DecidingActor,
    fundraiser_id: uuid.UUID,
    *,
    to: FundraiserStatus | Callable[[Fundraiser], FundraiserStatus],
    only_from: set[FundraiserStatus],
) -> tuple[Fundraiser, FundraiserStatus]:
    """Move the locked page along one edge; returns it and the status it came from."""
    if isinstance(actor, Actor):
        actor.require(MemberRole.EDITOR)
    fundraiser = await get_for_actor(session, actor=actor, fundraiser_id=fundraiser_id, lock=True)
    if callable(to):
        to = to(fundraiser)
    was = fundraiser.status
    if fundraiser.status not in only_from or to not in _EDGES[fundraiser.status]:
        raise IllegalFundraiserTransition(
            N_(
                "The page is %(status)s and cannot become %(target)s.",
                status=fundraiser.status.value.replace("_", " "),
                target=to.value.replace("_", " "),
            )
        )
    fundraiser.status = to
    return fundraiser, was


async def record_hold(session: UnitOfWork, fundraiser: Fundraiser) -> None:
    """The owner's edit took a live page back to waiting for approval (managing): logged with
    the fundraiser as the actor and announced like the nonprofit's own moves."""
    owner = audit.SystemActor(label=f"fundraiser {fundraiser.email}", actor_id=str(fundraiser.id))
    await _record(
        session, owner, fundraiser, "fundraiser.awaiting_approval", facts.FUNDRAISER_AWAITING_APPROVAL
    )


async def _record(
    session: UnitOfWork,
    actor: audit.AuditActor,
    fundraiser: Fundraiser,
    action: str,
    fact_type: str,
    *,
    note: str | None = None,
) -> None:
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action=action,
        subject_type="fundraiser",
        subject_id=str(fundraiser.id),
        nonprofit_id=fundraiser.nonprofit_id,
        after={"status": fundraiser.status.value},
        note=note,
    )
    count = await _decision_count(session, fundraiser)
    await facts.announce(
        session,
        facts.Fact(
            type=fact_type,
            key=f"fundraiser:{fundraiser.id}:status:{count}",
            nonprofit_id=fundraiser.nonprofit_id,
            subject_id=fundraiser.id,
            occurred_at=session.now(),
            data=fundraiser_out(fundraiser).model_dump(mode="json"),
        ),
    )


async def _decision_count(session: UnitOfWork, fundraiser: Fundraiser) -> int:
    """How many decisions the audit log holds for this page: numbers the facts' keys, so a hide
    after an unhide is a new fact (like a campaign's numbered status moves)."""
    found = await session.scalar(
        sa.select(sa.func.count())
        .select_from(audit.AuditEntry)
        .where(
            audit.AuditEntry.subject_type == "fundraiser", audit.AuditEntry.subject_id == str(fundraiser.id)
        )
    )
    return int(found or 0)
