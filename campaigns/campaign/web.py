"""The campaign as the JSON API shows it, to every package's routes (the nonprofit's own API
and the moderation API): serialisers shared across packages live in the owning package's
`web` module, never in its routes (docs/architecture.md, "Routes and URLs")."""

from __future__ import annotations

import anyio
import anyio.to_thread
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from campaigns.campaign import covers
from campaigns.campaign.cover import MAX_UPLOAD_BYTES, PreparedCover, prepare_cover
from campaigns.campaign.errors import ImageTooLarge, InvalidImage
from campaigns.campaign.models import Campaign
from campaigns.campaign.schemas import CampaignOut, CoverImageOut, CoverOut
from service.errors import ValidationFailed
from service.media import MediaStore
from service.web.urls import public_url_for


def campaign_out(request: Request, campaign: Campaign) -> CampaignOut:
    return CampaignOut(
        id=campaign.id,
        nonprofit_id=campaign.nonprofit_id,
        slug=campaign.slug,
        status=campaign.status,
        title=campaign.title,
        story=campaign.story_markdown,
        story_html=campaign.story_html,
        currency=campaign.currency,
        goal_minor=campaign.goal_minor,
        starts_at=campaign.starts_at,
        ends_at=campaign.ends_at,
        suggested_amounts_minor=list(campaign.suggested_amounts_minor),
        min_amount_minor=campaign.min_amount_minor,
        max_amount_minor=campaign.max_amount_minor,
        cover_image_url=campaign.cover_image_url,
        cover=cover_out(request, campaign),
        allowed_embed_origins=list(campaign.allowed_embed_origins),
        review_note=campaign.review_note,
        admin_pause_reason=campaign.admin_pause_reason,
        submitted_at=campaign.submitted_at,
        approved_at=campaign.approved_at,
        created_at=campaign.created_at,
        updated_at=campaign.updated_at,
        public_url=public_url_for(request, "giving:campaign", slug=campaign.slug),
    )


def cover_out(request: Request, campaign: Campaign) -> CoverOut | None:
    if campaign.cover_key is None or campaign.cover_alt is None or not campaign.cover_widths:
        return None

    def url(w: int, extension: str) -> str:
        return public_url_for(request, "media:file", name=campaign.cover_file(w, extension))

    return CoverOut(
        alt=campaign.cover_alt,
        width=campaign.cover_width or 0,
        height=campaign.cover_height or 0,
        images=[
            CoverImageOut(
                width=w, height=campaign.cover_height_for(w), webp_url=url(w, "webp"), jpeg_url=url(w, "jpg")
            )
            for w in campaign.cover_widths
        ],
    )


# Decoding a photo takes a CPU for a fraction of a second: two at a time per process, so a burst
# of uploads queues here instead of starving the event loop's other requests of CPU.
_PREPARING = anyio.CapacityLimiter(2)
UPLOAD_BODY_BYTES = 16 * 1024 * 1024
"""The body limit of an upload route, far above the 5 MB a cover may have: a phone's photo of
6 to 15 MB hears 'covers may be at most 5 MB' (ImageTooLarge, next to the field on the page)
rather than a bare 413. Only a signed-in member or an API key gets this far; the body is read
after the caller is checked."""


async def read_cover_form(form: FormData) -> tuple[bytes, str]:
    """The `image` and `alt` fields of a cover upload, checked (ValidationFailed, ImageTooLarge)."""
    image = form.get("image")
    errors: dict[str, str] = {}
    if not isinstance(image, UploadFile) or not image.filename:
        errors["image"] = "Choose a JPEG, PNG or WebP image to upload."
    try:
        alt = covers.check_alt(form.get("alt"))
    except ValidationFailed as e:
        errors.update(e.fields)
        alt = ""
    if errors or not isinstance(image, UploadFile):
        raise ValidationFailed(errors)
    data = await image.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageTooLarge("the image is larger than 5 MB; covers may be at most 5 MB")
    if not data:
        raise InvalidImage("the file is empty")
    return data, alt


async def prepare_and_store(store: MediaStore, data: bytes) -> PreparedCover:
    """Decode and re-encode the upload and write its files, off the event loop; InvalidImage."""
    prepared = await anyio.to_thread.run_sync(prepare_cover, data, limiter=_PREPARING)
    await anyio.to_thread.run_sync(covers.store_cover, store, prepared)
    return prepared
