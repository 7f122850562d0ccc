"""Matching programs (funded pools), matches, quote holds and donor identity clusters.

A program's pool is tracked twice on purpose: in the ledger (the truth) and in counters on
the program row, which the reservation path reads under the row's lock and which CHECK
constraints keep from ever exceeding the budget, even if application code were wrong.
`goodloop ledger check` reconciles the two.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, created_at_column, str_enum, updated_at_column, uuid_pk


class Policy(StrEnum):
    FIXED_RATIO = "fixed_ratio"
    REFERRAL_BONUS = "referral_bonus"
    CHALLENGE_UNLOCK = "challenge_unlock"
    ENGAGEMENT_TIERS = "engagement_tiers"
    QUADRATIC_ROUND = "quadratic_round"


class FunderKind(StrEnum):
    PLATFORM = "platform"
    SPONSOR = "sponsor"


class ProgramStatus(StrEnum):
    ACTIVE = "active"
    """Funded; matches within its window."""
    ENDED = "ended"
    """Past its window (or ended early); unspent budget went back to the funder."""


class MatchStatus(StrEnum):
    PENDING = "pending"
    """Reserved from the pool; waiting out the hold period."""
    HELD_FOR_REVIEW = "held_for_review"
    """A risk signal fired; a person decides."""
    APPROVED = "approved"
    """Cleared for payout."""
    PAID = "paid"
    """Transferred to the nonprofit; the reservation is posted."""
    VOIDED = "voided"
    """Refund, dispute, ineligibility or rejection; the reservation went back to the pool."""


class QuoteStatus(StrEnum):
    HELD = "held"
    """Reserved while the donor is on Checkout."""
    CONVERTED = "converted"
    """The donation settled; the hold became (part of) a match."""
    RELEASED = "released"
    """Checkout expired or failed, or the donation turned out ineligible."""


class RecurringRule(StrEnum):
    FIRST_INSTALLMENT = "first_installment"
    """Only the gift made at checkout is matched; renewals are not."""
    EACH_INSTALLMENT = "each_installment"
    """Every paid installment may be matched, up to the program's caps like any gift."""


class MatchingProgram(Base):
    __tablename__ = "matching_programs"
    __table_args__ = (
        sa.CheckConstraint("budget_minor > 0", name="budget_positive"),
        sa.CheckConstraint(
            "held_minor >= 0 AND reserved_minor >= 0 AND paid_minor >= 0 AND recovered_minor >= 0"
            " AND returned_minor >= 0",
            name="pool_counters_not_negative",
        ),
        # The pool can never be overspent: what is promised, reserved or paid (net of what came
        # back) plus what went back to the funder never exceeds the budget.
        sa.CheckConstraint(
            "held_minor + reserved_minor + paid_minor - recovered_minor + returned_minor <= budget_minor",
            name="pool_not_overspent",
        ),
        sa.CheckConstraint("ends_at > starts_at", name="window_ordered"),
        sa.CheckConstraint("currency = lower(currency)", name="currency_lowercase"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(sa.String(200))
    funder_kind: Mapped[FunderKind] = mapped_column(str_enum(FunderKind, "funder_kind"))
    funder_name: Mapped[str] = mapped_column(sa.String(200))
    currency: Mapped[str] = mapped_column(sa.String(3))
    budget_minor: Mapped[int] = mapped_column(sa.BigInteger())
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    campaign_ids: Mapped[list[str] | None] = mapped_column(sa.JSON())
    """Eligible campaigns (uuid strings); None means every campaign in the currency."""
    verified_nonprofits_only: Mapped[bool] = mapped_column(sa.Boolean(), default=True)
    min_donation_minor: Mapped[int] = mapped_column(sa.BigInteger(), default=0)
    per_donation_cap_minor: Mapped[int | None] = mapped_column(sa.BigInteger())
    per_donor_cap_minor: Mapped[int | None] = mapped_column(sa.BigInteger())
    per_campaign_cap_minor: Mapped[int | None] = mapped_column(sa.BigInteger())
    allow_partial: Mapped[bool] = mapped_column(sa.Boolean(), default=True)
    hold_days: Mapped[int] = mapped_column(sa.Integer(), default=7)
    review_threshold_minor: Mapped[int | None] = mapped_column(sa.BigInteger())
    max_risk_score: Mapped[int] = mapped_column(sa.Integer(), default=65)
    """Stripe Radar scores above this make a donation ineligible."""
    recurring_rule: Mapped[RecurringRule] = mapped_column(
        str_enum(RecurringRule, "matching_recurring_rule"),
        default=RecurringRule.FIRST_INSTALLMENT,
        server_default=RecurringRule.FIRST_INSTALLMENT.value,
    )
    """Which installments of a recurring gift it matches (each one still within the caps)."""
    policy: Mapped[Policy] = mapped_column(str_enum(Policy, "matching_policy"))
    policy_params: Mapped[dict[str, Any]] = mapped_column(sa.JSON())
    status: Mapped[ProgramStatus] = mapped_column(
        str_enum(ProgramStatus, "matching_program_status"), default=ProgramStatus.ACTIVE
    )
    # Pool counters, mirrored from the ledger (see the module docstring).
    held_minor: Mapped[int] = mapped_column(sa.BigInteger(), default=0)
    reserved_minor: Mapped[int] = mapped_column(sa.BigInteger(), default=0)
    paid_minor: Mapped[int] = mapped_column(sa.BigInteger(), default=0)
    recovered_minor: Mapped[int] = mapped_column(sa.BigInteger(), default=0)
    returned_minor: Mapped[int] = mapped_column(sa.BigInteger(), default=0)
    created_by_admin_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("admins.id"))
    created_at: Mapped[datetime] = created_at_column()
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def available_minor(self) -> int:
        return (
            self.budget_minor
            - self.held_minor
            - self.reserved_minor
            - self.paid_minor
            + self.recovered_minor
            - self.returned_minor
        )


class Match(Base):
    """A top-up from one program: for one donation, or for a campaign (challenge, round)."""

    __tablename__ = "matches"
    __table_args__ = (
        sa.CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
        sa.CheckConstraint("original_minor >= amount_minor", name="amount_within_original"),
        sa.CheckConstraint("recovered_minor >= 0", name="recovered_not_negative"),
        sa.UniqueConstraint("donation_id", "program_id", name="uq_matches_donation_program"),
        sa.Index("ix_matches_program_campaign", "program_id", "campaign_id"),
        sa.Index("ix_matches_program_cluster", "program_id", "cluster_id"),
        sa.Index("ix_matches_status_created", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    """What the match is for: `{program}:donation:{id}` or `{program}:campaign:{id}`."""
    program_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("matching_programs.id"))
    donation_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("donations.id"))
    campaign_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("campaigns.id"), index=True)
    nonprofit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("nonprofits.id"), index=True)
    cluster_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    referrer_cluster_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    currency: Mapped[str] = mapped_column(sa.String(3))
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger())
    """What the match is worth now (after proportional voids for partial refunds)."""
    original_minor: Mapped[int] = mapped_column(sa.BigInteger())
    recovered_minor: Mapped[int] = mapped_column(sa.BigInteger(), default=0)
    """Clawed back after payment (refunds after payout)."""
    status: Mapped[MatchStatus] = mapped_column(
        str_enum(MatchStatus, "match_status"), default=MatchStatus.PENDING
    )
    revision: Mapped[int] = mapped_column(sa.Integer(), default=0)
    """Bumped each time the reservation is resized; names the current pending ledger transfer."""
    reservation_transfer_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    risk_reasons: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON(), default=list)
    hold_until: Mapped[datetime] = mapped_column(UTCDateTime())
    void_reason: Mapped[str | None] = mapped_column(sa.String(200))
    decided_by_admin_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("admins.id"))
    decision_note: Mapped[str | None] = mapped_column(sa.Text())
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    appeal_message: Mapped[str | None] = mapped_column(sa.Text())
    """The nonprofit's appeal of a rejection (one per match: set once, never cleared)."""
    appealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MatchApproval(Base):
    """One admin's approval of a match; large matches need two, from two different people.

    The unique constraint is what makes "the same person cannot approve twice" true even
    when two requests race: the second insert fails. An appeal opens a new round (1), in
    which the match is decided afresh; round 0's approvals stay as history.
    """

    __tablename__ = "match_approvals"
    __table_args__ = (
        sa.UniqueConstraint("match_id", "round", "admin_id", name="uq_match_approvals_match_round_admin"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    match_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("matches.id"), index=True)
    round: Mapped[int] = mapped_column(sa.Integer(), default=0)
    admin_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("admins.id"))
    note: Mapped[str | None] = mapped_column(sa.Text())
    created_at: Mapped[datetime] = created_at_column()


class RiskSetting(Base):
    """An admin's override of one risk signal's weight, threshold or on/off (defaults live in code)."""

    __tablename__ = "risk_settings"
    __table_args__ = (
        sa.CheckConstraint("weight >= 0 AND weight <= 1000", name="weight_in_range"),
        sa.CheckConstraint("threshold IS NULL OR threshold >= 0", name="threshold_not_negative"),
    )

    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    weight: Mapped[int] = mapped_column(sa.Integer())
    threshold: Mapped[int | None] = mapped_column(sa.Integer())
    enabled: Mapped[bool] = mapped_column(sa.Boolean(), default=True)
    updated_by_admin_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("admins.id"))
    updated_at: Mapped[datetime] = updated_at_column()


class MatchQuote(Base):
    """The match promised to a donor at checkout, held from the pool for the session's life."""

    __tablename__ = "match_quotes"
    __table_args__ = (
        sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
        sa.UniqueConstraint("donation_id", "program_id", name="uq_match_quotes_donation_program"),
        sa.Index("ix_match_quotes_status_expires", "status", "expires_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    program_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("matching_programs.id"))
    donation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("donations.id"))
    campaign_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("campaigns.id"))
    cluster_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    currency: Mapped[str] = mapped_column(sa.String(3))
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger())
    status: Mapped[QuoteStatus] = mapped_column(
        str_enum(QuoteStatus, "match_quote_status"), default=QuoteStatus.HELD
    )
    transfer_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()


class IdentityKind(StrEnum):
    EMAIL = "email"
    CARD = "card"
    DEVICE = "device"
    NETWORK = "network"
    """Only remembered for a nonprofit's people (where they sign in from): many unrelated
    donors share a network (an office, a campus), so it never links donors into a cluster."""


class IdentityKey(Base):
    """One identifying fact (a normalised email's digest, a card fingerprint, a device hash).

    Donations sharing any key belong to one cluster (union-find, persisted): the cluster
    id of every key in a merged group is rewritten to the group's smallest id.
    """

    __tablename__ = "identity_keys"
    __table_args__ = (sa.UniqueConstraint("kind", "digest", name="uq_identity_keys_kind_digest"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    kind: Mapped[str] = mapped_column(sa.String(16))
    digest: Mapped[str] = mapped_column(sa.String(64))
    cluster_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid(), index=True)
    created_at: Mapped[datetime] = created_at_column()


class NonprofitIdentityKey(Base):
    """A key known to belong to a nonprofit's own people (a member's email, a device they log in from)."""

    __tablename__ = "nonprofit_identity_keys"
    __table_args__ = (
        sa.UniqueConstraint("nonprofit_id", "kind", "digest", name="uq_nonprofit_identity_keys"),
        sa.Index("ix_nonprofit_identity_keys_kind_digest", "kind", "digest"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    nonprofit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("nonprofits.id"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    digest: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = created_at_column()


class DonationCluster(Base):
    """Which identity cluster a settled donation belongs to (kept current when clusters merge)."""

    __tablename__ = "donation_clusters"

    donation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("donations.id"), primary_key=True)
    cluster_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid(), index=True)
    campaign_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("campaigns.id"), index=True)


class RoundResultRecord(Base):
    """A published quadratic round: allocations and the hash of the inputs they came from."""

    __tablename__ = "matching_round_results"

    program_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("matching_programs.id"), primary_key=True)
    inputs_hash: Mapped[str] = mapped_column(sa.String(64))
    allocations: Mapped[dict[str, int]] = mapped_column(sa.JSON())
    unallocated_minor: Mapped[int] = mapped_column(sa.BigInteger())
    computed_at: Mapped[datetime] = created_at_column()
