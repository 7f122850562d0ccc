"""Peer-to-peer fundraising, the public API of the package (issue #15). Import this module:
`from campaigns.fundraising import service as fundraising`.

Edges own the transaction (`database.transaction()` gives the UnitOfWork every call takes).

Starting and confirming (the "start a fundraiser" form and `POST .../fundraisers`):
- `start_fundraiser(uow, campaign_slug=, data=NewFundraiser(name, email, title, story_markdown,
  goal_minor, team=TeamChoice(join_slug=|create_name=), language))` -> Fundraiser (pending_email);
  queues the confirmation email. The same address and title again within `REPEAT_WINDOW` (10 min)
  while the first still waits for its email is the first page again: nothing new, nothing sent.
  Raises FundraisersDisabled (409, peer-to-peer off or campaign not live), ValidationFailed
  (422, fields name/email/title/goal_minor/team), TeamNotFound (404).
  Rate limits are the edge's: `campaigns.fundraising.limits.enforce_creation_limits(request, email)`.
  Answer the same whatever the address (the API says `ACCEPTED_MESSAGE`).
- `confirm_link_usable(uow, token=, now=)` -> bool (GET shows a button; mail scanners)
- `confirm_email(uow, token=)` -> Confirmed(fundraiser, campaign_slug) | None (POST)

Managing (no password; the sign-in link's page and the manage page):
- `request_manage_link(uow, campaign_slug=, email=, language=)`: always queues a link (rate limit
  at the edge: `limits.enforce_sign_in_limits(request, email)`).
- `sign_in_link_usable(uow, token=, now=)` -> bool; `sign_in(uow, token=)` -> SignedIn(token,
  owner, campaign_slug) | None; keep `SignedIn.token` in an HttpOnly cookie (SESSION_COOKIE).
- `session_owner(uow, token=, now=)` -> Owner(campaign_id, email) | None; `sign_out(uow, token=)`
- `my_pages(uow, owner=)`; `own_page(uow, owner=, fundraiser_slug=)`;
  `update_page(uow, owner=, fundraiser_slug=, changes=PageChanges(...))`
- On a campaign that approves each page, a new title, story, photo or newly created team takes
  a live page back to pending_approval (`managing.hold_for_approval`); the goal, joining or
  leaving a team change at once. `decisions.approve(..., expected_revision=)` approves only the
  `content_revision` the reviewer saw.
- Photo (same rules as the cover; the edge limits uploads with
  `limits.enforce_photo_limits(request, fundraiser_id)` first): `photo_page`, then
  `campaigns.campaign.cover.prepare_cover` (in a thread), `store_photo(store, prepared)`, then
  `set_photo(uow, owner=, store=, fundraiser_slug=, prepared=, alt=)`; `remove_photo(...)`.
  Files: Fundraiser.photo_file(w, ext) (`photos/{key}-{w}.{webp|jpg}` in the media store,
  served by `media:file`).

Public reads (pages and the public API; only live pages of public campaigns):
- `public_fundraiser(session, campaign_slug=, fundraiser_slug=)` -> FundraiserView(campaign,
  nonprofit, fundraiser, team, tally, milestones); FundraiserNotFound (404)
- `public_team(session, campaign_slug=, team_slug=)` -> TeamView(..., tally, members)
- `campaign_leaderboard(session, campaign_slug=, of="fundraisers"|"teams", by="donors"|"amount")`
  -> (campaign, [Entry(rank, subject, tally)]) (top 50 at most)
- `recent_donations(session, fundraiser_id=, limit=20)` (settled, newest first)
- JSON shapes for reuse: campaigns.fundraising.web (`fundraiser_public_out`, `team_public_out`,
  `leaderboard_out`, `photo_out`).

Nonprofit and moderators (C):
- `list_for_nonprofit(uow, actor=, campaign_id=, status=, limit=, offset=)`,
  `get_for_actor(uow, actor=Actor|Admin, fundraiser_id=)` (another organisation's: 404)
- `approve`, `hide(note=)`, `unhide(note=)`, `end(note=)` (uow, actor=Actor|Admin, fundraiser_id=):
  audit-logged, facts fundraiser.approved/hidden/unhidden/ended; IllegalFundraiserTransition (409).
  `unhide` returns the page where it was hidden from (live, or still waiting for approval:
  `unhide_target(f)` says which);
  `end` closes the page's open reports (audited `fundraiser.reports_resolved`), `hide` does not;
  `close_reports(uow, actor=, fundraiser=, note=)` closes them for a moderator's other decisions.
- `totals_of(session, campaign_id=, nonprofit_id=)` -> CampaignTally (.of_fundraiser(id),
  .of_team(id): donors, raised_minor, ...); `fundraiser_out(f)` -> FundraiserOut (schemas).
- `attributed_donations(session, fundraiser_id=)`: every donation through a page (any status).

Safety: `report_page(session, campaign_slug=, fundraiser_slug=, reason=ReportReason, message=,
reporter_email=, client_hash=)` files a public report about a live page (campaign_reports with
fundraiser_id; rate limit it at the edge like the campaign report form).
Worker: `PURGE_JOB` drops links and sessions a day past their end.

Checkout (campaigns.giving.checkout): `attribution_for_checkout(session, campaign_id=,
fundraiser_slug=)` -> Attribution (FundraiserNotLive, 422); without one, `referral_through_link(session,
campaign_id=, link_id=)` -> LinkReferral(link_id, attribution) for a gift a share link referred (a
hidden or ended page's link keeps no referral); then `attribute_donation(...)`.

Routes the emails link to (part B serves them): `giving:fundraiser_confirm` (slug, token),
`giving:fundraiser_sign_in` (slug, token), `giving:fundraiser` (slug, fundraiser_slug),
`giving:team` (slug, team_slug).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.donations.models import Donation
from campaigns.fundraising import access
from campaigns.fundraising.access import Owner, session_owner
from campaigns.fundraising.attribution import (
    Attribution,
    LinkReferral,
    attribute_donation,
    attribution_for_checkout,
    referral_through_link,
)
from campaigns.fundraising.decisions import (
    approve,
    close_reports,
    end,
    get_for_actor,
    hide,
    list_for_nonprofit,
    unhide,
    unhide_target,
)
from campaigns.fundraising.leaderboard import CampaignTally, Entry, Milestone, Tally
from campaigns.fundraising.managing import (
    PageChanges,
    SignedIn,
    my_pages,
    own_page,
    request_manage_link,
    sign_in,
    sign_out,
    update_page,
)
from campaigns.fundraising.models import (
    Fundraiser,
    FundraiserDonation,
    FundraiserStatus,
    FundraiserTeam,
    LinkPurpose,
)
from campaigns.fundraising.photos import photo_page, remove_photo, set_photo, store_photo
from campaigns.fundraising.reading import (
    FundraiserView,
    TeamMember,
    TeamView,
    campaign_leaderboard,
    public_fundraiser,
    public_team,
    recent_donations,
    totals_of,
)
from campaigns.fundraising.schemas import FundraiserOut, fundraiser_out
from campaigns.fundraising.starting import (
    Confirmed,
    NewFundraiser,
    TeamChoice,
    confirm_email,
    start_fundraiser,
)
from campaigns.moderation import service as moderation
from campaigns.moderation.models import CampaignReport, ReportReason
from service.db import Database
from service.i18n import N_
from service.unit_of_work import UnitOfWork
from service.worker import Job

SESSION_COOKIE = "gl_fundraiser"
ACCEPTED_MESSAGE = N_(
    "Thanks! Check your inbox: we sent a link to confirm your email address."
    " Your page goes public once it is confirmed."
)

__all__ = [
    "ACCEPTED_MESSAGE",
    "PURGE_JOB",
    "SESSION_COOKIE",
    "Attribution",
    "CampaignTally",
    "Confirmed",
    "Entry",
    "Fundraiser",
    "FundraiserOut",
    "FundraiserStatus",
    "FundraiserTeam",
    "FundraiserView",
    "LinkReferral",
    "Milestone",
    "NewFundraiser",
    "Owner",
    "PageChanges",
    "SignedIn",
    "Tally",
    "TeamChoice",
    "TeamMember",
    "TeamView",
    "approve",
    "attribute_donation",
    "attributed_donations",
    "attribution_for_checkout",
    "campaign_leaderboard",
    "close_reports",
    "confirm_email",
    "confirm_link_usable",
    "end",
    "fundraiser_out",
    "get_for_actor",
    "hide",
    "list_for_nonprofit",
    "my_pages",
    "own_page",
    "photo_page",
    "public_fundraiser",
    "public_team",
    "recent_donations",
    "referral_through_link",
    "remove_photo",
    "report_page",
    "request_manage_link",
    "session_owner",
    "set_photo",
    "sign_in",
    "sign_in_link_usable",
    "sign_out",
    "start_fundraiser",
    "store_photo",
    "totals_of",
    "unhide",
    "unhide_target",
    "update_page",
]


async def confirm_link_usable(session: AsyncSession, *, token: str, now: datetime) -> bool:
    return await access.link_is_usable(session, token=token, purpose=LinkPurpose.CONFIRM, now=now)


async def sign_in_link_usable(session: AsyncSession, *, token: str, now: datetime) -> bool:
    return await access.link_is_usable(session, token=token, purpose=LinkPurpose.SIGN_IN, now=now)


async def attributed_donations(session: AsyncSession, *, fundraiser_id: uuid.UUID) -> Sequence[Donation]:
    """Every donation that came through the page (any status), oldest first (the nonprofit's view;
    call `get_for_actor` first: it holds tenant isolation)."""
    return (
        await session.scalars(
            sa.select(Donation)
            .join(FundraiserDonation, FundraiserDonation.donation_id == Donation.id)
            .where(FundraiserDonation.fundraiser_id == fundraiser_id)
            .order_by(Donation.created_at, Donation.id)
        )
    ).all()


async def report_page(
    session: AsyncSession,
    *,
    campaign_slug: str,
    fundraiser_slug: str,
    reason: ReportReason,
    message: str,
    reporter_email: str | None,
    client_hash: str | None,
) -> CampaignReport:
    """A visitor reports a live page: it joins the campaign's moderation queue, naming the page."""
    view = await public_fundraiser(session, campaign_slug=campaign_slug, fundraiser_slug=fundraiser_slug)
    return await moderation.report_campaign(
        session,
        slug=campaign_slug,
        reason=reason,
        message=message,
        reporter_email=reporter_email,
        client_hash=client_hash,
        fundraiser_id=view.fundraiser.id,
    )


async def _purge(database: Database) -> int:
    async with database.transaction() as session:
        return await purge_expired(session)


async def purge_expired(session: UnitOfWork) -> int:
    """Drop links and sessions a day past their end (the worker's chore)."""
    return await access.purge_expired(session)


PURGE_JOB = Job("purge_fundraiser_links", _purge, timedelta(hours=1))
