"""The campaign as the JSON API shows it, to every package's routes (the nonprofit's own API
and the moderation API): serialisers shared across packages live in the owning package's
`web` module, never in its routes (docs/architecture.md, "Routes and URLs")."""

from __future__ import annotations

import functools

import anyio
import anyio.to_thread
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from campaigns.campaign import covers
from campaigns.campaign.cover import MAX_UPLOAD_BYTES, PreparedCover, prepare_cover
from campaigns.campaign.errors import ImageTooLarge, InvalidImage
from campaigns.campaign.models import Campaign
from campaigns.campaign.schemas import CampaignOut, campaign_shape
from service.errors import ValidationFailed
from service.media import MediaStore
from service.web.urls import public_url_for


def campaign_out(request: Request, campaign: Campaign) -> CampaignOut:
    return campaign_shape(campaign, functools.partial(public_url_for, request))


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
