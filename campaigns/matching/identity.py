"""Donor identity clusters: donations linked by card fingerprint, normalised email or device.

Clusters are a persisted union-find. Each identifying fact is a row in identity_keys with a
cluster id; a settled donation's keys are inserted (ON CONFLICT DO NOTHING), and when they
point at more than one cluster the clusters merge into the smallest id. Per-donor caps,
"distinct donors" counts and quadratic rounds all count clusters, so a person splitting one
gift across email addresses, or giving from one card under many names, is one donor.

Merges race with other merges, so the clusters involved are locked (their keys' rows, in id
order) and resolution is repeated until the set of clusters is stable under the lock.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.donations.models import Donation
from campaigns.matching.models import (
    DonationCluster,
    IdentityKey,
    IdentityKind,
    Match,
    MatchQuote,
    NonprofitIdentityKey,
)
from campaigns.nonprofits.models import Member
from service.db import insert_for
from service.unit_of_work import UnitOfWork

# Mail providers known to ignore dots in the local part.
_DOTLESS_DOMAINS = frozenset({"gmail.com", "googlemail.com"})

Key = tuple[IdentityKind, str]


def normalise_email(email: str) -> str:
    """The mailbox an address delivers to: lowercased, `+tag` dropped, Gmail's dots ignored."""
    local, _, domain = email.strip().lower().rpartition("@")
    if not local:
        return email.strip().lower()
    local = local.split("+", 1)[0]
    if domain == "googlemail.com":
        domain = "gmail.com"
    if domain in _DOTLESS_DOMAINS:
        local = local.replace(".", "")
    return f"{local}@{domain}"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def email_key(email: str) -> Key:
    return IdentityKind.EMAIL, _digest(normalise_email(email))


def donation_keys(donation: Donation) -> list[Key]:
    keys: list[Key] = []
    if donation.donor_email:
        keys.append(email_key(donation.donor_email))
    if donation.card_fingerprint:
        keys.append((IdentityKind.CARD, _digest(donation.card_fingerprint)))
    if donation.device_hash:
        keys.append((IdentityKind.DEVICE, donation.device_hash))
    return keys


def device_key(device_hash: str) -> Key:
    return IdentityKind.DEVICE, device_hash


def network_key(client_hash: str) -> Key:
    return IdentityKind.NETWORK, client_hash


async def lookup_cluster(session: AsyncSession, keys: Iterable[Key]) -> uuid.UUID | None:
    """The smallest cluster any of these keys already belongs to, without writing anything."""
    found = await _clusters_of(session, list(keys), lock=False)
    return min(found) if found else None


async def _clusters_of(session: AsyncSession, keys: list[Key], *, lock: bool) -> set[uuid.UUID]:
    if not keys:
        return set()
    match = sa.tuple_(IdentityKey.kind, IdentityKey.digest).in_([sa.tuple_(k, d) for k, d in keys])
    query = sa.select(IdentityKey.cluster_id).where(match).order_by(IdentityKey.id)
    if lock:
        query = query.with_for_update()
    return set((await session.scalars(query)).all())


@dataclass(frozen=True)
class Linked:
    cluster_id: uuid.UUID
    merged: bool
    """Keys that were apart until now are one cluster: clusters merged, or new keys (an owner's
    email, a card) joined a known donor. Caps and owner links must be looked at again."""


async def link_donation(session: UnitOfWork, donation: Donation) -> Linked:
    """Put a settled donation's keys in one cluster, merging the clusters they join."""
    keys = donation_keys(donation)
    if not keys:
        # Nothing identifies the donor: a cluster of one, named after the donation.
        return Linked(await _assign(session, donation, donation.id), merged=False)
    proposed = uuid.uuid4()
    for kind, digest in keys:
        await session.execute(
            insert_for(session, IdentityKey)
            .values(id=uuid.uuid4(), kind=kind, digest=digest, cluster_id=proposed, created_at=session.now())
            .on_conflict_do_nothing(index_elements=["kind", "digest"])
        )
    clusters = await _locked_clusters(session, keys)
    target = min(clusters)
    others = clusters - {target}
    if others:
        await session.execute(
            sa.update(IdentityKey).where(IdentityKey.cluster_id.in_(others)).values(cluster_id=target)
        )
        await session.execute(
            sa.update(DonationCluster).where(DonationCluster.cluster_id.in_(others)).values(cluster_id=target)
        )
        await _merge_match_clusters(session, others=others, target=target)
    return Linked(await _assign(session, donation, target), merged=bool(others))


async def _locked_clusters(session: AsyncSession, keys: list[Key]) -> set[uuid.UUID]:
    """The clusters of `keys`, with every key row of those clusters locked; stable on return."""
    clusters = await _clusters_of(session, keys, lock=True)
    while True:
        rows = await session.scalars(
            sa.select(IdentityKey.cluster_id)
            .where(IdentityKey.cluster_id.in_(clusters))
            .order_by(IdentityKey.id)
            .with_for_update()
        )
        locked = set(rows.all())
        again = await _clusters_of(session, keys, lock=False)
        if again <= clusters and locked <= clusters:
            return again
        clusters |= again | locked


async def _merge_match_clusters(session: AsyncSession, *, others: set[uuid.UUID], target: uuid.UUID) -> None:
    await session.execute(sa.update(Match).where(Match.cluster_id.in_(others)).values(cluster_id=target))
    await session.execute(
        sa.update(Match).where(Match.referrer_cluster_id.in_(others)).values(referrer_cluster_id=target)
    )
    await session.execute(
        sa.update(MatchQuote).where(MatchQuote.cluster_id.in_(others)).values(cluster_id=target)
    )


async def _assign(session: AsyncSession, donation: Donation, cluster_id: uuid.UUID) -> uuid.UUID:
    await session.execute(
        insert_for(session, DonationCluster)
        .values(donation_id=donation.id, cluster_id=cluster_id, campaign_id=donation.campaign_id)
        .on_conflict_do_update(index_elements=["donation_id"], set_={"cluster_id": cluster_id})
    )
    return cluster_id


async def ensure_key(session: UnitOfWork, key: Key) -> uuid.UUID:
    """The cluster of a key, giving it a cluster of its own when it has none yet.

    For a person known before they give (a fundraiser who confirmed their address): their
    later gifts under that key join this cluster, so referral policies can tell them apart
    from the donors they bring.
    """
    kind, digest = key
    await session.execute(
        insert_for(session, IdentityKey)
        .values(id=uuid.uuid4(), kind=kind, digest=digest, cluster_id=uuid.uuid4(), created_at=session.now())
        .on_conflict_do_nothing(index_elements=["kind", "digest"])
    )
    cluster = await lookup_cluster(session, [key])
    assert cluster is not None
    return cluster


async def cluster_of_donation(session: AsyncSession, donation_id: uuid.UUID) -> uuid.UUID | None:
    return await session.scalar(
        sa.select(DonationCluster.cluster_id).where(DonationCluster.donation_id == donation_id)
    )


async def remember_nonprofit_key(session: UnitOfWork, *, nonprofit_id: uuid.UUID, key: Key) -> None:
    """Note that a key belongs to a nonprofit's own people (members' emails, devices they use)."""
    kind, digest = key
    await session.execute(
        insert_for(session, NonprofitIdentityKey)
        .values(
            id=uuid.uuid4(), nonprofit_id=nonprofit_id, kind=kind, digest=digest, created_at=session.now()
        )
        .on_conflict_do_nothing(index_elements=["nonprofit_id", "kind", "digest"])
    )


async def owner_keys(session: AsyncSession, *, nonprofit_id: uuid.UUID) -> sa.ColumnElement[bool]:
    """A condition on IdentityKey: the key belongs to the nonprofit's own people.

    Members' emails count without being registered anywhere (a member giving to their own
    campaign under their login address, or a `+tag` of it); devices, networks and cards are
    the keys remembered for the nonprofit.
    """
    member_emails = (
        await session.scalars(sa.select(Member.email).where(Member.nonprofit_id == nonprofit_id))
    ).all()
    by_email = sa.and_(
        IdentityKey.kind == IdentityKind.EMAIL,
        IdentityKey.digest.in_([email_key(email)[1] for email in member_emails]),
    )
    remembered = sa.exists().where(
        NonprofitIdentityKey.nonprofit_id == nonprofit_id,
        NonprofitIdentityKey.kind == IdentityKey.kind,
        NonprofitIdentityKey.digest == IdentityKey.digest,
    )
    return sa.or_(by_email, remembered)


async def owner_linked_clusters(
    session: AsyncSession, *, cluster_ids: Iterable[uuid.UUID], nonprofit_id: uuid.UUID
) -> set[uuid.UUID]:
    """Which of these clusters hold a key of the nonprofit's own people (two queries for any number)."""
    wanted = set(cluster_ids)
    if not wanted:
        return set()
    found = await session.scalars(
        sa.select(IdentityKey.cluster_id)
        .where(IdentityKey.cluster_id.in_(wanted), await owner_keys(session, nonprofit_id=nonprofit_id))
        .distinct()
    )
    return set(found.all())


async def is_owner_linked(session: AsyncSession, *, cluster_id: uuid.UUID, nonprofit_id: uuid.UUID) -> bool:
    linked = await owner_linked_clusters(session, cluster_ids=[cluster_id], nonprofit_id=nonprofit_id)
    return cluster_id in linked
