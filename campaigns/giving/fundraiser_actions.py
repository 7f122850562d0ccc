"""What the public fundraiser pages ask of campaigns.fundraising (#15): start and confirm a page,
sign in and out by email, edit a page and its photo.

Each function is one unit of work (or, for a photo, the upload's two around the files), opened
here for the page modules, which stay with parsing and rendering. The use case's field names
become the form's (`form_errors`), so refusals appear next to the field the person typed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

import anyio
import anyio.to_thread

from campaigns.campaign.cover import prepare_cover
from campaigns.campaign.models import Campaign
from campaigns.fundraising import access, managing, photos, safety, starting
from campaigns.fundraising.errors import SignInRequired, TeamNotFound
from campaigns.fundraising.models import FundraiserStatus
from campaigns.giving.fundraiser_views import FundraiserCard
from campaigns.giving.service import CampaignView
from service.db import Database
from service.errors import ValidationFailed
from service.i18n import N_
from service.media import MediaStore
from service.unit_of_work import UnitOfWork

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


class _OtherCampaign(Exception):
    """A link of another campaign's page opened under this campaign's URL: rolls back, so
    the link stays unspent for its own URL."""


async def confirm_fundraiser(database: Database, *, view: CampaignView, token: str) -> ConfirmedPage | None:
    """Confirm the page; None when the link is unknown, used, expired or of another campaign's
    page (then nothing is spent or confirmed)."""
    try:
        async with database.transaction() as session:
            confirmed = await starting.confirm_email(session, token=token)
            if confirmed is not None and confirmed.fundraiser.campaign_id != view.campaign.id:
                raise _OtherCampaign
    except _OtherCampaign:
        return None
    if confirmed is None:
        return None
    return ConfirmedPage(
        slug=confirmed.fundraiser.slug, live=confirmed.fundraiser.status is FundraiserStatus.LIVE
    )


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
    another campaign's pages (then the link is not spent: the campaign is checked before the
    transaction commits)."""
    try:
        async with database.transaction() as session:
            signed_in = await managing.sign_in(session, token=token)
            if signed_in is not None and signed_in.owner.campaign_id != view.campaign.id:
                raise _OtherCampaign
    except _OtherCampaign:
        return None
    if signed_in is None:
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


# Decoding a photo takes a CPU for a fraction of a second: two fundraiser photos at a time per
# process (a limiter of its own beside the campaign cover's, so up to four decodes in all).
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
