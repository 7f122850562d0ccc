"""What a signed-in fundraiser does: ask for a sign-in link, sign in, edit their own pages.

See campaigns.fundraising.access for the links and sessions. Edits run the same checks as a new
page: the keyword screen (a page that newly trips it goes back to waiting for the nonprofit),
the impersonation rule, the goal's bounds. A page that was hidden or ended cannot be edited.

Approval holds for what the nonprofit approved: on a campaign that approves each page, a live
page whose title, story or photo changes goes back to `pending_approval` (off the public site,
its leaderboard place and the checkout) until the nonprofit approves it again, so nothing a
supporter writes is public unapproved. Creating a team is such a change too (its name is the
supporter's own words; it runs through the screen and the impersonation rule). Goal, joining an
existing team and leaving one change at once. Without approval, edits publish at once, as they
were approved by nobody in the first place. Every such change bumps `content_revision` (also on
a page still waiting), so an approval names the version the reviewer saw; a re-hold is
audit-logged with the fundraiser as the actor and announced (fundraiser.awaiting_approval).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from campaigns.campaign.models import Campaign
from campaigns.fundraising import access, decisions, mail, repository, safety
from campaigns.fundraising.access import Owner
from campaigns.fundraising.errors import FundraiserNotFound, FundraisersDisabled, IllegalFundraiserTransition
from campaigns.fundraising.models import Fundraiser, FundraiserStatus, LinkPurpose
from campaigns.fundraising.starting import TeamChoice, _team_for, check_page
from campaigns.nonprofits.models import Nonprofit
from service.errors import ValidationFailed
from service.i18n import N_
from service.unit_of_work import UnitOfWork

_EDITABLE = frozenset({FundraiserStatus.PENDING_APPROVAL, FundraiserStatus.LIVE})


@dataclass(frozen=True)
class SignedIn:
    token: str
    """For the session cookie; only its digest is stored."""
    owner: Owner
    campaign_slug: str


@dataclass(frozen=True)
class PageChanges:
    """Fields a fundraiser changes; None leaves a field as it is (`clear_goal`/`leave_team` clear)."""

    title: str | None = None
    story_markdown: str | None = None
    goal_minor: int | None = None
    clear_goal: bool = False
    team: TeamChoice | None = None
    leave_team: bool = False


async def request_manage_link(session: UnitOfWork, *, campaign_slug: str, email: str, language: str) -> None:
    """Queue a sign-in link for `email` in this campaign, whether or not the address has pages
    (same work, same answer: no enumeration). A malformed address or an unknown campaign is
    refused like an empty form: nothing to send to."""
    address = safety.normalise_email(email)
    if address is None:
        raise ValidationFailed({"email": N_("Enter an email address like name@example.org.")})
    found = await repository.campaign_with_nonprofit(session, slug=campaign_slug)
    if found is None:
        raise FundraisersDisabled(N_("This campaign does not take fundraiser pages."))
    campaign = found[0]
    issued = await access.issue_link(
        session,
        purpose=LinkPurpose.SIGN_IN,
        campaign_id=campaign.id,
        email=address,
        language=language if language in ("nl", "en") else campaign.default_language,
    )
    await mail.queue_sign_in(session, issued=issued, campaign=campaign)


async def sign_in(session: UnitOfWork, *, token: str) -> SignedIn | None:
    """Spend a sign-in link and open a session; None when the link is unknown, used or expired."""
    link = await access.spend_link(session, token=token, purpose=LinkPurpose.SIGN_IN)
    if link is None:
        return None
    campaign = await session.get(Campaign, link.campaign_id)
    assert campaign is not None
    session_token = await access.open_session(session, campaign_id=link.campaign_id, email=link.email)
    return SignedIn(
        token=session_token,
        owner=Owner(campaign_id=link.campaign_id, email=link.email),
        campaign_slug=campaign.slug,
    )


async def my_pages(session: UnitOfWork, *, owner: Owner) -> Sequence[Fundraiser]:
    """The address's confirmed pages in the session's campaign, oldest first."""
    return await repository.pages_of(session, campaign_id=owner.campaign_id, email=owner.email)


async def own_page(
    session: UnitOfWork, *, owner: Owner, fundraiser_slug: str, lock: bool = False
) -> Fundraiser:
    """One of the owner's pages; anyone else's is "not found"."""
    fundraiser = await repository.get_by_slug(
        session, campaign_id=owner.campaign_id, slug=fundraiser_slug, lock=lock
    )
    if (
        fundraiser is None
        or fundraiser.email != owner.email
        or fundraiser.status is FundraiserStatus.PENDING_EMAIL
    ):
        raise FundraiserNotFound(N_("There is no such fundraiser page."))
    return fundraiser


async def update_page(
    session: UnitOfWork, *, owner: Owner, fundraiser_slug: str, changes: PageChanges
) -> Fundraiser:
    fundraiser = await own_page(session, owner=owner, fundraiser_slug=fundraiser_slug, lock=True)
    if fundraiser.status not in _EDITABLE:
        raise IllegalFundraiserTransition(N_("This page can no longer be changed."))
    campaign, nonprofit = await _campaign_of(session, fundraiser.campaign_id)
    title = " ".join(changes.title.split()) if changes.title is not None else fundraiser.title
    goal = (
        None
        if changes.clear_goal
        else (changes.goal_minor if changes.goal_minor is not None else fundraiser.goal_minor)
    )
    # A new team's name is the owner's own words on the page like its title; joining a team
    # the nonprofit already saw is not.
    new_team = not changes.leave_team and changes.team is not None and changes.team.join_slug is None
    errors = check_page(
        name=fundraiser.name,
        title=title,
        goal_minor=goal,
        currency=fundraiser.currency,
        organisation_names=[nonprofit.name, campaign.title],
        team_name=changes.team.create_name if new_team and changes.team else None,
    )
    if errors:
        raise ValidationFailed(errors)
    rewritten = (
        title != fundraiser.title
        or (changes.story_markdown is not None and changes.story_markdown != fundraiser.story_markdown)
        or new_team
    )
    fundraiser.title = title
    fundraiser.goal_minor = goal
    if changes.story_markdown is not None:
        fundraiser.story_markdown = changes.story_markdown
        fundraiser.story_html = safety.render_fundraiser_story(changes.story_markdown)
    if changes.leave_team:
        fundraiser.team_id = None
    elif changes.team is not None:
        fundraiser.team_id = await _team_for(
            session, campaign, fundraiser_id=fundraiser.id, choice=changes.team
        )
    flags = safety.screen_page(
        name=fundraiser.name, title=fundraiser.title, story_markdown=fundraiser.story_markdown
    )
    # New words the screen flags: the page waits for the nonprofit again, whatever the campaign.
    flagged = bool(flags) and flags != fundraiser.screen_flags
    fundraiser.screen_flags = flags
    if rewritten:
        fundraiser.content_revision += 1
    if rewritten or flagged:
        await hold_for_approval(session, fundraiser, campaign, always=flagged)
    await session.flush()
    return fundraiser


async def hold_for_approval(
    session: UnitOfWork, fundraiser: Fundraiser, campaign: Campaign, *, always: bool = False
) -> None:
    """A live page whose words or photo changed waits for the nonprofit again when the campaign
    approves each page (`always`: whatever the campaign, for newly flagged words): the approved
    version is what it approved, not what the owner typed since. The move is audit-logged with
    the fundraiser as the actor and announced (fundraiser.awaiting_approval)."""
    if fundraiser.status is FundraiserStatus.LIVE and (always or campaign.fundraisers_need_approval):
        fundraiser.status = FundraiserStatus.PENDING_APPROVAL
        await decisions.record_hold(session, fundraiser)


async def sign_out(session: UnitOfWork, *, token: str | None) -> None:
    await access.end_session(session, token=token)


async def _campaign_of(session: UnitOfWork, campaign_id: uuid.UUID) -> tuple[Campaign, Nonprofit]:
    row = (
        await session.execute(
            sa.select(Campaign, Nonprofit)
            .join(Nonprofit, Nonprofit.id == Campaign.nonprofit_id)
            .where(Campaign.id == campaign_id)
        )
    ).one()
    return row[0], row[1]
