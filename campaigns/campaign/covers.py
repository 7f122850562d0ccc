"""Use cases for a campaign's uploaded cover: set it, remove it, name its files.

The edge (API route or dashboard page) runs them in this order, so nothing is half-written:
check the caller may change the cover (`cover_campaign`), decode and re-encode the upload
(`cover.prepare_cover`, in a thread), write every file (`store_cover`, atomic renames), and only
then point the campaign at them (`set_cover`, its own transaction). The files of the cover it
replaced are deleted after that commit, unless another campaign shows the same image.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign import service
from campaigns.campaign.cover import PreparedCover
from campaigns.campaign.errors import FieldLocked
from campaigns.campaign.models import Campaign, CampaignStatus
from campaigns.campaign.models import cover_file_name as file_name
from campaigns.nonprofits.actors import Actor
from campaigns.nonprofits.models import MemberRole
from service import audit
from service.errors import ValidationFailed
from service.media import MediaStore
from service.unit_of_work import UnitOfWork

MAX_ALT_LENGTH = 300
EXTENSIONS = ("webp", "jpg")
# Like cover_image_url: what donors saw at approval must not be swapped afterwards (see
# campaigns.campaign.service). Taking a cover down hides nothing, so removing is always allowed.
_COVER_CHANGES = frozenset({CampaignStatus.DRAFT})


def file_names(key: str, widths: list[int]) -> list[str]:
    return [file_name(key, width, ext) for width in widths for ext in EXTENSIONS]


def check_alt(alt: object) -> str:
    """The alt text, one line of 1 to 300 characters: screen readers read it for the image."""
    text = " ".join(alt.split()) if isinstance(alt, str) else ""
    if not text:
        raise ValidationFailed({"alt": "Describe the image in a few words for people who cannot see it."})
    if len(text) > MAX_ALT_LENGTH:
        raise ValidationFailed({"alt": f"Keep the description to {MAX_ALT_LENGTH} characters or fewer."})
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValidationFailed({"alt": "The description cannot contain control characters."})
    return text


async def cover_campaign(session: AsyncSession, *, actor: Actor, campaign_id: uuid.UUID) -> Campaign:
    """The campaign whose cover the actor may change; 404 for another organisation's."""
    actor.require(MemberRole.EDITOR)
    campaign = await service.get_campaign(session, actor=actor, campaign_id=campaign_id)
    _check_status(campaign)
    return campaign


def check_changeable(actor: Actor, campaign: Campaign) -> None:
    """The actor may change this (already loaded) campaign's cover now; else 403 or 409."""
    actor.require(MemberRole.EDITOR)
    _check_status(campaign)


def store_cover(store: MediaStore, prepared: PreparedCover) -> None:
    for variant in prepared.variants:
        store.write(file_name(prepared.key, variant.width, "webp"), variant.webp)
        store.write(file_name(prepared.key, variant.width, "jpg"), variant.jpeg)


async def set_cover(
    session: UnitOfWork,
    *,
    actor: Actor,
    store: MediaStore,
    campaign_id: uuid.UUID,
    prepared: PreparedCover,
    alt: str,
) -> Campaign:
    actor.require(MemberRole.EDITOR)
    campaign = await service.get_campaign(session, actor=actor, campaign_id=campaign_id, lock=True)
    _check_status(campaign)
    missing = [name for name in file_names(prepared.key, prepared.widths) if not store.exists(name)]
    if missing:
        raise RuntimeError(f"cover files missing before the campaign points at them: {missing}")
    before = _snapshot(campaign)
    await _forget_files_after_commit(session, store, campaign, keep=prepared.key)
    campaign.cover_key = prepared.key
    campaign.cover_alt = alt
    campaign.cover_height = prepared.height
    campaign.cover_widths = prepared.widths
    await _audit(session, actor, "campaign.cover.set", campaign, before=before)
    return campaign


async def remove_cover(
    session: UnitOfWork, *, actor: Actor, store: MediaStore, campaign_id: uuid.UUID
) -> Campaign:
    actor.require(MemberRole.EDITOR)
    campaign = await service.get_campaign(session, actor=actor, campaign_id=campaign_id, lock=True)
    if campaign.cover_key is None:
        return campaign
    before = _snapshot(campaign)
    await _forget_files_after_commit(session, store, campaign, keep=None)
    campaign.cover_key = None
    campaign.cover_alt = None
    campaign.cover_height = None
    campaign.cover_widths = None
    await _audit(session, actor, "campaign.cover.remove", campaign, before=before)
    return campaign


def _check_status(campaign: Campaign) -> None:
    if campaign.status not in _COVER_CHANGES:
        raise FieldLocked(
            f"the cover of a campaign that is {campaign.status.value.replace('_', ' ')} cannot change; "
            "covers are set while the campaign is a draft"
        )


async def _forget_files_after_commit(
    session: UnitOfWork, store: MediaStore, campaign: Campaign, *, keep: str | None
) -> None:
    old_key, old_widths = campaign.cover_key, list(campaign.cover_widths or [])
    if old_key is None or old_key == keep:
        return
    # The same upload on two campaigns shares its files: delete only the last user's.
    shared = await session.scalar(
        sa.select(sa.func.count())
        .select_from(Campaign)
        .where(Campaign.cover_key == old_key, Campaign.id != campaign.id)
    )
    if shared:
        return
    delete_after_commit(session, store, file_names(old_key, old_widths))


def delete_after_commit(session: UnitOfWork, store: MediaStore, names: list[str]) -> None:
    """Delete an image's files once the unit commits (never before: a rollback keeps them);
    shared by campaign covers and fundraisers' photos."""

    def delete_files() -> None:
        for name in names:
            store.delete(name)

    session.after_commit(delete_files)


def _snapshot(campaign: Campaign) -> dict[str, object]:
    return {"cover_key": campaign.cover_key, "cover_alt": campaign.cover_alt}


async def _audit(
    session: AsyncSession, actor: Actor, action: str, campaign: Campaign, *, before: dict[str, object]
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
