"""The members' emails a fact causes, written to the outbox in the fact's own transaction.

`LISTENER` hears every fact (campaigns.wiring.FACT_LISTENERS, last): a confirmed donation
emails each member who chose "each gift"; a payout or a match decision emails each member with
money emails on. Every message is keyed `member:{member id}:{fact key}`, so a replayed event
(which announces nothing new anyway) or a retried unit of work sends nothing twice, and the
daily digest (campaigns.notifications.digest) is the other way to hear about gifts.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from campaigns import facts
from campaigns.campaign.models import Campaign
from campaigns.donations.models import Donation
from campaigns.matching.models import Match
from campaigns.notifications.models import GiftEmails
from campaigns.notifications.preferences import Recipient, recipients
from campaigns.payouts.models import Payout
from service.mail.compose import compose
from service.mail.outbox import enqueue
from service.unit_of_work import UnitOfWork

AREA = "notifications"
MONEY_FACTS = {
    facts.MATCH_APPROVED: "match_approved",
    facts.MATCH_REJECTED: "match_rejected",
    facts.MATCH_VOIDED: "match_voided",
    facts.PAYOUT_PAID: "payout_paid",
}
"""Fact type -> the email template members with money emails get."""


@dataclass(frozen=True)
class Gift:
    """A gift as a member's email shows it (the nonprofit sees the name of an anonymous donor)."""

    amount_minor: int
    currency: str
    donor_name: str | None
    donor_email: str | None
    message: str | None
    campaign_id: uuid.UUID
    campaign_title: str

    @classmethod
    def of(cls, donation: Donation, campaign_title: str) -> Gift:
        return cls(
            amount_minor=donation.amount_minor,
            currency=donation.currency,
            donor_name=donation.donor_name,
            donor_email=donation.donor_email,
            message=donation.message,
            campaign_id=donation.campaign_id,
            campaign_title=campaign_title,
        )


@dataclass(frozen=True)
class MoneyNews:
    """A match or payout as a member's email shows it."""

    amount_minor: int
    currency: str
    campaign_title: str | None
    reason: str | None
    """A rejection's note from the reviewer, or why a match was voided (a code)."""
    can_appeal: bool


class MemberEmails:
    """campaigns.facts.FactListener for the members' emails."""

    async def on_fact(self, session: UnitOfWork, fact: facts.Fact) -> None:
        if fact.type == facts.DONATION_CONFIRMED:
            await _new_gift(session, fact)
        elif fact.type in MONEY_FACTS:
            await _money_news(session, fact)


LISTENER = MemberEmails()


def _key(recipient: Recipient, fact: facts.Fact) -> str:
    return f"member:{recipient.member_id}:{fact.key}"


async def _new_gift(session: UnitOfWork, fact: facts.Fact) -> None:
    wanted = [r for r in await _recipients(session, fact) if r.gift_emails is GiftEmails.EACH]
    donation = await session.get(Donation, fact.subject_id)
    if not wanted or donation is None:
        return
    gift = Gift.of(donation, await _campaign_title(session, donation.campaign_id) or "")
    for recipient in wanted:
        rendered = compose(AREA, "new_gift", language=recipient.language, gift=gift)
        await enqueue(session, key=_key(recipient, fact), email=rendered.email(to=recipient.email))


async def _recipients(session: UnitOfWork, fact: facts.Fact) -> list[Recipient]:
    """The nonprofit's members and their choices, read once per webhook batch (a batch confirms
    many gifts of one nonprofit; UnitOfWork.remembered)."""
    nonprofit_id = fact.nonprofit_id
    return await session.remembered(
        ("notifications.recipients", nonprofit_id),
        lambda: recipients(session, nonprofit_id=nonprofit_id),
    )


async def _money_news(session: UnitOfWork, fact: facts.Fact) -> None:
    wanted = [r for r in await _recipients(session, fact) if r.money_emails]
    if not wanted:
        return
    news = await _news(session, fact)
    # A rejection voids the match too: its own email already says so, with the reason.
    if news is None or (fact.type == facts.MATCH_VOIDED and news.reason == "rejected"):
        return
    # A payout netted in full against what the organisation owed sent nothing to the account:
    # "Paid out: EUR 0.00" would be news of nothing (the receivable's own story is elsewhere).
    if fact.type == facts.PAYOUT_PAID and news.amount_minor <= 0:
        return
    for recipient in wanted:
        rendered = compose(AREA, MONEY_FACTS[fact.type], language=recipient.language, news=news)
        await enqueue(session, key=_key(recipient, fact), email=rendered.email(to=recipient.email))


async def _news(session: UnitOfWork, fact: facts.Fact) -> MoneyNews | None:
    if fact.type == facts.PAYOUT_PAID:
        return await _payout_news(session, fact)
    match = await session.get(Match, fact.subject_id)
    if match is None:
        return _news_from_data(fact.data)
    rejected = fact.type == facts.MATCH_REJECTED
    return MoneyNews(
        # A voided match is worth nothing now; what it was worth is what the member lost.
        amount_minor=match.original_minor if fact.type == facts.MATCH_VOIDED else match.amount_minor,
        currency=match.currency,
        campaign_title=await _campaign_title(session, match.campaign_id),
        reason=match.decision_note if rejected else match.void_reason,
        can_appeal=rejected and match.appealed_at is None,
    )


async def _payout_news(session: UnitOfWork, fact: facts.Fact) -> MoneyNews | None:
    payout = await session.get(Payout, fact.subject_id)
    if payout is None:
        return _news_from_data(fact.data)
    match = await session.get(Match, payout.match_id)
    title = await _campaign_title(session, match.campaign_id) if match is not None else None
    # What reached the account: the match less any receivable netted from it.
    sent = payout.amount_minor - payout.netted_minor
    return MoneyNews(
        amount_minor=sent, currency=payout.currency, campaign_title=title, reason=None, can_appeal=False
    )


def _news_from_data(data: Mapping[str, Any]) -> MoneyNews | None:
    """The fact's own object, when the subject is not a row we know (a payout of another shape)."""
    amount = data.get("transfer_minor", data.get("amount_minor"))
    currency = data.get("currency")
    if not isinstance(amount, int) or not isinstance(currency, str):
        return None
    return MoneyNews(
        amount_minor=amount, currency=currency, campaign_title=None, reason=None, can_appeal=False
    )


async def _campaign_title(session: UnitOfWork, campaign_id: uuid.UUID) -> str | None:
    campaign = await session.get(Campaign, campaign_id)
    return campaign.title if campaign is not None else None
