"""What the public fundraiser pages show, read from campaigns.fundraising (#15).

The page modules (`fundraiser_pages`, `fundraiser_start_pages`, `fundraiser_manage_pages`)
render these plain values; this module is the one place that reads the fundraising package for
them, so the templates never touch its models. Texts people read are made here in the page's
language (`gettext_for`), amounts with Babel (`i18n.format_money`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import anyio
import anyio.to_thread
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from campaigns.campaign.cover import prepare_cover
from campaigns.campaign.models import Campaign
from campaigns.fundraising import access, leaderboard, managing, photos, reading, safety, starting
from campaigns.fundraising.errors import SignInRequired, TeamNotFound
from campaigns.fundraising.models import Fundraiser, FundraiserStatus, FundraiserTeam, photo_file_name
from campaigns.giving.repository import Supporter
from campaigns.giving.service import CampaignView
from service import i18n
from service.db import Database
from service.errors import NotFound, ValidationFailed
from service.i18n import N_
from service.media import MediaStore
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


async def campaign_teams(session: AsyncSession, campaign: Campaign) -> list[TeamRef]:
    """The campaign's teams with a live page, a new fundraiser may join (start and edit forms)."""
    entries = await leaderboard.leaderboard(
        session, campaign_id=campaign.id, nonprofit_id=campaign.nonprofit_id, of="teams"
    )
    teams = [e.subject for e in entries if isinstance(e.subject, FundraiserTeam)]
    return sorted((TeamRef(t.slug, t.name) for t in teams), key=lambda t: t.name.casefold())


_FORM_FIELD_OF = {"goal_minor": "goal"}


def form_errors(fields: Mapping[str, str], values: Mapping[str, str]) -> dict[str, str]:
    """The use case's field names as the form's (`goal_minor` -> `goal`, `team` -> the team
    field the supporter used)."""
    team_field = "team_join" if values.get("team_choice") == "join" else "team_name"
    return {
        (team_field if key == "team" else _FORM_FIELD_OF.get(key, key)): text for key, text in fields.items()
    }


def field_errors(view: CampaignView, values: Mapping[str, str]) -> dict[str, str]:
    """What the use case would refuse in the typed fields, so a form with a bad goal also names
    its other mistakes at once (the use case checks again)."""
    errors = starting.check_page(
        name=values.get("name", ""),
        title=values.get("title", ""),
        goal_minor=None,
        currency=view.campaign.currency,
        organisation_names=[view.nonprofit.name, view.campaign.title],
    )
    if "email" in values and safety.normalise_email(values["email"]) is None:
        errors["email"] = N_("Enter an email address like name@example.org.")
    return form_errors(errors, values)


def team_choice(values: Mapping[str, str]) -> starting.TeamChoice | None:
    choice = values.get("team_choice")
    if choice == "join":
        return starting.TeamChoice(join_slug=values.get("team_join", "").strip())
    if choice == "create":
        return starting.TeamChoice(create_name=values.get("team_name", ""))
    return None


async def start_fundraiser(
    database: Database,
    *,
    view: CampaignView,
    values: Mapping[str, str],
    goal_minor: int | None,
    language: str,
) -> None:
    """Start the page and queue its confirmation email (one unit); ValidationFailed by field."""
    data = starting.NewFundraiser(
        name=values.get("name", ""),
        email=values.get("email", ""),
        title=values.get("title", ""),
        story_markdown=values.get("story", "").replace("\r\n", "\n"),
        goal_minor=goal_minor,
        team=team_choice(values),
        language=language,
    )
    try:
        async with database.transaction() as session:
            await starting.start_fundraiser(session, campaign_slug=view.campaign.slug, data=data)
    except ValidationFailed as e:
        raise ValidationFailed(form_errors(e.fields, values)) from e
    except TeamNotFound as e:
        raise ValidationFailed({"team_join": e.detail}) from e


@dataclass(frozen=True)
class ConfirmedPage:
    slug: str
    live: bool


async def confirm_fundraiser(database: Database, *, view: CampaignView, token: str) -> ConfirmedPage | None:
    async with database.transaction() as session:
        confirmed = await starting.confirm_email(session, token=token)
    if confirmed is None:
        return None
    return ConfirmedPage(
        slug=confirmed.fundraiser.slug, live=confirmed.fundraiser.status is FundraiserStatus.LIVE
    )


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


async def send_sign_in_link(database: Database, *, view: CampaignView, email: str, language: str) -> None:
    """Queue a sign-in link (the same for every address: no enumeration); ValidationFailed."""
    async with database.transaction() as session:
        await managing.request_manage_link(
            session, campaign_slug=view.campaign.slug, email=email, language=language
        )


@dataclass(frozen=True)
class SessionOpened:
    token: str
    lifetime: timedelta


async def spend_sign_in_link(database: Database, *, view: CampaignView, token: str) -> SessionOpened | None:
    """Spend the link and open a session; None when the link is unknown, used, expired or of
    another campaign's pages."""
    async with database.transaction() as session:
        signed_in = await managing.sign_in(session, token=token)
    if signed_in is None or signed_in.owner.campaign_id != view.campaign.id:
        return None
    return SessionOpened(token=signed_in.token, lifetime=access.SESSION_LIFETIME)


async def sign_out(database: Database, *, session_token: str | None) -> None:
    async with database.transaction() as session:
        await managing.sign_out(session, token=session_token)


async def _owner(session: UnitOfWork, *, campaign: Campaign, session_token: str | None) -> access.Owner:
    owner = await access.session_owner(session, token=session_token, now=session.now())
    if owner is None or owner.campaign_id != campaign.id:
        raise SignInRequired("sign in again to change your page")
    return owner


async def edit_fundraiser(
    database: Database,
    *,
    view: CampaignView,
    session_token: str | None,
    card: FundraiserCard,
    values: Mapping[str, str],
    goal_minor: int | None,
) -> None:
    """Save the editor's fields; ValidationFailed by the form's field names."""
    choice = values.get("team_choice")
    team = team_choice(values)
    in_team = card.team.slug if card.team else None
    changes = managing.PageChanges(
        title=values.get("title", ""),
        story_markdown=values.get("story", "").replace("\r\n", "\n"),
        goal_minor=goal_minor,
        clear_goal=goal_minor is None,
        team=None if team is not None and team.join_slug is not None and team.join_slug == in_team else team,
        leave_team=choice == "none",
    )
    try:
        async with database.transaction() as session:
            owner = await _owner(session, campaign=view.campaign, session_token=session_token)
            await managing.update_page(session, owner=owner, fundraiser_slug=card.slug, changes=changes)
    except ValidationFailed as e:
        raise ValidationFailed(form_errors(e.fields, values)) from e
    except TeamNotFound as e:
        raise ValidationFailed({"team_join": e.detail}) from e


# Decoding a photo takes a CPU for a fraction of a second: two at a time per process.
_PREPARING = anyio.CapacityLimiter(2)


async def set_photo(
    database: Database,
    *,
    store: MediaStore,
    view: CampaignView,
    session_token: str | None,
    card: FundraiserCard,
    data: bytes,
    alt: str,
) -> None:
    """Check the owner first, then decode, re-encode and write the files off the event loop,
    then point the page at them (docs/architecture.md "Uploads"); InvalidImage, ImageTooLarge."""
    async with database.transaction() as session:
        owner = await _owner(session, campaign=view.campaign, session_token=session_token)
        await photos.photo_page(session, owner=owner, fundraiser_slug=card.slug)
    prepared = await anyio.to_thread.run_sync(prepare_cover, data, limiter=_PREPARING)
    await anyio.to_thread.run_sync(photos.store_photo, store, prepared)
    async with database.transaction() as session:
        owner = await _owner(session, campaign=view.campaign, session_token=session_token)
        await photos.set_photo(
            session, owner=owner, store=store, fundraiser_slug=card.slug, prepared=prepared, alt=alt
        )
