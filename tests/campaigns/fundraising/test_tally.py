"""Milestones and ranking from a page's tally: pure functions, no database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from campaigns.fundraising.leaderboard import TOP, Tally, milestones, rank
from campaigns.fundraising.models import Fundraiser

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


class TestMilestones:
    def test_first_donor_ten_donors_and_goal_with_the_time_each_was_reached(self) -> None:
        tally = Tally()
        for n in range(12):
            tally.add(person=n % 11, counts=True, net_minor=1000, at=_at(n))

        found = {m.kind: m.reached_at for m in milestones(tally, goal_minor=5000)}

        assert found == {"first_donor": _at(0), "goal_reached": _at(4), "ten_donors": _at(9)}
        assert tally.donors == 11 and tally.raised_minor == 12_000

    def test_a_donor_who_does_not_count_reaches_no_milestone_but_their_money_is_raised(self) -> None:
        tally = Tally()
        tally.add(person=1, counts=False, net_minor=9000, at=_at(0))

        assert [m.kind for m in milestones(tally, goal_minor=5000)] == ["goal_reached"]
        assert tally.donors == 0 and tally.ranked_minor == 0

    def test_no_milestone_without_gifts_or_goal(self) -> None:
        assert milestones(Tally(), goal_minor=None) == []


class TestRank:
    def test_never_more_than_the_top_50_and_ties_by_who_got_there_first(self) -> None:
        pages = [
            Fundraiser(id=uuid.UUID(int=n + 1), slug=f"p{n}", name=f"P{n}", title="t", created_at=_at(-n))
            for n in range(60)
        ]
        tallies = {}
        for n, page in enumerate(pages):
            tally = Tally()
            tally.add(person=n, counts=True, net_minor=100, at=_at(100 - n))
            tallies[page.id] = tally

        ranked = rank(pages, tallies, by="donors", limit=1000)

        assert len(ranked) == TOP == 50
        assert ranked[0].subject.slug == "p59"  # reached one donor first
        assert [e.rank for e in ranked] == list(range(1, 51))
