"""A fundraiser's photo: the same upload rules and media store as a campaign cover.

The edge runs, in order: `photo_page` (the owner may change this page; first transaction),
`campaigns.campaign.cover.prepare_cover` (decode, check, re-encode; in a thread), `store_photo`
(every file written, atomic renames), then `set_photo` (its own transaction). Files of the photo
it replaced are deleted after that commit, unless another page shows the same image.

A new photo is a change like a new title: on a campaign that approves each page, a live page
goes back to waiting for approval (managing.hold_for_approval). Removing the photo adds nothing
to approve. How often a page and a network may upload is the edge's
(campaigns.fundraising.limits.enforce_photo_limits), counted before the image is decoded.
"""

from __future__ import annotations

import sqlalchemy as sa

from campaigns.campaign.cover import PreparedCover
from campaigns.campaign.covers import check_alt, delete_after_commit
from campaigns.campaign.models import Campaign
from campaigns.fundraising.access import Owner
from campaigns.fundraising.errors import IllegalFundraiserTransition
from campaigns.fundraising.managing import hold_for_approval, own_page
from campaigns.fundraising.models import Fundraiser, FundraiserStatus, photo_file_name
from service.i18n import N_
from service.media import MediaStore
from service.unit_of_work import UnitOfWork

EXTENSIONS = ("webp", "jpg")
__all__ = ["check_alt", "photo_page", "remove_photo", "set_photo", "store_photo"]


def file_names(key: str, widths: list[int]) -> list[str]:
    return [photo_file_name(key, width, ext) for width in widths for ext in EXTENSIONS]


async def photo_page(
    session: UnitOfWork, *, owner: Owner, fundraiser_slug: str, lock: bool = False
) -> Fundraiser:
    """The owner's page whose photo may change now (not once hidden or ended)."""
    fundraiser = await own_page(session, owner=owner, fundraiser_slug=fundraiser_slug, lock=lock)
    if fundraiser.status in (FundraiserStatus.HIDDEN, FundraiserStatus.ENDED):
        raise IllegalFundraiserTransition(N_("This page can no longer be changed."))
    return fundraiser


def store_photo(store: MediaStore, prepared: PreparedCover) -> None:
    for variant in prepared.variants:
        store.write(photo_file_name(prepared.key, variant.width, "webp"), variant.webp)
        store.write(photo_file_name(prepared.key, variant.width, "jpg"), variant.jpeg)


async def set_photo(
    session: UnitOfWork,
    *,
    owner: Owner,
    store: MediaStore,
    fundraiser_slug: str,
    prepared: PreparedCover,
    alt: str,
) -> Fundraiser:
    fundraiser = await photo_page(session, owner=owner, fundraiser_slug=fundraiser_slug, lock=True)
    missing = [name for name in file_names(prepared.key, prepared.widths) if not store.exists(name)]
    if missing:
        raise RuntimeError(f"photo files missing before the page points at them: {missing}")
    await _forget_files_after_commit(session, store, fundraiser, keep=prepared.key)
    fundraiser.photo_key = prepared.key
    fundraiser.photo_alt = check_alt(alt)
    fundraiser.photo_height = prepared.height
    fundraiser.photo_widths = prepared.widths
    campaign = await session.get(Campaign, fundraiser.campaign_id)
    assert campaign is not None
    fundraiser.content_revision += 1
    await hold_for_approval(session, fundraiser, campaign)
    await session.flush()
    return fundraiser


async def remove_photo(
    session: UnitOfWork, *, owner: Owner, store: MediaStore, fundraiser_slug: str
) -> Fundraiser:
    fundraiser = await own_page(session, owner=owner, fundraiser_slug=fundraiser_slug)
    if fundraiser.photo_key is None:
        return fundraiser
    await _forget_files_after_commit(session, store, fundraiser, keep=None)
    fundraiser.photo_key = None
    fundraiser.photo_alt = None
    fundraiser.photo_height = None
    fundraiser.photo_widths = None
    # Nothing new to approve, but not the version a reviewer may have open either.
    fundraiser.content_revision += 1
    await session.flush()
    return fundraiser


async def _forget_files_after_commit(
    session: UnitOfWork, store: MediaStore, fundraiser: Fundraiser, *, keep: str | None
) -> None:
    old_key, old_widths = fundraiser.photo_key, list(fundraiser.photo_widths or [])
    if old_key is None or old_key == keep:
        return
    shared = await session.scalar(
        sa.select(sa.func.count())
        .select_from(Fundraiser)
        .where(Fundraiser.photo_key == old_key, Fundraiser.id != fundraiser.id)
    )
    if shared:
        return
    delete_after_commit(session, store, file_names(old_key, old_widths))
