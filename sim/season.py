"""A seeded campaign season against the real matching engine: honest donors and attackers.

Run `python -m sim.season [--seed N] [--donors N] [--sybil-share 0.2] [--database-url URL]`.
The world (nonprofits, campaigns, programs) is inserted with the ORM; every gift then goes
through the use cases production runs: a pending donation, quotes held at checkout, and the
settlement use cases the Stripe webhooks call (charge facts, confirmation, failure, early
fraud warnings, refunds, disputes); the worker's chores release holds and close programs.

The engine reads the clock (hold periods, risk windows at reservation). A season takes weeks,
so the simulator builds its Database on a SettableClock and moves that one clock event by
event (every unit of work, hence every module that reads the time, is on it) instead of
running the season compressed into minutes, which would make every gift look like part of
one burst.
See sim/README.md for what is modelled and what is assumed.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import math
import random
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns import wiring
from campaigns.campaign.models import Campaign, CampaignStatus
from campaigns.donations import settlement
from campaigns.donations.models import Donation
from campaigns.donations.repository import DonationRef
from campaigns.donations.settlement import ChargeFacts
from campaigns.matching import identity, lifecycle, pool, programs, quotes, rounds
from campaigns.matching.eligibility import Context
from campaigns.matching.models import Match, MatchingProgram, MatchQuote, MatchStatus, QuoteStatus
from campaigns.matching.policies import FixedRatioParams, QuadraticRoundParams, ReferralBonusParams
from campaigns.matching.pool import pool_account
from campaigns.matching.schemas import ProgramIn
from campaigns.nonprofits.models import Member, MemberRole, Nonprofit, NonprofitStatus
from campaigns.sharing.models import ShareLink, ShareLinkKind
from migrations.runner import migrate_to_head
from service.auth.admins import create_admin
from service.auth.models import Admin, AdminRole
from service.clock import SettableClock
from service.db import Database
from service.ledger import LedgerAccount, LedgerTransfer, TransferKind
from service.unit_of_work import UnitOfWork
from webhooks.commands import check_ledger

SEASON_START = datetime(2026, 3, 2, 8, tzinfo=UTC)
HOLD_DAYS = 7
CARD_COST_MINOR = 1_000
"""What an attacker pays for one more card that passes Radar (a virtual or bought card)."""
NO_LOGIN = "!"
"""Members' password hash: nobody logs in during a simulated season."""
TARGET_CAPTURE = 0.01
"""Of the pools' money (issue #12: attackers together at most 1 %); every kind below its cost too."""
TARGET_HONEST_HELD = 0.05
TARGET_VIRAL_HELD = 0.03
"""Viral day: the crowd's donations held for review."""


class Actor(StrEnum):
    HONEST = "honest"
    SYBIL = "sybil ring"
    CLEAN_SYBIL = "clean sybil"
    SELF_DEALER = "self-dealer"
    REFERRAL_RING = "referral ring"
    CARD_TESTER = "card tester"


ATTACKERS = (Actor.SYBIL, Actor.CLEAN_SYBIL, Actor.SELF_DEALER, Actor.REFERRAL_RING)


# ---------------------------------------------------------------- the world


@dataclass
class Org:
    name: str
    owner: Actor
    """HONEST, SELF_DEALER (a real charity whose owner games it) or SYBIL (a shell)."""
    verified_days_before: int
    owner_email: str
    dashboard_device: str
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    campaigns: list[uuid.UUID] = field(default_factory=list)


@dataclass
class Gift:
    """One checkout: who pays, with what, where it goes, and what happens to it later."""

    at: datetime
    actor: Actor
    org: Org
    campaign_id: uuid.UUID
    amount_minor: int
    email: str
    card: str
    device: str | None
    network: str
    risk_score: int = 10
    risk_level: str = "normal"
    paid: bool = True
    referrer: Gift | None = None
    efw_after: timedelta | None = None
    refund_after: timedelta | None = None
    dispute_after: timedelta | None = None
    donation_id: uuid.UUID = field(default_factory=uuid.uuid4)
    settled: bool = False


def digest(*parts: object) -> str:
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()


class Kind(StrEnum):
    DEFAULT = "default"
    """A four-week season: honest donors spread over it with newsletter moments, every attacker."""
    VIRAL_DAY = "viral-day"
    """One day: a new nonprofit's campaign goes viral (hundreds of donors within an hour), sybil
    bursts on shell campaigns, and every other attacker and honest donor squeezed into the day."""


@dataclass
class Scenario:
    seed: int
    donors: int
    sybil_share: float
    clean_sybils: bool = False
    """The costed variant: every sybil account has a card and a network of its own."""
    kind: Kind = Kind.DEFAULT
    crowd: int = 400
    """Viral day only: honest donors who give to the viral campaign within its hour."""

    @property
    def days(self) -> int:
        return 1 if self.kind is Kind.VIRAL_DAY else 28

    @property
    def scale(self) -> float:
        if self.kind is Kind.VIRAL_DAY:
            return (self.donors + self.crowd) / 1000
        return self.donors / 2000


@dataclass
class World:
    rng: random.Random
    scenario: Scenario
    honest_orgs: list[Org] = field(default_factory=list)
    self_dealers: list[Org] = field(default_factory=list)
    shells: list[Org] = field(default_factory=list)
    gifts: list[Gift] = field(default_factory=list)
    cards_bought: dict[Actor, int] = field(default_factory=lambda: defaultdict(int))
    viral_campaign: uuid.UUID | None = None
    """Viral day only: the new nonprofit's campaign the crowd gives to."""
    _n: int = 0

    def uid(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    def when(self) -> datetime:
        return SEASON_START + timedelta(seconds=self.rng.uniform(0, self.scenario.days * 86_400 - 3_600))

    def honest_amount(self) -> int:
        euros = math.exp(self.rng.gauss(math.log(35), 0.9))
        return int(min(max(euros, 5), 1_000)) * 100

    def honest_risk(self, gift: Gift) -> None:
        if self.rng.random() < 0.03:
            gift.risk_level, gift.risk_score = "elevated", self.rng.randint(45, 70)
        else:
            gift.risk_score = min(max(int(self.rng.gauss(12, 8)), 0), 60)


def _org(world: World, owner: Actor, verified_days_before: int) -> Org:
    name = world.uid("org")
    return Org(name, owner, verified_days_before, f"owner@{name}.example.org", digest("dashboard", name))


def build_orgs(world: World) -> None:
    rng, scale = world.rng, world.scenario.scale
    world.honest_orgs = [
        _org(world, Actor.HONEST, rng.randint(40, 900)) for _ in range(max(6, round(16 * scale)))
    ]
    world.self_dealers = [
        _org(world, Actor.SELF_DEALER, rng.randint(60, 700)) for _ in range(max(1, round(3 * scale)))
    ]
    # Shell charities that passed verification: one fresh (on probation), the rest aged.
    world.shells = [
        _org(world, Actor.SYBIL, 12 if i == 0 else rng.randint(45, 200))
        for i in range(max(2, round(3 * scale)))
    ]
    for org in (*world.honest_orgs, *world.self_dealers):
        org.campaigns.append(uuid.uuid4())


def shell_campaign(world: World) -> tuple[Org, uuid.UUID]:
    """Attackers spread over campaigns (per-campaign caps are per campaign, not per charity)."""
    org = world.rng.choice(world.shells)
    org.campaigns.append(uuid.uuid4())
    return org, org.campaigns[-1]


# ---------------------------------------------------------------- honest donors


def plan_honest(world: World, accounts: int, *, exclude: frozenset[uuid.UUID] = frozenset()) -> None:
    rng = world.rng
    targets = [
        (o, c) for o in (*world.honest_orgs, *world.self_dealers) for c in o.campaigns if c not in exclude
    ]
    weights = [1 / (i + 1) ** 0.8 for i in range(len(targets))]
    # Each campaign has one or two newsletter moments where a share of its gifts arrive together.
    peaks = {c: [world.when() for _ in range(rng.randint(1, 2))] for _, c in targets}
    households: list[tuple[str, str | None, str]] = []  # (shared device, shared card, home network)
    offices = [world.uid("office") for _ in range(max(1, accounts // 150))]
    by_campaign: dict[uuid.UUID, list[Gift]] = defaultdict(list)
    for _ in range(accounts):
        person = world.uid("donor")
        device: str | None = digest("device", person) if rng.random() > 0.05 else None
        card = digest("card", person)[:16]
        network = digest("home", person)
        if households and rng.random() < 0.10:
            # Family members share a home (its network), often a browser, sometimes a card.
            shared_device, shared_card, network = rng.choice(households)
            device = shared_device or device
            card = shared_card or card
        elif rng.random() < 0.06:
            households.append((device or "", card if rng.random() < 0.4 else None, network))
        office = rng.choice(offices) if rng.random() < 0.12 else None
        # One donor in eight gives twice in a four-week season; in a one-day scenario, far fewer do.
        for _gift in range(2 if rng.random() < 0.12 * world.scenario.days / 28 else 1):
            org, campaign_id = rng.choices(targets, weights)[0]
            at = world.when()
            if rng.random() < 0.25:
                at = rng.choice(peaks[campaign_id]) + timedelta(minutes=rng.uniform(0, 180))
            gift = Gift(
                at,
                Actor.HONEST,
                org,
                campaign_id,
                world.honest_amount(),
                f"{person}@mail.example",
                card,
                device,
                digest("net", office) if office and rng.random() < 0.5 else network,
            )
            world.honest_risk(gift)
            if rng.random() < 0.01:
                gift.refund_after = timedelta(days=rng.uniform(1, 20))
            by_campaign[campaign_id].append(gift)
            world.gifts.append(gift)
    _office_drives(world, offices, targets)
    _honest_referrals(world, by_campaign)


def _office_drives(world: World, offices: list[str], targets: list[tuple[Org, uuid.UUID]]) -> None:
    """A workplace giving day: colleagues give to one campaign within two hours, from one network."""
    rng = world.rng
    for office in offices:
        if rng.random() > 0.3:
            continue
        org, campaign_id = rng.choice(targets)
        start = world.when()
        for _ in range(rng.randint(8, 25)):
            colleague = world.uid("colleague")
            gift = Gift(
                start + timedelta(minutes=rng.uniform(0, 120)),
                Actor.HONEST,
                org,
                campaign_id,
                world.honest_amount(),
                f"{colleague}@work.example",
                digest("card", colleague)[:16],
                digest("device", colleague),
                digest("net", office),
            )
            world.honest_risk(gift)
            world.gifts.append(gift)


def _honest_referrals(world: World, by_campaign: dict[uuid.UUID, list[Gift]]) -> None:
    """About one honest gift in five came through an earlier donor's personal share link."""
    for gifts in by_campaign.values():
        gifts.sort(key=lambda g: g.at)
        for i, gift in enumerate(gifts[1:], start=1):
            if world.rng.random() < 0.2:
                referrer = world.rng.choice(gifts[:i])
                if referrer.email != gift.email and referrer.at < gift.at:
                    gift.referrer = referrer


# ---------------------------------------------------------------- attackers


def plan_sybil_ring(world: World, accounts: int, *, clean: bool) -> None:
    """One operator, many free mailboxes and cookie-less browsers, a few proxies, few cards.

    The engine is open source, so the operator knows the thresholds: at most three gifts per
    card a day, a handful per network and hour, no burst on the campaign, and each match kept
    under the review threshold. A clean ring buys a card per account and rotates residential
    proxies per account too, and varies its amounts.
    """
    rng = world.rng
    org, campaign_id = shell_campaign(world)
    actor = Actor.CLEAN_SYBIL if clean else Actor.SYBIL
    cards = [world.uid("sybilcard") for _ in range(accounts if clean else rng.randint(1, 3))]
    world.cards_bought[actor] += len(cards)
    proxies = [world.uid("proxy") for _ in range(accounts if clean else rng.randint(2, 4))]
    per_day: dict[tuple[str, int], int] = defaultdict(int)
    for i in range(accounts):
        card = cards[i % len(cards)]
        at = world.when()
        while per_day[(card, (at - SEASON_START).days)] >= 3:
            at = world.when()
        per_day[(card, (at - SEASON_START).days)] += 1
        account = world.uid("sybil")
        domain = rng.choice(["mail.example", "inbox.example", "post.example"])
        world.gifts.append(
            Gift(
                at,
                actor,
                org,
                campaign_id,
                (rng.randint(40, 199) if clean else rng.randint(150, 199)) * 100,
                f"{account}.{rng.randint(10, 99)}@{domain}",
                card,
                digest("device", account),
                digest("net", proxies[i % len(proxies)] if clean else rng.choice(proxies)),
                risk_score=rng.randint(5, 35),
            )
        )


def plan_self_dealer(world: World, org: Org) -> None:
    """An owner tops up their own campaign: own login, fresh addresses, own browser, relatives' cards."""
    rng = world.rng
    campaign_id = org.campaigns[0]
    own_card = digest("card", org.owner_email)[:16]
    relatives = [world.uid("relative") for _ in range(rng.randint(2, 5))]
    for _ in range(rng.randint(8, 16)):
        style = rng.random()
        email = f"{world.uid('fresh')}@mail.example"
        if style < 0.15:
            email, card, device = org.owner_email, own_card, org.dashboard_device
        elif style < 0.4:
            card, device = own_card, org.dashboard_device
        elif style < 0.55:
            card, device = own_card, digest("phone", org.owner_email)
        else:
            relative = rng.choice(relatives)
            card, device = digest("card", relative)[:16], digest("device", relative)
            email = f"{relative}@mail.example" if rng.random() < 0.5 else email
        world.gifts.append(
            Gift(
                world.when(),
                Actor.SELF_DEALER,
                org,
                campaign_id,
                rng.randint(50, 199) * 100,
                email,
                card,
                device,
                digest("net", "home", org.name) if rng.random() < 0.6 else digest("net", email),
            )
        )


def plan_referral_ring(world: World, size: int) -> None:
    """Friends who bring each other to the shell's campaigns in rotation, each a new donor every time."""
    rng = world.rng
    members = [world.uid("ringer") for _ in range(size)]
    world.cards_bought[Actor.REFERRAL_RING] += size
    campaigns = [shell_campaign(world) for _ in range(rng.randint(2, 4))]
    for round_no, (org, campaign_id) in enumerate(campaigns):
        order = members[round_no:] + members[:round_no]
        at = world.when()
        previous: Gift | None = None
        for member in order:
            at += timedelta(hours=rng.uniform(2, 30))
            gift = Gift(
                min(at, SEASON_START + timedelta(days=world.scenario.days, hours=-1)),
                Actor.REFERRAL_RING,
                org,
                campaign_id,
                rng.randint(20, 80) * 100,
                f"{member}@mail.example",
                digest("card", member)[:16],
                digest("device", member),
                digest("net", member),
                referrer=previous,
            )
            world.gifts.append(gift)
            previous = gift
        # Close the loop: the first member comes back through the last one's link.
        world.gifts.append(
            Gift(
                min(at + timedelta(hours=3), SEASON_START + timedelta(days=world.scenario.days, minutes=-30)),
                Actor.REFERRAL_RING,
                org,
                campaign_id,
                2_000,
                f"{order[0]}@mail.example",
                digest("card", order[0])[:16],
                digest("device", order[0]),
                digest("net", order[0]),
                referrer=previous,
            )
        )


def plan_card_tester(world: World, cards: int) -> None:
    """Stolen cards tried with small gifts in bursts; most decline, some settle and come back."""
    rng = world.rng
    org, campaign_id = rng.choice([(o, c) for o in world.honest_orgs for c in o.campaigns])
    start = world.when()
    bots = [world.uid("bot") for _ in range(rng.randint(1, 3))]
    for _ in range(cards):
        stolen = world.uid("stolen")
        declined = rng.random() < 0.6
        gift = Gift(
            start + timedelta(minutes=rng.uniform(0, 45)),
            Actor.CARD_TESTER,
            org,
            campaign_id,
            rng.choice([100, 200, 300, 500, 500, 700, 1_000]),
            f"{stolen}@throwaway.example",
            digest("card", stolen)[:16],
            digest("device", stolen),
            digest("net", rng.choice(bots)),
            risk_score=rng.randint(30, 95),
            paid=not declined,
        )
        gift.risk_level = (
            "highest" if gift.risk_score > 75 else ("elevated" if gift.risk_score > 55 else "normal")
        )
        if gift.paid:
            if rng.random() < 0.5:
                gift.efw_after = timedelta(hours=rng.uniform(6, 96))
                gift.refund_after = gift.efw_after + timedelta(hours=rng.uniform(1, 24))
            elif rng.random() < 0.4:
                gift.dispute_after = timedelta(days=rng.uniform(10, 45))
        world.gifts.append(gift)


def plan_season(scenario: Scenario) -> World:
    if scenario.kind is Kind.VIRAL_DAY:
        # Imported here: the viral day builds on this module's planners (a top-level import
        # would be circular).
        from sim.viral_day import plan_viral_day

        return plan_viral_day(scenario)
    world = World(random.Random(scenario.seed), scenario)
    rng = world.rng
    build_orgs(world)
    sybils = round(scenario.donors * scenario.sybil_share)
    plan_honest(world, scenario.donors - sybils)
    while sybils > 0:
        size = min(sybils, rng.randint(25, 50))
        plan_sybil_ring(world, size, clean=scenario.clean_sybils)
        sybils -= size
    for org in world.self_dealers:
        plan_self_dealer(world, org)
    for _ in range(max(1, round(4 * scenario.scale))):
        plan_referral_ring(world, rng.randint(4, 7))
    for _ in range(max(1, round(4 * scenario.scale))):
        plan_card_tester(world, rng.randint(30, 90))
    world.gifts.sort(key=lambda g: g.at)
    return world


# ---------------------------------------------------------------- driving the engine


async def insert_world(database: Database, world: World) -> dict[str, MatchingProgram]:
    async with database.transaction() as session:
        for org in (*world.honest_orgs, *world.self_dealers, *world.shells):
            session.add(
                Nonprofit(
                    id=org.id,
                    name=org.name,
                    contact_email=org.owner_email,
                    country="IE",
                    registration_number=f"CHY {org.name}",
                    website=f"https://{org.name}.example.org",
                    status=NonprofitStatus.VERIFIED,
                    verified_at=SEASON_START - timedelta(days=org.verified_days_before),
                )
            )
        await session.flush()
        for org in (*world.honest_orgs, *world.self_dealers, *world.shells):
            session.add(
                Member(
                    nonprofit_id=org.id, email=org.owner_email, role=MemberRole.OWNER, password_hash=NO_LOGIN
                )
            )
            for campaign_id in org.campaigns:
                session.add(
                    Campaign(
                        id=campaign_id,
                        nonprofit_id=org.id,
                        slug=f"c-{campaign_id.hex[:12]}",
                        title=f"Campaign of {org.name}",
                        story_markdown="A story.",
                        story_html="<p>A story.</p>",
                        currency="eur",
                        goal_minor=5_000_000,
                        min_amount_minor=100,
                        status=CampaignStatus.LIVE,
                        approved_at=SEASON_START - timedelta(days=5),
                    )
                )
        await session.flush()
        for org in (*world.honest_orgs, *world.self_dealers, *world.shells):
            # The dashboard remembers the browser each owner logs in from...
            await identity.remember_nonprofit_key(
                session, nonprofit_id=org.id, key=identity.device_key(org.dashboard_device)
            )
            # ...and the network they log in from (their home).
            await identity.remember_nonprofit_key(
                session, nonprofit_id=org.id, key=identity.network_key(digest("net", "home", org.name))
            )
        admin = (await create_admin(session, email="finance@goodloop.example", role=AdminRole.FINANCE)).admin
        return await _create_programs(session, admin, world.scenario)


async def _create_programs(
    session: UnitOfWork, admin: Admin, scenario: Scenario
) -> dict[str, MatchingProgram]:
    scale = scenario.scale
    now = SEASON_START - timedelta(days=1)
    window = {
        "currency": "eur",
        "starts_at": SEASON_START,
        "ends_at": SEASON_START + timedelta(days=scenario.days),
    }
    # A viral campaign takes a day's worth of a season's gifts: a cap sized for a four-week
    # campaign would stop matching its crowd after the first few dozen donors.
    campaign_cap = 4_000_000 if scenario.kind is Kind.VIRAL_DAY else 400_000
    specs: dict[str, ProgramIn] = {
        "fixed_ratio": ProgramIn(
            name="Spring 1:1 match",
            budget_minor=round(4_000_000 * scale),
            per_donation_cap_minor=25_000,
            per_donor_cap_minor=30_000,
            per_campaign_cap_minor=round(campaign_cap * scale),
            review_threshold_minor=20_000,
            min_donation_minor=500,
            hold_days=HOLD_DAYS,
            policy=FixedRatioParams(ratio_bps=10_000),
            **window,
        ),
        "referral_bonus": ProgramIn(
            name="Bring a friend",
            budget_minor=round(500_000 * scale),
            per_campaign_cap_minor=100_000,
            min_donation_minor=500,
            hold_days=HOLD_DAYS,
            policy=ReferralBonusParams(bonus_minor=500, per_referrer_cap_minor=2_500),
            **window,
        ),
        "quadratic_round": ProgramIn(
            name="Spring round",
            budget_minor=round(1_000_000 * scale),
            per_campaign_cap_minor=round(200_000 * scale),
            min_donation_minor=100,
            hold_days=HOLD_DAYS,
            policy=QuadraticRoundParams(min_distinct_donors=3),
            **window,
        ),
    }
    return {
        key: await programs.create_program(session, admin=admin, data=spec, now=now)
        for key, spec in specs.items()
    }


class Runner:
    def __init__(self, database: Database, world: World, clock: SettableClock) -> None:
        self.database = database
        self.world = world
        self.clock = clock
        self.links: dict[uuid.UUID, uuid.UUID] = {}
        self.seq = 0

    async def checkout(self, gift: Gift) -> None:
        async with self.database.transaction() as session:
            link_id = await self._link_of(session, gift.referrer)
            donation = Donation(
                id=gift.donation_id,
                campaign_id=gift.campaign_id,
                nonprofit_id=gift.org.id,
                amount_minor=gift.amount_minor,
                fee_cover_minor=0,
                currency="eur",
                donor_email=None,
                referral_link_id=link_id,
                device_hash=gift.device,
                client_hash=gift.network,
                stripe_checkout_session_id=f"cs_sim_{gift.donation_id.hex}",
                created_at=gift.at,
            )
            session.add(donation)
            await session.flush()
            campaign = await session.get(Campaign, gift.campaign_id)
            nonprofit = await session.get(Nonprofit, gift.org.id)
            assert campaign is not None and nonprofit is not None
            # Checkout collects the email on Stripe's page; the quote knows the browser only.
            await quotes.hold_quotes(
                session,
                donation=donation,
                ctx=Context(campaign, nonprofit),
                at=gift.at,
                expires_at=gift.at + timedelta(hours=1),
            )
        async with self.database.transaction() as session:
            ref = DonationRef(donation_id=gift.donation_id)
            pi = f"pi_sim_{gift.donation_id.hex}"
            await settlement.record_charge(
                session,
                ref=ref,
                charge=ChargeFacts(
                    charge_id=f"ch_sim_{gift.donation_id.hex}",
                    payment_intent_id=pi,
                    card_fingerprint=gift.card,
                    risk_score=gift.risk_score,
                    risk_level=gift.risk_level,
                ),
            )
            if gift.paid:
                await settlement.confirm_donation(
                    session, ref=ref, payment_intent_id=pi, donor_email=gift.email
                )
                gift.settled = True
            else:
                await settlement.fail_donation(session, ref=ref, payment_intent_id=pi)

    async def _link_of(self, session: AsyncSession, referrer: Gift | None) -> uuid.UUID | None:
        """The referrer's personal link, as their thank-you page made it (only once they paid)."""
        if referrer is None or not referrer.settled:
            return None
        if referrer.donation_id not in self.links:
            link = ShareLink(
                id=uuid.uuid4(),
                campaign_id=referrer.campaign_id,
                code=uuid.uuid4().hex[:16],
                kind=ShareLinkKind.SUPPORTER,
                donation_id=referrer.donation_id,
                visit_count=1,
            )
            session.add(link)
            await session.flush()
            self.links[referrer.donation_id] = link.id
        return self.links[referrer.donation_id]

    async def follow_up(self, gift: Gift, what: str) -> None:
        ref = DonationRef(donation_id=gift.donation_id)
        async with self.database.transaction() as session:
            if what == "efw":
                await settlement.record_early_fraud_warning(session, ref=ref)
            elif what == "refund":
                await settlement.record_refund(
                    session,
                    ref=ref,
                    stripe_refund_id=f"re_sim_{gift.donation_id.hex}",
                    amount_minor=gift.amount_minor,
                    failed=False,
                )
            else:
                await settlement.record_dispute(
                    session,
                    ref=ref,
                    stripe_dispute_id=f"dp_sim_{gift.donation_id.hex}",
                    amount_minor=gift.amount_minor,
                    withdrawn=True,
                    reinstated=False,
                )

    async def chores(self, now: datetime) -> None:
        """What the worker does every few seconds: end holds, drop expired quotes; pay out daily."""
        async with self.database.transaction() as session:
            while await lifecycle.release_due_matches(session, now=now) > 0:
                pass
            await rounds.release_expired_quotes(session, now=now)
        if now.hour == 6:
            await self.pay_approved(now)

    async def pay_approved(self, now: datetime) -> None:
        async with self.database.transaction() as session:
            ids = (
                await session.scalars(sa.select(Match.id).where(Match.status == MatchStatus.APPROVED))
            ).all()
            for match_id in ids:
                await lifecycle.record_payout(session, match_id=match_id, at=now)

    async def close_programs(self, now: datetime) -> None:
        async with self.database.transaction() as session:
            for program in (
                await session.scalars(sa.select(MatchingProgram).order_by(MatchingProgram.id))
            ).all():
                locked = await pool.lock_program(session, program.id)
                assert locked is not None
                await rounds.close_program(session, locked, now=now)


@dataclass(frozen=True)
class Event:
    at: datetime
    order: int
    """Ties at one instant: chores first, then closing the programs, then gifts in plan order."""
    what: str
    gift: Gift | None = None


def timeline(world: World) -> list[Event]:
    events: list[Event] = []
    for n, gift in enumerate(world.gifts):
        events.append(Event(gift.at, n, "checkout", gift))
        for what, after in (
            ("efw", gift.efw_after),
            ("refund", gift.refund_after),
            ("dispute", gift.dispute_after),
        ):
            if after is not None and gift.paid:
                events.append(Event(gift.at + after, n, what, gift))
    end = SEASON_START + timedelta(days=world.scenario.days)
    events.append(Event(end + timedelta(minutes=1), -1, "close"))
    last = max(e.at for e in events) + timedelta(days=HOLD_DAYS, hours=2)
    tick = SEASON_START
    while tick <= last:
        events.append(Event(tick, -2, "chores"))
        # The worker runs every 30 s; hourly is as good for holds of days, and cheaper.
        tick += timedelta(hours=1 if tick < end + timedelta(days=HOLD_DAYS) else 6)
    events.sort(key=lambda e: (e.at, e.order))
    return events


async def run_season(database: Database, world: World) -> None:
    # The same start-up wiring as the app and the worker: settling a gift must reach matching.
    wiring.wire()
    # The one clock every unit of work reads (no module is patched): moved event by event.
    clock = database.clock
    if not isinstance(clock, SettableClock):
        raise TypeError("a season runs on a SettableClock: Database.from_url(url, clock=season_clock())")
    clock.set(SEASON_START - timedelta(days=1))
    await insert_world(database, world)
    runner = Runner(database, world, clock)
    for event in timeline(world):
        clock.set(event.at)
        if event.what == "chores":
            await runner.chores(event.at)
        elif event.what == "close":
            await runner.close_programs(event.at)
        elif event.what == "checkout":
            assert event.gift is not None
            await runner.checkout(event.gift)
        else:
            assert event.gift is not None
            await runner.follow_up(event.gift, event.what)
    # Final sweep: every pending match is past its hold now.
    at = clock.advance(timedelta(days=HOLD_DAYS + 1))
    await runner.chores(at)
    await runner.close_programs(at)


def season_clock() -> SettableClock:
    """The clock a season runs on (run_season sets it to the day before the season starts)."""
    return SettableClock(SEASON_START - timedelta(days=1))


# ---------------------------------------------------------------- the figures


@dataclass
class Report:
    budget: dict[str, int]
    captured: dict[Actor, int]
    captured_by_program: dict[str, int]
    honest_campaigns_minor: int
    honest_at_self_dealers_minor: int
    stolen_card_approved_minor: int
    held_count: int
    held_minor: int
    held_attacker_count: int
    honest_matched: int
    honest_held: int
    honest_held_reasons: dict[str, int]
    attacker_held_reasons: dict[str, int]
    overspend_minor: int
    problems: list[str]
    attacker_gifts: dict[Actor, int]
    attacker_spend_minor: dict[Actor, int]
    returned_minor: int
    matched_minor: int = 0
    """Every match approved or paid on its own (net of clawbacks), whoever's."""
    matched_at_self_dealers: int = 0
    held_at_self_dealers: int = 0
    """Honest donations to self-dealers' campaigns, counted apart from the false positives like
    their matches are counted apart from honest campaigns' share: honest money, but on the
    campaign of a nonprofit caught giving to itself, whose matches all go to a person."""
    viral_matched: int = 0
    viral_held: int = 0
    """Viral day only: the crowd's donations with a live match, and those held for review."""

    @property
    def total_budget(self) -> int:
        return sum(self.budget.values())

    @property
    def capture_share(self) -> float:
        return sum(self.captured.values()) / self.total_budget

    @property
    def honest_held_share(self) -> float:
        return self.honest_held / self.honest_matched if self.honest_matched else 0.0

    @property
    def capture_of_matched(self) -> float:
        return sum(self.captured.values()) / self.matched_minor if self.matched_minor else 0.0

    @property
    def viral_held_share(self) -> float:
        return self.viral_held / self.viral_matched if self.viral_matched else 0.0

    def captured_per_spent(self, actor: Actor) -> float | None:
        spend = self.attacker_spend_minor.get(actor, 0)
        return self.captured.get(actor, 0) / spend if spend else None

    @property
    def meets_targets(self) -> bool:
        pays = any(
            (ratio := self.captured_per_spent(actor)) is not None and ratio >= 1 for actor in ATTACKERS
        )
        return (
            not pays
            and self.capture_share <= TARGET_CAPTURE
            and self.honest_held_share <= TARGET_HONEST_HELD
            and self.viral_held_share <= TARGET_VIRAL_HELD
        )


def _fees_minor(amount_minor: int) -> int:
    """Stripe's card fee in the EEA (1.5 % + 25 cents): what an attacker loses per gift to themself."""
    return amount_minor * 15 // 1000 + 25


async def measure(database: Database, world: World, programs_by_key: dict[str, uuid.UUID]) -> Report:
    by_donation = {g.donation_id: g for g in world.gifts}
    owner_of = {
        c: o.owner for o in (*world.honest_orgs, *world.self_dealers, *world.shells) for c in o.campaigns
    }
    key_of = {v: k for k, v in programs_by_key.items()}
    async with database.transaction() as session:
        matches = (await session.scalars(sa.select(Match))).all()
        progs = (await session.scalars(sa.select(MatchingProgram))).all()
        problems = await _pool_problems(session, progs)
    report = Report(
        budget={key_of[p.id]: p.budget_minor for p in progs},
        captured=defaultdict(int),
        captured_by_program=defaultdict(int),
        honest_campaigns_minor=0,
        honest_at_self_dealers_minor=0,
        stolen_card_approved_minor=0,
        held_count=0,
        held_minor=0,
        held_attacker_count=0,
        honest_matched=0,
        honest_held=0,
        honest_held_reasons=defaultdict(int),
        attacker_held_reasons=defaultdict(int),
        overspend_minor=0,
        problems=problems,
        attacker_gifts=defaultdict(int),
        attacker_spend_minor=defaultdict(int),
        returned_minor=sum(p.returned_minor for p in progs),
    )
    for p in progs:
        report.overspend_minor += max(
            0,
            p.held_minor
            + p.reserved_minor
            + p.paid_minor
            - p.recovered_minor
            + p.returned_minor
            - p.budget_minor,
        )
    honest_matched: set[uuid.UUID] = set()
    honest_held: set[uuid.UUID] = set()
    for m in matches:
        gift = by_donation.get(m.donation_id) if m.donation_id else None
        actor = gift.actor if gift else owner_of[m.campaign_id]
        kept = m.amount_minor - m.recovered_minor
        if m.status is MatchStatus.HELD_FOR_REVIEW:
            report.held_count += 1
            report.held_minor += m.amount_minor
            report.held_attacker_count += actor in ATTACKERS
            if actor in ATTACKERS:
                for reason in m.risk_reasons:
                    report.attacker_held_reasons[str(reason["code"])] += 1
            if gift is not None and gift.actor is Actor.HONEST:
                honest_held.add(gift.donation_id)
                for reason in m.risk_reasons:
                    report.honest_held_reasons[str(reason["code"])] += 1
        if gift is not None and gift.actor is Actor.HONEST and m.status is not MatchStatus.VOIDED:
            honest_matched.add(gift.donation_id)
        if m.status not in (MatchStatus.APPROVED, MatchStatus.PAID) or kept <= 0:
            continue
        report.matched_minor += kept
        if actor in ATTACKERS:
            report.captured[actor] += kept
            report.captured_by_program[key_of[m.program_id]] += kept
        elif actor is Actor.CARD_TESTER:
            report.stolen_card_approved_minor += kept
        elif owner_of[m.campaign_id] is Actor.HONEST:
            report.honest_campaigns_minor += kept
        else:
            report.honest_at_self_dealers_minor += kept
    at_self_dealers = {d for d in honest_matched if owner_of[by_donation[d].campaign_id] is Actor.SELF_DEALER}
    report.matched_at_self_dealers = len(at_self_dealers)
    report.held_at_self_dealers = len(honest_held & at_self_dealers)
    honest_matched -= at_self_dealers
    honest_held -= at_self_dealers
    report.honest_matched, report.honest_held = len(honest_matched), len(honest_held)
    crowd = {
        g.donation_id
        for g in world.gifts
        if g.actor is Actor.HONEST and g.campaign_id == world.viral_campaign
    }
    report.viral_matched, report.viral_held = len(crowd & honest_matched), len(crowd & honest_held)
    for g in world.gifts:
        if g.actor in ATTACKERS:
            report.attacker_gifts[g.actor] += 1
            report.attacker_spend_minor[g.actor] += _fees_minor(g.amount_minor) if g.paid else 0
    for actor, cards in world.cards_bought.items():
        report.attacker_spend_minor[actor] += cards * CARD_COST_MINOR
    return report


async def _pool_problems(
    session: AsyncSession,
    progs: Sequence[MatchingProgram],
) -> list[str]:
    """Each pool adds up, from the counters, from the matches and quotes, and from the ledger."""
    problems: list[str] = []
    for p in progs:
        name = p.name
        accounted = (
            p.available_minor
            + p.held_minor
            + p.reserved_minor
            + p.paid_minor
            - p.recovered_minor
            + p.returned_minor
        )
        if accounted != p.budget_minor or p.available_minor < 0:
            problems.append(f"{name}: counters account for {accounted} of {p.budget_minor}")
        rows = (
            await session.execute(
                sa.select(Match.status, sa.func.sum(Match.amount_minor), sa.func.sum(Match.recovered_minor))
                .where(Match.program_id == p.id)
                .group_by(Match.status)
            )
        ).all()
        by_status = {status: (int(a or 0), int(r or 0)) for status, a, r in rows}
        reserved = sum(
            by_status.get(s, (0, 0))[0]
            for s in (MatchStatus.PENDING, MatchStatus.HELD_FOR_REVIEW, MatchStatus.APPROVED)
        )
        paid, recovered = by_status.get(MatchStatus.PAID, (0, 0))
        recovered_all = sum(r for _, r in by_status.values())
        held = int(
            await session.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(MatchQuote.amount_minor), 0)).where(
                    MatchQuote.program_id == p.id, MatchQuote.status == QuoteStatus.HELD
                )
            )
            or 0
        )
        if (reserved, paid, recovered_all, held) != (
            p.reserved_minor,
            p.paid_minor,
            p.recovered_minor,
            p.held_minor,
        ):
            problems.append(
                f"{name}: matches/quotes {(reserved, paid, recovered_all, held)} != counters "
                f"{(p.reserved_minor, p.paid_minor, p.recovered_minor, p.held_minor)}"
            )
        del recovered
        posted, pending = await _ledger_pool(session, p)
        if posted != p.budget_minor - p.paid_minor + p.recovered_minor - p.returned_minor:
            problems.append(f"{name}: ledger pool balance {posted} disagrees with the counters")
        if pending != p.held_minor + p.reserved_minor:
            problems.append(
                f"{name}: ledger open holds {pending} != held + reserved {p.held_minor + p.reserved_minor}"
            )
        if posted - pending < 0:
            problems.append(f"{name}: ledger pool overspent by {pending - posted}")
    return problems


async def _ledger_pool(session: AsyncSession, program: MatchingProgram) -> tuple[int, int]:
    account = await session.scalar(
        sa.select(LedgerAccount.id).where(
            LedgerAccount.code == pool_account(program.id), LedgerAccount.currency == program.currency
        )
    )
    t = LedgerTransfer
    counted = t.kind.in_([TransferKind.POSTED, TransferKind.POST_PENDING])
    credit = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(t.amount_minor), 0)).where(
            t.credit_account_id == account, counted
        )
    )
    debit = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(t.amount_minor), 0)).where(
            t.debit_account_id == account, counted
        )
    )
    settled = sa.select(t.pending_id).where(t.pending_id.is_not(None))
    pending = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(t.amount_minor), 0)).where(
            t.debit_account_id == account, t.kind == TransferKind.PENDING, t.id.not_in(settled)
        )
    )
    return int(credit or 0) - int(debit or 0), int(pending or 0)


# ---------------------------------------------------------------- entry point


def eur(minor: int) -> str:
    return f"€{minor / 100:,.2f}"


def render(report: Report, scenario: Scenario, seconds: float) -> str:
    budget = report.total_budget
    lines = [
        f"season: {scenario.donors} donor accounts, {scenario.sybil_share:.0%} sybil"
        f"{' (clean: a card and a proxy each)' if scenario.clean_sybils else ' (rings of 1-3 cards)'},"
        f" {scenario.days} day(s), scenario {scenario.kind}, simulated in {seconds:.1f}s",
        f"pools: {', '.join(f'{k} {eur(v)}' for k, v in report.budget.items())} (total {eur(budget)})",
        "",
        f"{'figure':<46}{'value':>16}{'of pool':>10}",
    ]

    def row(label: str, minor: int | None, text: str | None = None) -> None:
        share = f"{minor / budget:>9.1%}" if minor is not None else ""
        lines.append(f"{label:<46}{text or eur(minor or 0):>16}{share:>10}")

    row("captured by attackers (auto-approved)", sum(report.captured.values()))
    for actor in ATTACKERS:
        row(f"  {actor}", report.captured.get(actor, 0))
    for key, minor in sorted(report.captured_by_program.items()):
        row(f"  via {key}", minor)
    row("honest campaigns' share", report.honest_campaigns_minor)
    row("honest gifts to self-dealers' campaigns", report.honest_at_self_dealers_minor)
    row("stolen-card gifts still matched", report.stolen_card_approved_minor)
    row("returned unspent to funders", report.returned_minor)
    row(
        "review queue (held_for_review)", report.held_minor, f"{report.held_count} / {eur(report.held_minor)}"
    )
    row("  of which attacker matches", None, str(report.held_attacker_count))
    row(
        "honest donations held (honest campaigns)",
        None,
        f"{report.honest_held}/{report.honest_matched} = {report.honest_held_share:.1%}",
    )
    reasons = ", ".join(
        f"{k} {v}" for k, v in sorted(report.honest_held_reasons.items(), key=lambda kv: -kv[1])
    )
    lines.append(f"  signals on held honest matches: {reasons or 'none'}")
    row(
        "honest gifts to self-dealers' campaigns held",
        None,
        f"{report.held_at_self_dealers}/{report.matched_at_self_dealers}",
    )
    if scenario.kind is Kind.VIRAL_DAY:
        row(
            "  of which the viral campaign's crowd",
            None,
            f"{report.viral_held}/{report.viral_matched} = {report.viral_held_share:.1%}",
        )
    row("overspend", report.overspend_minor)
    lines.append(f"{'pool conservation / ledger check':<46}{'ok' if not report.problems else 'FAILED':>16}")
    lines += [f"  ! {p}" for p in report.problems]
    lines.append("")
    lines.append(f"{'attacker':<16}{'gifts':>7}{'cost':>14}{'captured':>14}{'per €1 spent':>14}")
    for actor in ATTACKERS:
        spend = report.attacker_spend_minor.get(actor, 0)
        got = report.captured.get(actor, 0)
        ratio = f"{got / spend:.2f}" if spend else "-"
        lines.append(
            f"{actor:<16}{report.attacker_gifts.get(actor, 0):>7}{eur(spend):>14}{eur(got):>14}{ratio:>14}"
        )
    lines.append(
        "  cost = cards bought (€10 each) + card fees on gifts to themselves; the gifts come back to them."
    )
    held = ", ".join(
        f"{k} {v}" for k, v in sorted(report.attacker_held_reasons.items(), key=lambda kv: -kv[1])
    )
    lines.append(f"  signals on held attacker matches: {held or 'none'}")
    lines.append("")
    lines.append(
        f"captured by attackers of all matched money: {eur(sum(report.captured.values()))} of"
        f" {eur(report.matched_minor)} = {report.capture_of_matched:.2%}"
    )
    verdict = "MEETS" if report.meets_targets else "MISSES"
    lines.append(
        f"targets (captured <= {TARGET_CAPTURE:.0%} and below cost per kind, honest held <="
        f" {TARGET_HONEST_HELD:.0%}, viral crowd held <= {TARGET_VIRAL_HELD:.0%}): {verdict} "
        f"({report.capture_share:.2%} captured, {report.honest_held_share:.2%} honest held)"
    )
    return "\n".join(lines)


async def simulate(database_url: str, scenario: Scenario) -> tuple[Report, list[str]]:
    """Plan, run and measure one season; also returns `goodloop ledger check`'s findings."""
    world = plan_season(scenario)
    database = Database.from_url(database_url, clock=season_clock())
    if database.engine.dialect.name == "sqlite":
        # A throwaway file: no fsync per commit (durability is not what is being measured).
        sa.event.listen(database.engine.sync_engine, "connect", _no_sync)
    try:
        await run_season(database, world)
        async with database.transaction() as session:
            ids = {p.name: p.id for p in (await session.scalars(sa.select(MatchingProgram))).all()}
        keys = {
            "Spring 1:1 match": "fixed_ratio",
            "Bring a friend": "referral_bonus",
            "Spring round": "quadratic_round",
        }
        report = await measure(database, world, {keys[name]: pid for name, pid in ids.items()})
        return report, await check_ledger(database)
    finally:
        await database.dispose()


def _no_sync(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.season", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--scenario", choices=[k.value for k in Kind], default=Kind.DEFAULT.value)
    parser.add_argument("--crowd", type=int, default=400, help="viral day: donors to the viral campaign")
    parser.add_argument(
        "--donors", type=int, default=None, help="1,500 (default scenario); 150 besides the crowd (viral day)"
    )
    parser.add_argument("--sybil-share", type=float, default=0.2)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--clean-sybils", action="store_true", help="the costed variant: a card and a proxy per sybil account"
    )
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 1_000_000)
    print(f"seed: {seed}", flush=True)
    kind = Kind(args.scenario)
    donors = args.donors if args.donors is not None else (150 if kind is Kind.VIRAL_DAY else 1500)
    scenario = Scenario(
        seed=seed,
        donors=donors,
        sybil_share=args.sybil_share,
        clean_sybils=args.clean_sybils,
        kind=kind,
        crowd=args.crowd,
    )
    with tempfile.TemporaryDirectory(prefix="goodloop-sim-") as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'season.db'}"
        migrate_to_head(url)
        started = time.monotonic()
        report, ledger_problems = asyncio.run(simulate(url, scenario))
        report.problems += [f"ledger check: {p}" for p in ledger_problems]
        print(render(report, scenario, time.monotonic() - started))
    return 0 if report.overspend_minor == 0 and not report.problems else 1


if __name__ == "__main__":
    # Run the importable module, not this `__main__` copy of it: the viral day imports
    # `sim.season`, and two copies would hold two different `Actor` enums.
    from sim import season

    sys.exit(season.main())
