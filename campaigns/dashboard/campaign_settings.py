"""The campaign form's settings (language, peer-to-peer) as people tick them, and back. Pure.

The fields live in `dashboard/_campaign_settings.html`, included by the campaign form. A
checkbox a browser does not tick is not sent at all, so the fieldset carries a hidden marker:
without it (an older form, a script posting only some fields) the settings are left as they
are, with it an absent box means "off".
"""

from __future__ import annotations

from collections.abc import Mapping

from campaigns.campaign.models import Campaign
from campaigns.dashboard.forms import ParsedCampaign
from service.i18n import LANGUAGES
from service.web.messages import N_

MARKER = "campaign_settings"
FIELDS = ("default_language", "fundraisers_enabled", "fundraisers_need_approval")
_BOXES = ("fundraisers_enabled", "fundraisers_need_approval")
LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}
"""Each language in its own words: a reader looks for the name they know."""
UNKNOWN_LANGUAGE = N_("Choose Nederlands or English.")


def settings_values(campaign: Campaign) -> dict[str, str]:
    """A saved campaign's settings as the edit form shows them ('on' for a ticked box)."""
    values = {"default_language": campaign.default_language}
    values.update({name: "on" for name in _BOXES if getattr(campaign, name)})
    return values


def add_settings(parsed: ParsedCampaign, values: Mapping[str, str]) -> None:
    """Put the settings the form sent into `parsed`, in the API's shape, or their errors."""
    if MARKER not in values:
        return
    language = values.get("default_language", "").strip()
    if language in LANGUAGES:
        parsed.data["default_language"] = language
    else:
        parsed.errors["default_language"] = UNKNOWN_LANGUAGE
    for name in _BOXES:
        parsed.data[name] = name in values


def add_setting_changes(parsed: ParsedCampaign, values: Mapping[str, str], campaign: Campaign) -> None:
    """Only the settings that differ from the campaign's, so an unchanged form writes nothing."""
    changes = ParsedCampaign()
    add_settings(changes, values)
    parsed.errors.update(changes.errors)
    for name, value in changes.data.items():
        if getattr(campaign, name) != value:
            parsed.data[name] = value
