"""The campaign side of the dashboard in the member's language: what the pages say in Python
(button labels, flashes, match statuses, the domain's refusals) translated at the edge.

English source strings are the msgids (catalog `service/locale/nl/LC_MESSAGES/
dashboard_campaigns.po`). The domain keeps its English `detail` for the API; a page shows it
as it is in English and, in another language, a translated sentence chosen by the error's type,
so a Dutch reader never gets the API's English mixed into a Dutch page.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from campaigns.campaign.cover import MIN_SIDE
from campaigns.campaign.errors import FieldLocked, IllegalTransition, ImageTooLarge, InvalidImage, SlugTaken
from campaigns.matching import explain
from campaigns.matching.models import Match, MatchStatus
from service.errors import DomainError
from service.i18n import SOURCE_LANGUAGE
from service.web.language import gettext_for
from service.web.messages import N_

Gettext = Callable[..., str]


CHANNEL_NAMES = {"tiktok": "TikTok", "instagram": "Instagram", "email": N_("Email"), "other": N_("Other")}


def channel_names(_: Gettext) -> dict[str, str]:
    return {value: _(name) for value, name in CHANNEL_NAMES.items()}


_MATCH_STATUS = {
    MatchStatus.PENDING: N_("reserved"),
    MatchStatus.HELD_FOR_REVIEW: N_("held for review"),
    MatchStatus.APPROVED: N_("approved"),
    MatchStatus.PAID: N_("paid"),
    MatchStatus.VOIDED: N_("voided"),
}

# English sentences lower packages give a page (explain.status_reason, the appeal's and the
# campaign service's refusals), listed so the catalog carries them: the API keeps them in
# English; pages look each up by its English text (translator, or the page's `errors`).
_LOWER_PACKAGE_SENTENCES = (
    N_("Reserved for you; it waits out its hold period before it is approved."),
    N_("A Goodloop reviewer is looking at it before it can be paid."),
    N_("Approved; it will be paid to your connected Stripe account."),
    N_("Paid to your connected Stripe account."),
    N_("Your appeal returned it to review; a Goodloop reviewer will decide again."),
    N_("The donation was refunded, so its match was released."),
    N_("The donation was disputed, so its match was released."),
    N_("The donation is not settled (processing, failed, refunded or disputed)."),
    N_("The donation is in another currency than the program."),
    N_("The donation was made outside the program's window."),
    N_("The campaign is not part of the program."),
    N_("The campaign is paused or closed."),
    N_("The nonprofit is not verified."),
    N_("The donation is below the program's minimum."),
    N_("The card issuer sent an early fraud warning for this payment."),
    N_("Stripe Radar scored the payment above the program's risk limit."),
    N_("The donor is linked to the nonprofit's own people."),
    N_("The program matches only the first installment of a recurring gift."),
    N_("The match was released."),
    # campaigns.campaign.service's NonprofitNotVerified, shown on the campaign page.
    N_("only a verified nonprofit can submit campaigns for review"),
    N_("the nonprofit is not verified any more; it cannot go live"),
    # campaigns.moderation.screen's reasons, next to a flagged message on the messages page.
    N_("Asks for money outside Goodloop, where donors have no receipt, refund or match."),
    N_("Promises returns or asks for crypto: common in donation scams."),
    N_("Offers something for shares or donations: engagement bought this way is not real support."),
    N_("Makes a medical claim a reviewer should check against the nonprofit's registration."),
    N_("Pressures donors with threats or extreme urgency."),
    N_("May contain hateful or violent content."),
    # matching.lifecycle.appeal_match's refusals, shown next to the appeal.
    N_("no such match"),
    N_("only a match an admin rejected can be appealed"),
    N_("this rejection was already appealed once; the decision on the appeal is final"),
    N_("this match was already transferred to your Stripe account and reversed; contact Goodloop support"),
    N_("the matching program has no budget left to cover this match again"),
)


def match_status(match: Match, _: Gettext) -> str:
    return _(_MATCH_STATUS.get(match.status, match.status.value.replace("_", " ")))


def match_reason(match: Match, _: Gettext) -> str:
    """explain.status_reason in the reader's language; the reviewer's own note stays as written."""
    if match.status is MatchStatus.VOIDED and match.void_reason == "rejected":
        rejected = _("A Goodloop reviewer rejected this match.")
        if not match.decision_note:
            return rejected
        return rejected + " " + _("The reviewer wrote: %(note)s", note=match.decision_note)
    return _(explain.status_reason(match))


# The campaign statuses, as dashboard/_words.html says them.
_STATUS_WORDS = {
    "draft": N_("draft"),
    "in_review": N_("in review"),
    "live": N_("live"),
    "paused": N_("paused"),
    "ended": N_("ended"),
    "archived": N_("archived"),
}


def error_text(error: DomainError, language: str, *, status: str) -> str:
    """A refusal from the campaign domain as a page shows it in `language`; `status` is the
    campaign's status as the page knows it."""
    if language == SOURCE_LANGUAGE:
        return error.detail
    _ = gettext_for(language)
    if isinstance(error, SlugTaken):
        return _("This address is taken; choose another.")
    status_word = _(_STATUS_WORDS[status]) if status in _STATUS_WORDS else status.replace("_", " ")
    if isinstance(error, IllegalTransition):
        return _("That is not possible while the campaign is %(status)s.", status=status_word)
    if isinstance(error, FieldLocked):
        if "cover" in error.detail:
            return _("The cover can only change while the campaign is a draft.")
        if "approved" in error.detail:
            return _(
                "Only the goal, the amounts, the end date and the sites that may embed the form "
                "can change once a campaign has been approved; end it and start a new one instead."
            )
        return _("A campaign that is %(status)s cannot be edited.", status=status_word)
    # NonprofitNotVerified and the rest: their fixed sentences are in the catalog.
    return _(error.detail)


_PIXELS = re.compile(r"the image is (\d+) x (\d+) pixels; covers (may have at most|need at least) ")
# The cover domain's fixed sentences (campaigns.campaign.cover, covers, web), for the catalog.
_COVER_MESSAGES = (
    N_("Choose a JPEG, PNG or WebP image to upload."),
    N_("Describe the image in a few words for people who cannot see it."),
    N_("Keep the description to 300 characters or fewer."),
    N_("The description cannot contain control characters."),
    N_("the file is empty"),
    N_("the file is not a JPEG, PNG or WebP image"),
    N_("the image has too many pixels (at most 40 megapixels)"),
    N_("the image is damaged or incomplete; export it again and retry"),
)


def cover_error_text(error: DomainError, language: str) -> str:
    """A refused cover upload as the page shows it in `language`."""
    if language == SOURCE_LANGUAGE:
        return error.detail
    _ = gettext_for(language)
    if isinstance(error, ImageTooLarge):
        return _("The image is larger than 5 MB; covers may be at most 5 MB.")
    pixels = _PIXELS.match(error.detail) if isinstance(error, InvalidImage) else None
    if pixels and pixels.group(3) == "may have at most":
        return _(
            "The image is %(width)s x %(height)s pixels; covers may have at most 40 megapixels.",
            width=pixels.group(1),
            height=pixels.group(2),
        )
    if pixels:
        return _(
            "The image is %(width)s x %(height)s pixels; covers need at least %(side)s on each side.",
            width=pixels.group(1),
            height=pixels.group(2),
            side=MIN_SIDE,
        )
    return _(error.detail)
