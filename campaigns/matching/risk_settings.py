"""The risk signals an admin can tune: weight, threshold and on/off, with defaults in code.

Each signal's default lives here, next to the sentence that explains its threshold; the
`risk_settings` table holds only what an admin changed, so a new signal ships with a sane
default and an upgrade never needs a data migration. Every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.matching.models import RiskSetting
from service import audit
from service.auth.models import Admin
from service.db import add_unique
from service.errors import Conflict, NotFound, ValidationFailed


@dataclass(frozen=True)
class SignalDefinition:
    code: str
    label: str
    weight: int
    threshold: int | None
    """None: the signal has no threshold of its own (it fires on a fact, not a count)."""
    threshold_meaning: str


SIGNALS: tuple[SignalDefinition, ...] = (
    SignalDefinition(
        "amount_above_threshold", "Large match", 100, None, "Uses each program's own review threshold."
    ),
    SignalDefinition("new_nonprofit", "New nonprofit (probation)", 40, 30, "Days after verification."),
    SignalDefinition(
        "nonprofit_flagged",
        "Nonprofit with flagged donors",
        100,
        3,
        "Matches of the nonprofit held for donor patterns, plus gifts to it from its own people"
        " (for campaign-level matches).",
    ),
    # Radar's verdict is about the card, probation about the nonprofit: together (90) they stay
    # under REVIEW_SCORE, or one fan in thirty of a new nonprofit's viral day would wait for a
    # person. Stolen cards are stopped by the program's hard Radar limit and the early fraud
    # warning, and a refund or dispute voids the match during the hold anyway.
    SignalDefinition(
        "nonprofit_self_dealing",
        "Nonprofit giving to itself",
        100,
        2,
        "Gifts to the nonprofit since the program started from its own people (linked to its"
        " members, or from networks they sign in from), at or above which its matches go to a person.",
    ),
    SignalDefinition(
        "stripe_risk_score",
        "Stripe Radar risk",
        50,
        50,
        "Radar risk score (0-99) at or above which it fires; an 'elevated' risk level always does."
        " Scores above a program's own limit make the gift ineligible outright.",
    ),
    SignalDefinition(
        "card_velocity", "Card velocity", 100, 3, "Donations per card in 24 hours (more fires)."
    ),
    SignalDefinition(
        "shared_device", "Shared browser", 100, 3, "Donations from one browser in 24 hours (more fires)."
    ),
    SignalDefinition(
        "network_burst",
        "Network burst",
        60,
        8,
        "Donations to the campaign from one hashed network in an hour (more fires).",
    ),
    SignalDefinition(
        "card_many_donors",
        "One card, many donors",
        100,
        2,
        "Email addresses one card paid for, across more than one network (more fires).",
    ),
    SignalDefinition(
        "campaign_shared_cards",
        "Campaign paid by few cards",
        100,
        150,
        "Donor email addresses per 100 paying cards on the campaign (at or above fires).",
    ),
    SignalDefinition("referral_cycle", "Referral cycle", 100, None, "Two donors who brought each other."),
    SignalDefinition(
        "referral_loop", "Referral loop", 100, 8, "How many referral steps are followed looking for a loop."
    ),
    SignalDefinition(
        "campaign_spike",
        "Campaign spike",
        60,
        10,
        "Times the campaign's usual hourly donations (over its last week) in the last hour; fires only"
        " when the hour's gifts come from fewer distinct donors (identity clusters) than half of them.",
    ),
    SignalDefinition(
        "owner_network",
        "Nonprofit's own network",
        100,
        None,
        "Gifts from a network where the nonprofit's own people gave.",
    ),
    SignalDefinition(
        "owner_login_network",
        "Nonprofit's sign-in network",
        100,
        None,
        "Gifts from a donor who gave from a network the nonprofit's members sign in from.",
    ),
)
DEFINITIONS = {d.code: d for d in SIGNALS}


@dataclass(frozen=True)
class HardRule:
    """A fact that rules a gift out of matching altogether: no weight, no review, no switch."""

    code: str
    label: str
    sentence: str


HARD_RULES: tuple[HardRule, ...] = (
    HardRule(
        "owner_linked",
        "Donor linked to the nonprofit's people",
        "The donor's identity cluster holds a member's email or a device the members sign in from:"
        " the gift is never matched, and a match found linked later is voided.",
    ),
    HardRule(
        "early_fraud_warning",
        "Early fraud warning",
        "The card issuer reported the payment as likely fraud: its match is voided.",
    ),
    HardRule(
        "stripe_risk",
        "Radar score above the program's limit",
        "A score above the program's own max_risk_score makes the gift ineligible.",
    ),
)


class UnknownSignal(NotFound):
    code = "risk_signal_not_found"


@dataclass(frozen=True)
class SignalSetting:
    definition: SignalDefinition
    weight: int
    threshold: int | None
    enabled: bool


@dataclass(frozen=True)
class RiskConfig:
    settings: dict[str, SignalSetting]

    def weight(self, code: str) -> int | None:
        """The signal's weight, or None when an admin switched it off."""
        setting = self.settings[code]
        return setting.weight if setting.enabled else None

    def threshold(self, code: str) -> int:
        value = self.settings[code].threshold
        assert value is not None, f"{code} has no threshold"
        return value

    @classmethod
    def defaults(cls) -> RiskConfig:
        return cls({d.code: SignalSetting(d, d.weight, d.threshold, True) for d in SIGNALS})


async def load(session: AsyncSession) -> RiskConfig:
    rows = {row.code: row for row in (await session.scalars(sa.select(RiskSetting))).all()}
    settings: dict[str, SignalSetting] = {}
    for d in SIGNALS:
        row = rows.get(d.code)
        if row is None:
            settings[d.code] = SignalSetting(d, d.weight, d.threshold, True)
        else:
            threshold = row.threshold if d.threshold is not None else None
            settings[d.code] = SignalSetting(d, row.weight, threshold, row.enabled)
    return RiskConfig(settings)


async def update(
    session: AsyncSession, *, admin: Admin, code: str, weight: int, threshold: int | None, enabled: bool
) -> SignalSetting:
    definition = DEFINITIONS.get(code)
    if definition is None:
        raise UnknownSignal(f"there is no risk signal {code!r}")
    if not 0 <= weight <= 1000:
        raise ValidationFailed({"weight": "must be a whole number from 0 to 1000"})
    if definition.threshold is None:
        threshold = None
    elif threshold is None or threshold < 1:
        raise ValidationFailed({"threshold": "this signal needs a threshold of at least 1"})
    before = (await load(session)).settings[code]
    row = await session.get(RiskSetting, code, with_for_update=True)
    if row is None:
        row = RiskSetting(
            code=code, weight=weight, threshold=threshold, enabled=enabled, updated_by_admin_id=admin.id
        )
        await add_unique(
            session,
            row,
            Conflict("another admin changed this signal at the same moment; reload and try again"),
        )
    row.weight, row.threshold, row.enabled, row.updated_by_admin_id = weight, threshold, enabled, admin.id
    await audit.record(
        session,
        actor=admin,
        action="risk.signal_updated",
        subject_type="risk_signal",
        subject_id=code,
        before={"weight": before.weight, "threshold": before.threshold, "enabled": before.enabled},
        after={"weight": weight, "threshold": threshold, "enabled": enabled},
    )
    return SignalSetting(definition, weight, threshold, enabled)
