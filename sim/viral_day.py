"""The viral-day scenario: a new nonprofit's campaign goes viral, and attackers burst alongside.

`python -m sim.season --scenario viral-day [--seed N] [--crowd 400]` plans one day: hundreds
of honest donors give to a nonprofit verified five days ago, all within one hour (a video took
off; each donor is a person of their own: their card, their phone's browser, their network, a
fifth of them brought by an earlier donor's share link); sybil rings burst on shell campaigns
within an hour each, the first in the same hour as the crowd. Around them, an ordinary day:
`--donors` other accounts (150 by default, a season's daily volume several times over) give to
the older campaigns, and self-dealing owners, referral rings and card testers work the same day.

What it asks of the engine: the crowd's matches are not held for being a spike (a spike of many
distinct people is the product working), the bursts are (a spike of few cards is a ring), and
no attacker earns more than it spends.
"""

from __future__ import annotations

import math
import random
import uuid
from datetime import datetime, timedelta

from sim.season import (
    SEASON_START,
    Actor,
    Gift,
    Scenario,
    World,
    _org,
    build_orgs,
    digest,
    plan_card_tester,
    plan_honest,
    plan_referral_ring,
    plan_self_dealer,
    shell_campaign,
)

VIRAL_HOUR = timedelta(hours=11)
"""When the crowd arrives: 19:00 on the simulated day (the day starts at 08:00)."""
PROBATION_DAYS = 5
"""The viral nonprofit was verified this many days before (inside its 30-day probation)."""


def plan_viral_day(scenario: Scenario) -> World:
    world = World(random.Random(scenario.seed), scenario)
    rng = world.rng
    build_orgs(world)
    viral = _org(world, Actor.HONEST, PROBATION_DAYS)
    viral.campaigns.append(uuid.uuid4())
    world.honest_orgs.append(viral)
    world.viral_campaign = viral.campaigns[0]
    sybils = round(scenario.donors * scenario.sybil_share)
    # The day's other honest donors first (they pick among the older campaigns only).
    plan_honest(world, scenario.donors - sybils, exclude=frozenset({viral.campaigns[0]}))
    plan_viral_crowd(world, scenario.crowd)
    first = True
    while sybils > 0:
        # Rings of 25-50: a leftover of a few accounts joins the last ring, for two accounts on
        # two cards are two clean sybils (see --clean-sybils), not a ring.
        size = rng.randint(25, 50)
        if sybils - size < 25:
            size = sybils
        start = SEASON_START + (VIRAL_HOUR if first else timedelta(hours=rng.uniform(0, 22)))
        plan_sybil_burst(world, size, start=start)
        sybils -= size
        first = False
    for org in world.self_dealers:
        plan_self_dealer(world, org)
    for _ in range(max(1, round(4 * scenario.scale))):
        plan_referral_ring(world, rng.randint(4, 7))
    for _ in range(max(1, round(4 * scenario.scale))):
        plan_card_tester(world, rng.randint(30, 90))
    world.gifts.sort(key=lambda g: g.at)
    return world


def plan_viral_crowd(world: World, size: int) -> None:
    """Hundreds of people within an hour: small gifts, each from their own card, phone and
    network (a few at one home share its Wi-Fi); a fifth brought by an earlier donor's link."""
    rng = world.rng
    assert world.viral_campaign is not None
    org = next(o for o in world.honest_orgs if world.viral_campaign in o.campaigns)
    start = SEASON_START + VIRAL_HOUR
    crowd: list[Gift] = []
    for _ in range(size):
        person = world.uid("fan")
        device: str | None = digest("phone", person) if rng.random() > 0.05 else None
        network = digest("net", "mobile", person)
        if crowd and rng.random() < 0.1:
            # Watching together at home: one Wi-Fi, each on their own phone and card.
            network = rng.choice(crowd).network
        euros = math.exp(rng.gauss(math.log(20), 0.8))
        gift = Gift(
            start + timedelta(seconds=rng.uniform(0, 3_600)),
            Actor.HONEST,
            org,
            world.viral_campaign,
            int(min(max(euros, 5), 500)) * 100,
            f"{person}@mail.example",
            digest("card", person)[:16],
            device,
            network,
        )
        world.honest_risk(gift)
        if rng.random() < 0.01:
            gift.refund_after = timedelta(days=rng.uniform(1, 20))
        crowd.append(gift)
    crowd.sort(key=lambda g: g.at)
    for i, gift in enumerate(crowd[1:], start=1):
        if rng.random() < 0.2:
            gift.referrer = rng.choice(crowd[:i])
    world.gifts.extend(crowd)


def plan_sybil_burst(world: World, accounts: int, *, start: datetime) -> None:
    """A ring that rides the viral day: free mailboxes and fresh cookies, 2-4 proxies, 1-3 cards,
    every account giving within one hour to a shell campaign (under the review threshold)."""
    rng = world.rng
    org, campaign_id = shell_campaign(world)
    cards = [world.uid("sybilcard") for _ in range(rng.randint(1, 3))]
    world.cards_bought[Actor.SYBIL] += len(cards)
    proxies = [world.uid("proxy") for _ in range(rng.randint(2, 4))]
    for i in range(accounts):
        account = world.uid("sybil")
        world.gifts.append(
            Gift(
                start + timedelta(seconds=rng.uniform(0, 3_600)),
                Actor.SYBIL,
                org,
                campaign_id,
                rng.randint(150, 199) * 100,
                f"{account}.{rng.randint(10, 99)}@{rng.choice(['mail.example', 'inbox.example'])}",
                cards[i % len(cards)],
                digest("device", account),
                digest("net", rng.choice(proxies)),
                risk_score=rng.randint(5, 35),
            )
        )
