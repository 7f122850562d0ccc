"""What the public fundraiser pages show, read from campaigns.fundraising (#15).

The page modules (`fundraiser_pages`, `fundraiser_start_pages`, `fundraiser_manage_pages`)
render these plain values; this module is the one place that reads the fundraising package for
them, so the templates never touch its models. Texts people read are made here in the page's
language (`gettext_for`), amounts with Babel (`i18n.format_money`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from campaigns.campaign.models import Campaign
from campaigns.fundraising import access, leaderboard, managing, reading
from campaigns.fundraising.models import Fundraiser, FundraiserStatus, FundraiserTeam, photo_file_name
from campaigns.giving.repository import Supporter
from campaigns.giving.service import CampaignView
from service import i18n
from service.errors import NotFound
from service.i18n import N_
from service.unit_of_work import UnitOfWork
from service.web import context
from service.web.language import gettext_for
from service.web.urls import path_for

SUPPORTERS_SHOWN = 20
BOARD_SIZE = 50
"""No ranks below the top 50 (#15): a board celebrates, it never lists who brought few."""


@dataclass(frozen=True)
class Milestone:
    kind: str
    """first_donor | donors_10 | goal_reached (stable, for tests and styles)."""
    text: str


@dataclass(frozen=True)
class TeamRef:
    slug: str
    name: str


@dataclass(frozen=True)
class FundraiserCard:
    """One fundraiser as the public pages show it."""

    id: uuid.UUID
    slug: str
    name: str
    title: str
    story_html: str
    currency: str
    raised_minor: int
    donors: int
    goal_minor: int | None = None
    status: str = "live"
    team: TeamRef | None = None
    milestones: tuple[Milestone, ...] = ()
    photo_key: str | None = None
    photo_widths: tuple[int, ...] = ()
    photo_height: int | None = None
    photo_alt: str | None = None
    story_markdown: str = ""

    @property
    def percent(self) -> int:
        if not self.goal_minor:
            return 0
        return min(999, self.raised_minor * 100 // self.goal_minor)

    def photo_file(self, width: int, extension: str) -> str:
        assert self.photo_key is not None
        return photo_file_name(self.photo_key, width, extension)


@dataclass(frozen=True)
class TeamCard:
    slug: str
    name: str
    currency: str
    raised_minor: int
    donors: int
    goal_minor: int | None = None
    members: tuple[FundraiserCard, ...] = ()

    @property
    def percent(self) -> int:
        return min(999, self.raised_minor * 100 // self.goal_minor) if self.goal_minor else 0


@dataclass(frozen=True)
class BoardEntry:
    slug: str
    title: str
    who: str
    url: str
    donors: int
    amount_text: str


@dataclass(frozen=True)
class Board:
    """The campaign page's peer-to-peer block (giving/_fundraisers.html)."""

    nonprofit: str
    start_url: str | None
    fundraisers: tuple[BoardEntry, ...] = ()
    teams: tuple[BoardEntry, ...] = ()


@dataclass(frozen=True)
class FundraiserPage:
    fundraiser: FundraiserCard
    supporters: list[Supporter] = field(default_factory=list)


_MILESTONE_TEXTS = {
    "first_donor": N_("The first donor gave"),
    "ten_donors": N_("10 people gave"),
    "goal_reached": N_("Goal reached"),
}


def milestone_texts(milestones: Sequence[leaderboard.Milestone], lang: str) -> tuple[Milestone, ...]:
    """Milestones reached, oldest first, in words: only what was reached, nothing counts down."""
    return tuple(Milestone(m.kind, i18n.translate(_MILESTONE_TEXTS[m.kind], lang)) for m in milestones)


def card_of(
    fundraiser: Fundraiser,
    tally: leaderboard.Tally,
    *,
    team: FundraiserTeam | None = None,
    milestones: tuple[Milestone, ...] = (),
) -> FundraiserCard:
    return FundraiserCard(
        id=fundraiser.id,
        slug=fundraiser.slug,
        name=fundraiser.name,
        title=fundraiser.title,
        story_html=fundraiser.story_html,
        story_markdown=fundraiser.story_markdown,
        currency=fundraiser.currency,
        raised_minor=tally.raised_minor,
        donors=tally.donors,
        goal_minor=fundraiser.goal_minor,
        status=fundraiser.status.value,
        team=TeamRef(team.slug, team.name) if team is not None else None,
        milestones=milestones,
        photo_key=fundraiser.photo_key,
        photo_widths=tuple(fundraiser.photo_widths or ()),
        photo_height=fundraiser.photo_height,
        photo_alt=fundraiser.photo_alt,
    )


async def fundraiser_page(
    session: AsyncSession, *, campaign: Campaign, fundraiser_slug: str, lang: str
) -> FundraiserPage:
    """A live page, its numbers, milestones and recent gifts; 404 for anything else."""
    found = await reading.public_fundraiser(
        session, campaign_slug=campaign.slug, fundraiser_slug=fundraiser_slug
    )
    gifts = await reading.recent_donations(session, fundraiser_id=found.fundraiser.id, limit=SUPPORTERS_SHOWN)
    card = card_of(
        found.fundraiser, found.tally, team=found.team, milestones=milestone_texts(found.milestones, lang)
    )
    return FundraiserPage(fundraiser=card, supporters=[Supporter.of(gift) for gift in gifts])


async def team_card(session: AsyncSession, *, campaign: Campaign, team_slug: str, lang: str) -> TeamCard:
    found = await reading.public_team(session, campaign_slug=campaign.slug, team_slug=team_slug)
    return TeamCard(
        slug=found.team.slug,
        name=found.team.name,
        currency=campaign.currency,
        raised_minor=found.tally.raised_minor,
        donors=found.tally.donors,
        members=tuple(card_of(member.fundraiser, member.tally) for member in found.members),
    )


async def campaign_board(request: Request, view: CampaignView, lang: str) -> Board | None:
    """The campaign page's block: None while peer-to-peer is off."""
    campaign = view.campaign
    if not campaign.fundraisers_enabled:
        return None
    async with context.database(request).transaction() as session:
        _c, people = await reading.campaign_leaderboard(
            session, campaign_slug=campaign.slug, of="fundraisers"
        )
        _c, teams = await reading.campaign_leaderboard(session, campaign_slug=campaign.slug, of="teams")
    _ = gettext_for(lang)
    slug = campaign.slug
    fundraiser_rows = [
        (
            e.subject.slug,
            e.subject.title,
            e.subject.name,
            e.tally.donors,
            e.tally.raised_minor,
            campaign.currency,
        )
        for e in people
        if isinstance(e.subject, Fundraiser)
    ]
    team_rows = [
        (e.subject.slug, e.subject.name, _("Team"), e.tally.donors, e.tally.raised_minor, campaign.currency)
        for e in teams
        if isinstance(e.subject, FundraiserTeam)
    ]
    return Board(
        nonprofit=view.nonprofit.name,
        start_url=None if view.closed_reason else path_for(request, "giving:fundraiser_start", slug=slug),
        fundraisers=board_entries(
            fundraiser_rows,
            url_for=lambda s: path_for(request, "giving:fundraiser", slug=slug, fundraiser_slug=s),
            lang=lang,
        ),
        teams=board_entries(
            team_rows, url_for=lambda s: path_for(request, "giving:team", slug=slug, team_slug=s), lang=lang
        ),
    )


def board_entries(
    rows: Sequence[tuple[str, str, str, int, int, str]],
    *,
    url_for: Callable[[str], str],
    lang: str,
) -> tuple[BoardEntry, ...]:
    """(slug, title, who, donors, raised_minor, currency) rows, already in board order."""
    return tuple(
        BoardEntry(
            slug=slug,
            title=title,
            who=who,
            url=url_for(slug),
            donors=donors,
            amount_text=i18n.format_money(raised, currency, lang),
        )
        for slug, title, who, donors, raised, currency in rows[:BOARD_SIZE]
    )


# Enough for any real campaign's list of teams; a plain query, not the leaderboard (no tally
# per request on the public start form, and no top-50 cut that would drop a page's own team).
TEAM_CHOICES_LIMIT = 500


async def campaign_teams(
    session: AsyncSession, campaign: Campaign, *, include: Sequence[str] = ()
) -> list[TeamRef]:
    """The campaign's teams with a live page, a new fundraiser may join (start and edit forms),
    plus the teams named in `include` (the page's own team, the `?team=` link's) so the form
    can always offer the choice it shows as made."""
    live_team = sa.select(Fundraiser.team_id).where(
        Fundraiser.campaign_id == campaign.id, Fundraiser.status == FundraiserStatus.LIVE
    )
    slugs = [slug for slug in include if slug]
    wanted: sa.ColumnElement[bool] = FundraiserTeam.id.in_(live_team)
    if slugs:
        wanted = sa.or_(wanted, FundraiserTeam.slug.in_(slugs))
    teams = await session.scalars(
        sa.select(FundraiserTeam)
        .where(FundraiserTeam.campaign_id == campaign.id, wanted)
        .order_by(FundraiserTeam.name, FundraiserTeam.id)
        .limit(TEAM_CHOICES_LIMIT)
    )
    return sorted((TeamRef(t.slug, t.name) for t in teams), key=lambda t: t.name.casefold())


def require_fundraisers(view: CampaignView) -> None:
    """Peer-to-peer must be on for the campaign, and the campaign taking gifts; else 404 (an
    impersonating page for a campaign without peer-to-peer is refused, #15)."""
    if not view.campaign.fundraisers_enabled or view.closed_reason:
        raise FundraisingUnavailable("this campaign does not take supporters' pages")


class FundraisingUnavailable(NotFound):
    code = "fundraisers_not_enabled"


async def own_pages(session: UnitOfWork, *, campaign: Campaign, session_token: str) -> list[FundraiserCard]:
    """The signed-in address's pages in this campaign (newest first); empty when the session is
    unknown, signed out, expired or of another campaign."""
    owner = await access.session_owner(session, token=session_token, now=session.now())
    if owner is None or owner.campaign_id != campaign.id:
        return []
    pages = await managing.my_pages(session, owner=owner)
    if not pages:
        return []
    tally = await reading.totals_of(session, campaign_id=campaign.id, nonprofit_id=campaign.nonprofit_id)
    cards = []
    for page in reversed(pages):
        team = await _team_of(session, page)
        cards.append(card_of(page, tally.of_fundraiser(page.id), team=team))
    return cards


async def _team_of(session: AsyncSession, fundraiser: Fundraiser) -> FundraiserTeam | None:
    if fundraiser.team_id is None:
        return None
    return await session.get(FundraiserTeam, fundraiser.team_id)
