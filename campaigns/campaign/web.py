"""The campaign as the JSON API shows it, to every package's routes (the nonprofit's own API
and the moderation API): serialisers shared across packages live in the owning package's
`web` module, never in its routes (docs/architecture.md, "Routes and URLs")."""

from __future__ import annotations

from starlette.requests import Request

from campaigns.campaign.models import Campaign
from campaigns.campaign.schemas import CampaignOut
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
        allowed_embed_origins=list(campaign.allowed_embed_origins),
        review_note=campaign.review_note,
        admin_pause_reason=campaign.admin_pause_reason,
        submitted_at=campaign.submitted_at,
        approved_at=campaign.approved_at,
        created_at=campaign.created_at,
        updated_at=campaign.updated_at,
        public_url=public_url_for(request, "giving:campaign", slug=campaign.slug),
    )
