"""Everything a reviewer reads before deciding on one match, gathered read-only.

The reviewer sees who is behind a gift without seeing what identifies them: emails are
masked and card fingerprints / device hashes appear only as short labels of a digest, enough
to tell "the same card" from "another card" and nothing more.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign
from campaigns.donations.models import SETTLED, Donation
from campaigns.matching import identity, lifecycle
from campaigns.matching.errors import MatchNotFound
from campaigns.matching.models import DonationCluster, Match, MatchingProgram
from campaigns.nonprofits.models import Nonprofit
from campaigns.sharing.models import ShareLink, ShareLinkKind
from service import audit
from service.auth.models import Admin

CHAIN_DEPTH = 6
CLUSTER_SHOWN = 50
PATTERN_DAYS = 14
BASELINE_DAYS = 28
SHARED_GROUPS_SHOWN = 5


def mask_email(email: str | None) -> str:
    """'jane.doe@example.org' -> 'j***@e***.org': enough to tell donors apart, not to reach them."""
    if not email:
        return "no email"
    local, _, domain = email.strip().lower().rpartition("@")
    if not local:
        return "***"
    host, _, tld = domain.rpartition(".")
    masked_domain = f"{host[:1]}***.{tld}" if host else f"{tld[:1]}***"
    return f"{local[:1]}***@{masked_domain}"


def short_label(kind: str, secret: str | None) -> str:
    """A stable six-character label of a digest of the value; the value itself never leaves here."""
    if not secret:
        return ""
    return f"{kind} {hashlib.sha256(secret.encode()).hexdigest()[:6]}"


@dataclass(frozen=True)
class Reason:
    code: str
    weight: int
    sentence: str


@dataclass(frozen=True)
class Gift:
    donation_id: uuid.UUID
    amount_minor: int
    currency: str
    campaign_title: str
    status: str
    created_at: datetime
    donor: str
    card: str
    device: str


@dataclass(frozen=True)
class ClusterGift:
    gift: Gift
    linked_by: list[str]
    """The keys it shares with the match's own gift (email, card, device); empty: through other gifts."""


@dataclass(frozen=True)
class ChainStep:
    depth: int
    link_code: str
    link_kind: str
    channel: str | None
    referrer: Gift | None
    same_donor: bool
    """The referrer is in the same identity cluster as the match's donor."""
    loop: bool
    """The chain came back to a gift already in it."""


@dataclass(frozen=True)
class Day:
    day: date
    count: int


@dataclass(frozen=True)
class SharedGroup:
    label: str
    donors: int
    gifts: int
    includes_this_gift: bool


@dataclass(frozen=True)
class Pattern:
    days: list[Day]
    baseline_count: int
    baseline_days: int
    shared_devices: list[SharedGroup]
    shared_networks: list[SharedGroup]

    @property
    def recent_total(self) -> int:
        return sum(d.count for d in self.days)


@dataclass(frozen=True)
class Approval:
    admin_id: uuid.UUID
    admin_email: str
    note: str | None
    created_at: datetime


@dataclass(frozen=True)
class MatchDetail:
    match: Match
    program: MatchingProgram
    campaign: Campaign
    nonprofit: Nonprofit
    gift: Gift | None
    reasons: list[Reason]
    cluster: list[ClusterGift]
    cluster_total: int
    chain: list[ChainStep]
    pattern: Pattern
    approvals: list[Approval]
    approvals_required: int
    history: Sequence[audit.AuditEntry]
    own_organisation: bool
    already_approved_by_me: bool

    @property
    def weight(self) -> int:
        return sum(r.weight for r in self.reasons)


def reasons_of(match: Match) -> list[Reason]:
    return [
        Reason(
            code=str(r.get("code", "")), weight=int(r.get("weight", 0)), sentence=str(r.get("sentence", ""))
        )
        for r in match.risk_reasons
    ]


async def match_detail(
    session: AsyncSession, *, match_id: uuid.UUID, admin: Admin, now: datetime
) -> MatchDetail:
    match = await session.get(Match, match_id)
    if match is None:
        raise MatchNotFound("no such match")
    program = await session.get(MatchingProgram, match.program_id)
    campaign = await session.get(Campaign, match.campaign_id)
    nonprofit = await session.get(Nonprofit, match.nonprofit_id)
    assert program is not None and campaign is not None and nonprofit is not None
    donation = await session.get(Donation, match.donation_id) if match.donation_id else None
    titles = {campaign.id: campaign.title}
    cluster_id = match.cluster_id
    if cluster_id is None and donation is not None:
        cluster_id = await identity.cluster_of_donation(session, donation.id)
    cluster, cluster_total = await cluster_gifts(
        session, cluster_id=cluster_id, donation=donation, exclude=match.donation_id
    )
    approvals = await approvals_of(session, match)
    return MatchDetail(
        match=match,
        program=program,
        campaign=campaign,
        nonprofit=nonprofit,
        gift=gift_of(donation, titles) if donation else None,
        reasons=reasons_of(match),
        cluster=cluster,
        cluster_total=cluster_total,
        chain=await referral_chain(session, donation=donation, cluster_id=cluster_id),
        pattern=await campaign_pattern(session, campaign_id=campaign.id, donation=donation, now=now),
        approvals=approvals,
        approvals_required=lifecycle.approvals_required(program, match),
        history=await audit.list_entries(session, subject_type="match", subject_id=str(match.id), limit=100),
        own_organisation=await lifecycle.belongs_to_nonprofit(
            session, admin=admin, nonprofit_id=match.nonprofit_id
        ),
        already_approved_by_me=any(a.admin_id == admin.id for a in approvals),
    )


def gift_of(donation: Donation, titles: dict[uuid.UUID, str]) -> Gift:
    return Gift(
        donation_id=donation.id,
        amount_minor=donation.amount_minor,
        currency=donation.currency,
        campaign_title=titles.get(donation.campaign_id, "another campaign"),
        status=str(donation.status),
        created_at=donation.created_at,
        donor=mask_email(donation.donor_email),
        card=short_label("card", donation.card_fingerprint),
        device=short_label("browser", donation.device_hash),
    )


def shared_keys(one: Donation | None, other: Donation) -> list[str]:
    if one is None:
        return []
    mine = set(identity.donation_keys(one))
    return sorted({str(kind) for kind, digest in identity.donation_keys(other) if (kind, digest) in mine})


async def _titles(session: AsyncSession, campaign_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not campaign_ids:
        return {}
    rows = await session.execute(sa.select(Campaign.id, Campaign.title).where(Campaign.id.in_(campaign_ids)))
    return {campaign_id: str(title) for campaign_id, title in rows}


async def cluster_gifts(
    session: AsyncSession,
    *,
    cluster_id: uuid.UUID | None,
    donation: Donation | None,
    exclude: uuid.UUID | None,
) -> tuple[list[ClusterGift], int]:
    """Other gifts of the same donor identity cluster, newest first, and how many there are."""
    if cluster_id is None:
        return [], 0
    others = sa.select(DonationCluster.donation_id).where(DonationCluster.cluster_id == cluster_id)
    if exclude is not None:
        others = others.where(DonationCluster.donation_id != exclude)
    total = int(await session.scalar(sa.select(sa.func.count()).select_from(others.subquery())) or 0)
    rows = list(
        (
            await session.scalars(
                sa.select(Donation)
                .where(Donation.id.in_(others))
                .order_by(Donation.created_at.desc(), Donation.id)
                .limit(CLUSTER_SHOWN)
            )
        ).all()
    )
    titles = await _titles(session, {d.campaign_id for d in rows})
    return [ClusterGift(gift=gift_of(d, titles), linked_by=shared_keys(donation, d)) for d in rows], total


async def referral_chain(
    session: AsyncSession, *, donation: Donation | None, cluster_id: uuid.UUID | None
) -> list[ChainStep]:
    """The link that brought the gift, the referrer's gift, the link that brought that one..."""
    steps: list[ChainStep] = []
    seen = {donation.id} if donation else set()
    current = donation
    while current is not None and current.referral_link_id is not None and len(steps) < CHAIN_DEPTH:
        link = await session.get(ShareLink, current.referral_link_id)
        if link is None:
            break
        referrer = None
        if link.kind is ShareLinkKind.SUPPORTER and link.donation_id is not None:
            referrer = await session.get(Donation, link.donation_id)
        loop = referrer is not None and referrer.id in seen
        referrer_cluster = await identity.cluster_of_donation(session, referrer.id) if referrer else None
        titles = await _titles(session, {referrer.campaign_id} if referrer else set())
        steps.append(
            ChainStep(
                depth=len(steps) + 1,
                link_code=link.code,
                link_kind=str(link.kind),
                channel=link.channel,
                referrer=gift_of(referrer, titles) if referrer else None,
                same_donor=referrer_cluster is not None and referrer_cluster == cluster_id,
                loop=loop,
            )
        )
        if referrer is None or loop:
            break
        seen.add(referrer.id)
        current = referrer
    return steps


def day_starts(now: datetime) -> list[datetime]:
    """Midnights (UTC) of the last PATTERN_DAYS days, oldest first; the last one is today's."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return [today - timedelta(days=PATTERN_DAYS - 1 - i) for i in range(PATTERN_DAYS)]


async def campaign_pattern(
    session: AsyncSession, *, campaign_id: uuid.UUID, donation: Donation | None, now: datetime
) -> Pattern:
    starts = day_starts(now)
    window_start = starts[0]
    baseline_start = window_start - timedelta(days=BASELINE_DAYS)
    settled = sa.and_(Donation.campaign_id == campaign_id, Donation.status.in_(SETTLED))

    def between(lo: datetime, hi: datetime) -> Any:
        return sa.func.coalesce(
            sa.func.sum(sa.case((sa.and_(Donation.created_at >= lo, Donation.created_at < hi), 1), else_=0)),
            0,
        )

    ends = [*starts[1:], starts[-1] + timedelta(days=1)]
    columns = [between(lo, hi) for lo, hi in zip(starts, ends, strict=True)]
    columns.append(between(baseline_start, window_start))
    columns.append(sa.func.min(Donation.created_at))
    row = (
        await session.execute(sa.select(*columns).where(settled, Donation.created_at >= baseline_start))
    ).one()
    counts = [int(v) for v in row[:PATTERN_DAYS]]
    first_gift: datetime | None = row[PATTERN_DAYS + 1]
    baseline_days = 0
    if first_gift is not None and first_gift < window_start:
        baseline_days = min(BASELINE_DAYS, max(1, (window_start - first_gift).days + 1))
    return Pattern(
        days=[Day(day=s.date(), count=c) for s, c in zip(starts, counts, strict=True)],
        baseline_count=int(row[PATTERN_DAYS]),
        baseline_days=baseline_days,
        shared_devices=await _shared(
            session, Donation.device_hash, "browser", campaign_id, window_start, donation
        ),
        shared_networks=await _shared(
            session, Donation.client_hash, "network", campaign_id, window_start, donation
        ),
    )


async def _shared(
    session: AsyncSession,
    column: Any,
    kind: str,
    campaign_id: uuid.UUID,
    since: datetime,
    donation: Donation | None,
) -> list[SharedGroup]:
    """Browsers (or networks) that more than one donor gave to the campaign from, lately."""
    donors = sa.func.count(sa.distinct(Donation.donor_email))
    rows = await session.execute(
        sa.select(column, donors, sa.func.count())
        .where(
            Donation.campaign_id == campaign_id,
            Donation.status.in_(SETTLED),
            Donation.created_at >= since,
            column.is_not(None),
        )
        .group_by(column)
        .having(donors > 1)
        .order_by(donors.desc(), column)
        .limit(SHARED_GROUPS_SHOWN)
    )
    mine = getattr(donation, column.key) if donation is not None else None
    return [
        SharedGroup(
            label=short_label(kind, value),
            donors=int(n_donors),
            gifts=int(n_gifts),
            includes_this_gift=value == mine,
        )
        for value, n_donors, n_gifts in rows
    ]


async def approvals_of(session: AsyncSession, match: Match) -> list[Approval]:
    """The approvals counting towards the current decision, with who gave them."""
    approvals = await lifecycle.list_approvals(session, match)
    ids = {a.admin_id for a in approvals}
    emails = (
        dict((await session.execute(sa.select(Admin.id, Admin.email).where(Admin.id.in_(ids)))).all())
        if ids
        else {}
    )
    return [
        Approval(
            admin_id=a.admin_id, admin_email=emails.get(a.admin_id, "?"), note=a.note, created_at=a.created_at
        )
        for a in approvals
    ]
