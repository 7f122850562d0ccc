"""Use cases for campaigns: create, edit, list, move through the status machine, moderate."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign import announcements, repository
from campaigns.campaign.errors import (
    CampaignNotFound,
    FieldLocked,
    NonprofitNotVerified,
    PausedByModerator,
    SlugTaken,
)
from campaigns.campaign.models import Campaign, CampaignStatus
from campaigns.campaign.schemas import CampaignIn, CampaignPatch
from campaigns.campaign.status import NONPROFIT_ACTIONS, Action, next_status
from campaigns.campaign.story import render_story
from campaigns.nonprofits import service as nonprofits
from campaigns.nonprofits.actors import Actor
from campaigns.nonprofits.models import MemberRole, NonprofitStatus
from service import audit
from service.auth.models import Admin
from service.db import add_unique
from service.errors import ValidationFailed
from service.money import MoneyError, check_amount, minimum_charge_minor
from service.unit_of_work import UnitOfWork

# Fields that change what donors were shown at approval; editing them after review would let
# a harmless campaign be approved and then swapped for something else.
_CONTENT_FIELDS = frozenset({"title", "slug", "story", "currency", "cover_image_url", "starts_at"})
_EDITABLE_LIVE = frozenset(
    {
        "goal_minor",
        "ends_at",
        "suggested_amounts_minor",
        "min_amount_minor",
        "max_amount_minor",
        "allowed_embed_origins",
        # Settings of how the campaign is shown and shared, not what was approved.
        "default_language",
        "fundraisers_enabled",
        "fundraisers_need_approval",
    }
)
# Countries whose nonprofits write to donors in Dutch first (Flanders: Belgium's largest group).
_DUTCH_COUNTRIES = frozenset({"NL", "BE"})
_AMOUNT_FIELDS = ("goal_minor", "min_amount_minor", "max_amount_minor")


async def create_campaign(session: AsyncSession, *, actor: Actor, data: CampaignIn) -> Campaign:
    actor.require(MemberRole.EDITOR)
    values = data.model_dump()
    if values["min_amount_minor"] is None:
        values["min_amount_minor"] = minimum_charge_minor(values["currency"])
    _check_consistency(values)
    if values["default_language"] is None:
        nonprofit = await nonprofits.get_own_nonprofit(session, actor=actor)
        values["default_language"] = language_for_country(nonprofit.country)
    campaign = Campaign(nonprofit_id=actor.nonprofit_id, status=CampaignStatus.DRAFT)
    _apply(campaign, values)
    await add_unique(session, campaign, SlugTaken(f"the slug {data.slug!r} is taken; choose another"))
    await _audit_member(session, actor, "campaign.create", campaign, before=None)
    return campaign


def language_for_country(country: str) -> str:
    """A new campaign's default language when the nonprofit names none: its country's."""
    return "nl" if country.upper() in _DUTCH_COUNTRIES else "en"


async def get_campaign(
    session: AsyncSession, *, actor: Actor, campaign_id: uuid.UUID, lock: bool = False
) -> Campaign:
    campaign = await repository.get_for_nonprofit(
        session, nonprofit_id=actor.nonprofit_id, campaign_id=campaign_id, lock=lock
    )
    # Another organisation's campaign is "not found", never "forbidden": ids are not confirmed.
    if campaign is None:
        raise CampaignNotFound("no such campaign")
    return campaign


async def list_campaigns(
    session: AsyncSession,
    *,
    actor: Actor,
    status: CampaignStatus | None,
    limit: int,
    cursor: str | None,
) -> list[Campaign]:
    return await repository.list_for_nonprofit(
        session,
        nonprofit_id=actor.nonprofit_id,
        status=status,
        limit=limit,
        cursor=cursor,
    )


async def update_campaign(
    session: AsyncSession, *, actor: Actor, campaign_id: uuid.UUID, patch: CampaignPatch
) -> Campaign:
    actor.require(MemberRole.EDITOR)
    campaign = await get_campaign(session, actor=actor, campaign_id=campaign_id, lock=True)
    changes = patch.model_dump(exclude_unset=True)
    _check_editable(campaign, set(changes))
    _check_not_null(changes)
    values = {**_current_values(campaign), **changes}
    if "currency" in changes and "min_amount_minor" not in changes:
        values["min_amount_minor"] = max(values["min_amount_minor"], minimum_charge_minor(values["currency"]))
    _check_consistency(values)
    before = _snapshot(campaign)
    _apply(campaign, values)
    await add_unique(
        session,
        campaign,
        SlugTaken(f"the slug {values['slug']!r} is taken; choose another"),
    )
    await _audit_member(session, actor, "campaign.update", campaign, before=before)
    return campaign


async def transition_campaign(
    session: UnitOfWork, *, actor: Actor, campaign_id: uuid.UUID, action: Action
) -> Campaign:
    """A nonprofit moves its own campaign: submit, withdraw, pause, resume, end, archive."""
    if action not in NONPROFIT_ACTIONS:
        raise ValueError(f"{action} is a moderator's action")
    actor.require(MemberRole.EDITOR)
    campaign = await get_campaign(session, actor=actor, campaign_id=campaign_id, lock=True)
    target = next_status(campaign.status, action)
    if action is Action.RESUME and campaign.admin_pause_reason is not None:
        raise PausedByModerator(
            f"a moderator paused this campaign ({campaign.admin_pause_reason});"
            " only a moderator can resume it"
        )
    if action is Action.SUBMIT:
        nonprofit = await nonprofits.get_own_nonprofit(session, actor=actor)
        if nonprofit.status is not NonprofitStatus.VERIFIED:
            raise NonprofitNotVerified("only a verified nonprofit can submit campaigns for review")
        campaign.submitted_at = session.now()
        campaign.review_note = None
    before = _snapshot(campaign)
    campaign.status = target
    await _audit_member(session, actor, f"campaign.{action.value}", campaign, before=before)
    await announcements.announce_status_changed(session, campaign)
    return campaign


async def list_review_queue(session: AsyncSession, *, limit: int, cursor: str | None) -> list[Campaign]:
    return await repository.list_by_status(
        session, status=CampaignStatus.IN_REVIEW, limit=limit, cursor=cursor
    )


async def approve_campaign(
    session: UnitOfWork, *, admin: Admin, campaign_id: uuid.UUID, note: str | None
) -> Campaign:
    campaign = await _lock_for_moderation(session, campaign_id)
    target = next_status(campaign.status, Action.APPROVE)
    owner = await nonprofits.get_nonprofit(session, nonprofit_id=campaign.nonprofit_id)
    if owner.status is not NonprofitStatus.VERIFIED:
        raise NonprofitNotVerified("the nonprofit is not verified any more; it cannot go live")
    before = _snapshot(campaign)
    campaign.status = target
    campaign.approved_at = session.now()
    campaign.review_note = note
    await _audit_admin(session, admin, "campaign.approve", campaign, before=before, note=note)
    await announcements.announce_status_changed(session, campaign)
    return campaign


async def reject_campaign(
    session: UnitOfWork, *, admin: Admin, campaign_id: uuid.UUID, reason: str
) -> Campaign:
    campaign = await _lock_for_moderation(session, campaign_id)
    target = next_status(campaign.status, Action.REJECT)
    before = _snapshot(campaign)
    campaign.status = target
    campaign.review_note = reason
    await _audit_admin(session, admin, "campaign.reject", campaign, before=before, note=reason)
    await announcements.announce_status_changed(session, campaign)
    return campaign


async def admin_pause_campaign(
    session: UnitOfWork, *, admin: Admin, campaign_id: uuid.UUID, reason: str
) -> Campaign:
    """A moderator stops a live campaign: no new donations, no new matches, until they resume it."""
    return await _moderator_hold(session, admin, campaign_id, Action.PAUSE, reason=reason, note=reason)


async def admin_resume_campaign(
    session: UnitOfWork, *, admin: Admin, campaign_id: uuid.UUID, note: str | None
) -> Campaign:
    return await _moderator_hold(session, admin, campaign_id, Action.RESUME, reason=None, note=note)


async def _moderator_hold(
    session: UnitOfWork,
    admin: Admin,
    campaign_id: uuid.UUID,
    action: Action,
    *,
    reason: str | None,
    note: str | None,
) -> Campaign:
    """Pause (with the reason the nonprofit reads) or resume; the reason also locks out the
    nonprofit's own resume until a moderator lifts it."""
    campaign = await _lock_for_moderation(session, campaign_id)
    target = next_status(campaign.status, action)
    before = _snapshot(campaign)
    campaign.status = target
    campaign.admin_pause_reason = reason
    await _audit_admin(session, admin, f"campaign.admin_{action.value}", campaign, before=before, note=note)
    await announcements.announce_status_changed(session, campaign)
    return campaign


async def _lock_for_moderation(session: AsyncSession, campaign_id: uuid.UUID) -> Campaign:
    campaign = await repository.lock_campaign(session, campaign_id)
    if campaign is None:
        raise CampaignNotFound("no such campaign")
    return campaign


def _check_editable(campaign: Campaign, fields: set[str]) -> None:
    if campaign.status is CampaignStatus.DRAFT or not fields:
        return
    if campaign.status in (CampaignStatus.LIVE, CampaignStatus.PAUSED):
        locked = sorted(fields - _EDITABLE_LIVE)
        if locked:
            raise FieldLocked(
                f"{', '.join(locked)} cannot change once a campaign has been approved; "
                "end it and start a new one instead"
            )
        return
    raise FieldLocked(f"a campaign that is {campaign.status.value} cannot be edited")


_REQUIRED = (
    "title",
    "slug",
    "story",
    "currency",
    "goal_minor",
    "min_amount_minor",
    "default_language",
    "fundraisers_enabled",
    "fundraisers_need_approval",
)


def _check_not_null(changes: dict[str, Any]) -> None:
    errors = {name: "cannot be empty" for name in _REQUIRED if name in changes and changes[name] is None}
    for name in ("suggested_amounts_minor", "allowed_embed_origins"):
        if name in changes and changes[name] is None:
            changes[name] = []
    if errors:
        raise ValidationFailed(errors)


def _check_consistency(values: dict[str, Any]) -> None:
    """Rules across fields, checked on the merged result so PATCH cannot sneak past them."""
    errors: dict[str, str] = {}
    cur = values["currency"]
    for name in _AMOUNT_FIELDS:
        if values.get(name) is not None:
            try:
                check_amount(values[name], cur)
            except MoneyError as e:
                errors[name] = str(e)
    for i, amount in enumerate(values.get("suggested_amounts_minor") or []):
        try:
            check_amount(amount, cur)
        except MoneyError as e:
            errors[f"suggested_amounts_minor.{i}"] = str(e)
    minimum, maximum = values["min_amount_minor"], values.get("max_amount_minor")
    if minimum < minimum_charge_minor(cur):
        errors["min_amount_minor"] = (
            f"Stripe cannot charge less than {minimum_charge_minor(cur)} minor units in {cur.upper()}"
        )
    if maximum is not None and maximum < minimum:
        errors["max_amount_minor"] = "must not be below the minimum amount"
    for amount in values.get("suggested_amounts_minor") or []:
        if amount < minimum or (maximum is not None and amount > maximum):
            errors["suggested_amounts_minor"] = (
                "every suggested amount must lie between the minimum and maximum"
            )
    starts_at: datetime | None = values.get("starts_at")
    ends_at: datetime | None = values.get("ends_at")
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        errors["ends_at"] = "must be after the start"
    if errors:
        raise ValidationFailed(errors)


def _current_values(campaign: Campaign) -> dict[str, Any]:
    return {
        "title": campaign.title,
        "slug": campaign.slug,
        "story": campaign.story_markdown,
        "currency": campaign.currency,
        "goal_minor": campaign.goal_minor,
        "starts_at": campaign.starts_at,
        "ends_at": campaign.ends_at,
        "suggested_amounts_minor": list(campaign.suggested_amounts_minor),
        "min_amount_minor": campaign.min_amount_minor,
        "max_amount_minor": campaign.max_amount_minor,
        "cover_image_url": campaign.cover_image_url,
        "allowed_embed_origins": list(campaign.allowed_embed_origins),
        "default_language": campaign.default_language,
        "fundraisers_enabled": campaign.fundraisers_enabled,
        "fundraisers_need_approval": campaign.fundraisers_need_approval,
    }


def _apply(campaign: Campaign, values: dict[str, Any]) -> None:
    for name, value in values.items():
        if name == "story":
            campaign.story_markdown = value
            campaign.story_html = render_story(value)
        else:
            setattr(campaign, name, value)


def _snapshot(campaign: Campaign) -> dict[str, Any]:
    values = _current_values(campaign)
    values["status"] = campaign.status.value if campaign.status else None
    values["admin_pause_reason"] = campaign.admin_pause_reason
    for key in ("starts_at", "ends_at"):
        if values[key] is not None:
            values[key] = values[key].isoformat()
    return values


async def _audit_member(
    session: AsyncSession,
    actor: Actor,
    action: str,
    campaign: Campaign,
    *,
    before: dict[str, Any] | None,
) -> None:
    await audit.record(
        session,
        actor=actor,
        action=action,
        subject_type="campaign",
        subject_id=str(campaign.id),
        nonprofit_id=campaign.nonprofit_id,
        before=before,
        after=_snapshot(campaign),
    )


async def _audit_admin(
    session: AsyncSession,
    admin: Admin,
    action: str,
    campaign: Campaign,
    *,
    before: dict[str, Any],
    note: str | None,
) -> None:
    await audit.record(
        session,
        actor=admin,
        action=action,
        subject_type="campaign",
        subject_id=str(campaign.id),
        nonprofit_id=campaign.nonprofit_id,
        before=before,
        after=_snapshot(campaign),
        note=note,
    )
