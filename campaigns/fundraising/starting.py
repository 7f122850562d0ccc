"""Starting a page and confirming its email.

A supporter's page is created `pending_email` with its share link and, where asked, its team;
the confirmation email goes into the outbox in the same unit. The public answer never says
whether the address already has pages (no enumeration): every accepted request does the same
work. Confirming moves the page to `live`, or to `pending_approval` when the campaign asks for
approval or the keyword screen flagged the page.

A form sent twice (a double click, a retried API call) starts one page: a page still waiting for
its email, with the same address and title in the same campaign, started in the last
`REPEAT_WINDOW`, is the answer again, and nothing is created or emailed a second time. Starts
of one address in one campaign run one at a time (repository.serialise_starts), so two
requests arriving together cannot both miss each other.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from campaigns import facts
from campaigns.campaign.models import Campaign, CampaignStatus
from campaigns.fundraising import access, mail, repository, safety
from campaigns.fundraising.errors import FundraisersDisabled, TeamNotFound
from campaigns.fundraising.models import Fundraiser, FundraiserStatus, FundraiserTeam, LinkPurpose
from campaigns.fundraising.schemas import fundraiser_out
from campaigns.matching import identity
from campaigns.nonprofits.models import Nonprofit
from campaigns.sharing import service as sharing
from service.errors import ValidationFailed
from service.i18n import N_
from service.money import MoneyError, check_amount
from service.unit_of_work import UnitOfWork

MAX_GOAL_MINOR = 100_000_000
"""A page's goal is at most a million in major units: anything above is a typo or a stunt."""
REPEAT_WINDOW = timedelta(minutes=10)
"""How long a start with the same address and title is taken as the same form sent again."""


@dataclass(frozen=True)
class TeamChoice:
    join_slug: str | None = None
    create_name: str | None = None


@dataclass(frozen=True)
class NewFundraiser:
    name: str
    email: str
    title: str
    story_markdown: str = ""
    goal_minor: int | None = None
    team: TeamChoice | None = None
    language: str | None = None


@dataclass(frozen=True)
class Confirmed:
    fundraiser: Fundraiser
    campaign_slug: str


async def open_campaign(session: UnitOfWork, *, campaign_slug: str) -> tuple[Campaign, Nonprofit]:
    """The campaign, when it takes new supporters' pages now; else FundraisersDisabled (409)."""
    found = await repository.campaign_with_nonprofit(session, slug=campaign_slug)
    if found is None:
        raise FundraisersDisabled(N_("This campaign does not take fundraiser pages."))
    campaign, nonprofit = found
    if not campaign.fundraisers_enabled or campaign.status is not CampaignStatus.LIVE:
        raise FundraisersDisabled(N_("This campaign does not take fundraiser pages."))
    return campaign, nonprofit


def check_page(
    *,
    name: str,
    title: str,
    goal_minor: int | None,
    currency: str,
    organisation_names: list[str],
    team_name: str | None = None,
) -> dict[str, str]:
    """Per-field messages for what a page may not say (`team_name`: a team it creates); empty
    when it may."""
    errors: dict[str, str] = {}
    if team_name is not None and safety.impersonates(team_name, organisation_names=organisation_names):
        # A team's name stands on the leaderboard like a page's title.
        errors["team"] = N_("Your team's name cannot be only the organisation's or campaign's name.")
    if not name.strip():
        errors["name"] = N_("Tell donors who you are.")
    elif safety.impersonates(name, organisation_names=organisation_names):
        # The name stands on the page as who raises the money: it must not pass as the nonprofit.
        errors["name"] = N_("Your name cannot be only the organisation's or campaign's name: use your own.")
    if len(title.strip()) < 3:
        errors["title"] = N_("Give your page a title of at least 3 characters.")
    elif safety.impersonates(title, organisation_names=organisation_names):
        errors["title"] = N_(
            "Your title cannot be only the organisation's or campaign's name: say what you are doing for it."
        )
    if goal_minor is not None:
        try:
            check_amount(goal_minor, currency)
        except MoneyError:
            errors["goal_minor"] = N_("Choose a goal above zero.")
        else:
            if goal_minor > MAX_GOAL_MINOR:
                errors["goal_minor"] = N_("Choose a smaller goal.")
    return errors


async def start_fundraiser(session: UnitOfWork, *, campaign_slug: str, data: NewFundraiser) -> Fundraiser:
    """Create a page waiting for its email confirmation and queue that email (same unit)."""
    campaign, nonprofit = await open_campaign(session, campaign_slug=campaign_slug)
    email = safety.normalise_email(data.email)
    errors = check_page(
        name=data.name,
        title=data.title,
        goal_minor=data.goal_minor,
        currency=campaign.currency,
        organisation_names=[nonprofit.name, campaign.title],
        team_name=data.team.create_name if data.team and data.team.join_slug is None else None,
    )
    if email is None:
        errors["email"] = N_("Enter an email address like name@example.org.")
    if errors:
        raise ValidationFailed(errors)
    assert email is not None
    name, title = " ".join(data.name.split()), " ".join(data.title.split())
    await repository.serialise_starts(session, campaign_id=campaign.id, email=email)
    repeated = await repository.recent_unconfirmed(
        session, campaign_id=campaign.id, email=email, title=title, since=session.now() - REPEAT_WINDOW
    )
    if repeated is not None:
        return repeated
    language = data.language if data.language in ("nl", "en") else campaign.default_language
    fundraiser_id = uuid.uuid4()
    team_id = await _team_for(session, campaign, fundraiser_id=fundraiser_id, choice=data.team)
    link = await sharing.create_fundraiser_link(
        session, campaign_id=campaign.id, owner_email_digest=identity.email_key(email)[1]
    )
    fundraiser = Fundraiser(
        id=fundraiser_id,
        campaign_id=campaign.id,
        nonprofit_id=nonprofit.id,
        name=name,
        email=email,
        language=language,
        title=title,
        story_markdown=data.story_markdown,
        story_html=safety.render_fundraiser_story(data.story_markdown),
        goal_minor=data.goal_minor,
        currency=campaign.currency,
        team_id=team_id,
        status=FundraiserStatus.PENDING_EMAIL,
        screen_flags=safety.screen_page(name=name, title=title, story_markdown=data.story_markdown),
        share_link_id=link.id,
        slug="",
    )
    await _insert_with_free_slug(session, fundraiser, base=safety.slug_base(name))
    issued = await access.issue_link(
        session,
        purpose=LinkPurpose.CONFIRM,
        campaign_id=campaign.id,
        email=email,
        language=language,
        fundraiser_id=fundraiser.id,
    )
    await mail.queue_confirmation(session, issued=issued, fundraiser=fundraiser, campaign=campaign)
    return fundraiser


async def confirm_email(session: UnitOfWork, *, token: str) -> Confirmed | None:
    """Spend a confirmation link: the page moves on (live, or waiting for approval). None when
    the link is unknown, used or expired, or its page was taken down meanwhile."""
    link = await access.spend_link(session, token=token, purpose=LinkPurpose.CONFIRM)
    if link is None or link.fundraiser_id is None:
        return None
    fundraiser = await repository.get_fundraiser(session, link.fundraiser_id, lock=True)
    campaign = await session.get(Campaign, link.campaign_id)
    if fundraiser is None or campaign is None or fundraiser.status is not FundraiserStatus.PENDING_EMAIL:
        return None
    now = session.now()
    fundraiser.confirmed_at = now
    # Peer-to-peer switched off since the page was started: the nonprofit decides.
    waits = (
        campaign.fundraisers_need_approval
        or bool(fundraiser.screen_flags)
        or not campaign.fundraisers_enabled
    )
    fundraiser.status = FundraiserStatus.PENDING_APPROVAL if waits else FundraiserStatus.LIVE
    # The fundraiser is a person matching can recognise: their address joins the identity
    # clusters, so their own gifts (under this address, or a card or device it later shares)
    # are one donor with them, and a referral bonus never pays them for giving to themselves.
    await identity.ensure_key(session, identity.email_key(fundraiser.email))
    await session.flush()
    await facts.announce(
        session,
        facts.Fact(
            type=facts.FUNDRAISER_CREATED,
            key=f"fundraiser:{fundraiser.id}:created",
            nonprofit_id=fundraiser.nonprofit_id,
            subject_id=fundraiser.id,
            occurred_at=now,
            data=fundraiser_out(fundraiser).model_dump(mode="json"),
        ),
    )
    return Confirmed(fundraiser=fundraiser, campaign_slug=campaign.slug)


async def _team_for(
    session: UnitOfWork, campaign: Campaign, *, fundraiser_id: uuid.UUID, choice: TeamChoice | None
) -> uuid.UUID | None:
    if choice is None:
        return None
    if choice.join_slug is not None:
        team = await repository.get_team(session, campaign_id=campaign.id, slug=choice.join_slug)
        if team is None:
            raise TeamNotFound(N_("There is no such team in this campaign."))
        return team.id
    name = " ".join((choice.create_name or "").split())
    if not name or len(name) > 100:
        raise ValidationFailed({"team": N_("Give your team a name of 1 to 100 characters.")})
    if safety.screen_page(name=name, title="", story_markdown=""):
        raise ValidationFailed({"team": N_("Choose another team name.")})
    team = FundraiserTeam(
        id=uuid.uuid4(),
        campaign_id=campaign.id,
        nonprofit_id=campaign.nonprofit_id,
        name=name,
        slug="",
        created_by_fundraiser_id=fundraiser_id,
    )
    await _insert_with_free_slug(session, team, base=safety.slug_base(name))
    return team.id


async def _insert_with_free_slug(session: UnitOfWork, row: Fundraiser | FundraiserTeam, *, base: str) -> None:
    """Insert with `base`, else `base-xxxx`: the UNIQUE (campaign, slug) decides, in a savepoint,
    so two supporters called Anna starting pages at once both get one."""
    model = type(row)
    taken = await session.scalar(
        sa.select(sa.func.count())
        .select_from(model)
        .where(model.campaign_id == row.campaign_id, model.slug == base)
    )
    candidates = ([] if taken else [base]) + [f"{base[:70]}-{secrets.token_hex(2)}" for _ in range(8)]
    for slug in candidates:
        row.slug = slug
        try:
            async with session.begin_nested():
                session.add(row)
                await session.flush()
            return
        except IntegrityError:
            session.forget_caches()
            session.expunge(row) if row in session else None
    raise RuntimeError("no free slug after 9 tries")
