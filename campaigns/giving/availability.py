"""Whether a campaign is public, and whether it takes donations right now (and if not, why)."""

from __future__ import annotations

from datetime import datetime

from campaigns.campaign.models import Campaign, CampaignStatus
from campaigns.nonprofits.models import Nonprofit, NonprofitStatus
from service import i18n

# Drafts and campaigns in review are not public; everything else keeps its address, because
# links to a campaign live on in videos and bios long after it ends.
_HIDDEN = frozenset({CampaignStatus.DRAFT, CampaignStatus.IN_REVIEW})


def is_public(campaign: Campaign) -> bool:
    return campaign.status not in _HIDDEN


def closed_reason(
    campaign: Campaign, nonprofit: Nonprofit, *, now: datetime, language: str = i18n.DEFAULT_LANGUAGE
) -> str | None:
    """None when donations are open; otherwise a sentence for the donor, in `language`."""
    _ = i18n.translations(language).gettext
    if campaign.status is CampaignStatus.PAUSED:
        return _("This campaign is paused and is not taking donations right now.")
    if campaign.status in (CampaignStatus.ENDED, CampaignStatus.ARCHIVED):
        return _("This campaign has ended. Thank you to everyone who gave.")
    if campaign.status is not CampaignStatus.LIVE:
        return _("This campaign is not taking donations.")
    if campaign.starts_at is not None and now < campaign.starts_at:
        return _("This campaign opens for donations on %(date)s, %(time)s UTC.") % {
            "date": i18n.format_date(campaign.starts_at, language, format="long"),
            "time": f"{campaign.starts_at:%H:%M}",
        }
    if campaign.ends_at is not None and now >= campaign.ends_at:
        return _("This campaign is over. Thank you to everyone who gave.")
    if nonprofit.status is not NonprofitStatus.VERIFIED:
        return _("This organisation cannot take donations at the moment.")
    return None
