from __future__ import annotations

import ast
import hashlib
import inspect
import itertools
import uuid
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from campaigns.matching import quadratic
from campaigns.matching.quadratic import SQRT_SCALE, Contribution, RoundResult, allocate_round

S2 = SQRT_SCALE**2
CAMPAIGN_A, CAMPAIGN_B, CAMPAIGN_C = (uuid.UUID(int=i) for i in (1, 2, 3))
CAMPAIGNS = [uuid.UUID(int=i) for i in range(1, 6)]
CLUSTERS = [uuid.UUID(int=1000 + i) for i in range(8)]
LONE_CAMPAIGN = uuid.UUID(int=99)


def cluster(n: int) -> uuid.UUID:
    return uuid.UUID(int=2000 + n)


def gifts(campaign_id: uuid.UUID, *amounts: int, first_cluster: int = 0) -> list[Contribution]:
    """One contribution per amount, each from its own full-trust cluster."""
    return [Contribution(campaign_id, cluster(first_cluster + i), amount) for i, amount in enumerate(amounts)]


def three_campaigns() -> list[Contribution]:
    # A: four clusters of 100 -> (10+10+10+10)^2 - 400 = 1200
    # B: 100 and 400          -> (10+20)^2 - 500       = 400
    # C: 100 and 100          -> (10+10)^2 - 200       = 200      (total 1800)
    return [
        *gifts(CAMPAIGN_A, 100, 100, 100, 100),
        *gifts(CAMPAIGN_B, 100, 400),
        *gifts(CAMPAIGN_C, 100, 100),
    ]


@st.composite
def contribution_lists(draw: st.DrawFn, *, min_size: int = 0) -> list[Contribution]:
    trust_of = {c: draw(st.just(10_000) | st.integers(0, 10_000)) for c in CLUSTERS}
    picks = draw(
        st.lists(
            st.tuples(st.sampled_from(CAMPAIGNS), st.sampled_from(CLUSTERS), st.integers(1, 10**9)),
            min_size=min_size,
            max_size=25,
        )
    )
    return [Contribution(campaign, c, amount, trust_of[c]) for campaign, c, amount in picks]


budgets = st.integers(0, 10**12)
caps = st.none() | st.integers(1, 10**12)


def allocate(contributions: list[Contribution], *, budget: int, cap: int | None = None) -> RoundResult:
    return allocate_round(contributions, budget_minor=budget, per_campaign_cap_minor=cap)


class TestScoring:
    def test_score_is_the_qf_subsidy_in_scaled_integers(self) -> None:
        tally = allocate(three_campaigns(), budget=0).campaigns[0]

        assert tally.campaign_id == CAMPAIGN_A
        assert tally.distinct_clusters == 4
        assert tally.sqrt_sum_scaled == 40 * SQRT_SCALE
        assert tally.score_scaled == 1200 * S2

    def test_one_donor_earns_nothing_even_across_many_donations(self) -> None:
        lone = [Contribution(CAMPAIGN_B, cluster(9), amount) for amount in (100, 400, 2500)]

        result = allocate([*gifts(CAMPAIGN_A, 100, 100), *lone], budget=1000)

        assert result.allocations == {CAMPAIGN_A: 1000, CAMPAIGN_B: 0}
        assert result.campaigns[1].eligible is False

    def test_trust_weight_scales_a_cluster_down(self) -> None:
        # 400 at 25% trust is effective 100, so A scores like B: (10+10)^2 - 200 = 200 each.
        weighted = [
            Contribution(CAMPAIGN_A, cluster(0), 100),
            Contribution(CAMPAIGN_A, cluster(1), 400, 2500),
        ]

        result = allocate([*weighted, *gifts(CAMPAIGN_B, 100, 100, first_cluster=5)], budget=100)

        assert result.campaigns[0].effective_minor == 200
        assert result.campaigns[0].contributed_minor == 500
        assert result.allocations == {CAMPAIGN_A: 50, CAMPAIGN_B: 50}

    def test_effective_amount_rounds_down(self) -> None:
        # 3 at 50% is 1.5, rounded down to 1; 1 at 50% is 0.
        result = allocate(
            [Contribution(CAMPAIGN_A, cluster(0), 3, 5000), Contribution(CAMPAIGN_A, cluster(1), 1, 5000)],
            budget=100,
        )

        assert result.campaigns[0].effective_minor == 1
        assert result.campaigns[0].distinct_clusters == 1

    def test_a_zero_trust_cluster_is_not_a_distinct_donor(self) -> None:
        untrusted = [Contribution(CAMPAIGN_A, cluster(0), 100), Contribution(CAMPAIGN_A, cluster(1), 900, 0)]

        result = allocate([*untrusted, *gifts(CAMPAIGN_B, 100, 100, first_cluster=5)], budget=100)

        assert result.campaigns[0].distinct_clusters == 1
        assert result.allocations == {CAMPAIGN_A: 0, CAMPAIGN_B: 100}

    def test_min_distinct_donors_raises_the_bar(self) -> None:
        result = allocate_round(
            [*gifts(CAMPAIGN_A, 100, 100), *gifts(CAMPAIGN_B, 100, 100, 100, first_cluster=5)],
            budget_minor=100,
            per_campaign_cap_minor=None,
            min_distinct_donors=3,
        )

        assert result.allocations == {CAMPAIGN_A: 0, CAMPAIGN_B: 100}
        assert [t.eligible for t in result.campaigns] == [False, True]


class TestSplit:
    def test_budget_follows_the_scores(self) -> None:
        # 900 * 1200/1800 = 600, 900 * 400/1800 = 200, 900 * 200/1800 = 100
        result = allocate(three_campaigns(), budget=900)

        assert result.allocations == {CAMPAIGN_A: 600, CAMPAIGN_B: 200, CAMPAIGN_C: 100}
        assert (result.allocated_minor, result.unallocated_minor) == (900, 0)

    def test_leftover_units_go_to_the_lower_campaign_id_on_ties(self) -> None:
        # Equal scores, 100 / 3 = 33 each and one unit left over, given to the lowest id.
        tied = [*gifts(CAMPAIGN_C, 1, 1), *gifts(CAMPAIGN_B, 1, 1, first_cluster=2), *gifts(CAMPAIGN_A, 1, 1)]

        result = allocate(tied, budget=100)

        assert result.allocations == {CAMPAIGN_A: 34, CAMPAIGN_B: 33, CAMPAIGN_C: 33}
        assert list(result.allocations) == [CAMPAIGN_A, CAMPAIGN_B, CAMPAIGN_C]

    def test_without_a_scoring_campaign_the_budget_stays_unallocated(self) -> None:
        result = allocate([*gifts(CAMPAIGN_A, 500), *gifts(CAMPAIGN_B, 700, first_cluster=1)], budget=1000)

        assert result.allocations == {CAMPAIGN_A: 0, CAMPAIGN_B: 0}
        assert (result.allocated_minor, result.unallocated_minor) == (0, 1000)

    def test_an_empty_round_allocates_nothing(self) -> None:
        result = allocate([], budget=1000)

        assert (result.allocations, result.campaigns) == ({}, ())
        assert result.unallocated_minor == 1000


class TestCap:
    def test_excess_is_redistributed_until_no_share_exceeds_the_cap(self) -> None:
        # Cap 350: A (600) is capped; 550 over B:C = 400:200 gives B 366.67, capped too;
        # C takes the remaining 200.
        result = allocate(three_campaigns(), budget=900, cap=350)

        assert result.allocations == {CAMPAIGN_A: 350, CAMPAIGN_B: 350, CAMPAIGN_C: 200}
        assert [t.capped for t in result.campaigns] == [True, True, False]
        assert result.unallocated_minor == 0

    def test_when_every_scoring_campaign_is_capped_the_rest_stays_unallocated(self) -> None:
        result = allocate(three_campaigns()[:6], budget=1000, cap=300)

        assert result.allocations == {CAMPAIGN_A: 300, CAMPAIGN_B: 300}
        assert (result.allocated_minor, result.unallocated_minor) == (600, 400)

    def test_a_share_exactly_at_the_cap_is_not_capped(self) -> None:
        result = allocate(three_campaigns(), budget=900, cap=600)

        assert result.allocations == {CAMPAIGN_A: 600, CAMPAIGN_B: 200, CAMPAIGN_C: 100}
        assert not any(t.capped for t in result.campaigns)


class TestInputsHash:
    def test_hash_is_sha256_of_the_documented_encoding(self) -> None:
        split_gift = [
            Contribution(CAMPAIGN_A, cluster(1), 60, 5000),
            Contribution(CAMPAIGN_A, cluster(1), 40, 5000),
        ]
        a, c1, c2 = str(CAMPAIGN_A), str(cluster(0)), str(cluster(1))
        expected = (
            '{"budget_minor":1000,"contributions":'
            f'[["{a}","{c1}",100,10000],["{a}","{c2}",100,5000]],'
            '"min_distinct_donors":2,"per_campaign_cap_minor":null,"version":"goodloop.quadratic_round.v1"}'
        )

        result = allocate([*split_gift, *gifts(CAMPAIGN_A, 100)], budget=1000)

        assert result.inputs_hash == hashlib.sha256(expected.encode()).hexdigest()


class TestValidation:
    @pytest.mark.parametrize(
        "fields",
        [
            {"amount_minor": 0},
            {"amount_minor": -1},
            {"amount_minor": True},
            {"trust_bps": -1},
            {"trust_bps": 10_001},
        ],
    )
    def test_refuses_an_impossible_contribution(self, fields: dict[str, Any]) -> None:
        with pytest.raises(ValueError):
            Contribution(**{"campaign_id": CAMPAIGN_A, "cluster_id": cluster(0), "amount_minor": 1, **fields})

    @pytest.mark.parametrize(
        "params",
        [
            {"budget_minor": -1},
            {"per_campaign_cap_minor": 0},
            {"per_campaign_cap_minor": -5},
            {"min_distinct_donors": 0},
        ],
    )
    def test_refuses_impossible_round_parameters(self, params: dict[str, Any]) -> None:
        with pytest.raises(ValueError):
            allocate_round(
                gifts(CAMPAIGN_A, 1, 1), **{"budget_minor": 100, "per_campaign_cap_minor": None, **params}
            )

    def test_refuses_a_cluster_with_two_trust_weights(self) -> None:
        mixed = [
            Contribution(CAMPAIGN_A, cluster(0), 100, 10_000),
            Contribution(CAMPAIGN_B, cluster(0), 100, 5000),
        ]

        with pytest.raises(ValueError, match="different trust_bps"):
            allocate(mixed, budget=100)


class TestNoFloats:
    def test_the_allocator_has_no_float_arithmetic(self) -> None:
        tree = ast.parse(inspect.getsource(quadratic))

        offenders = [
            ast.unparse(node)
            for node in ast.walk(tree)
            if isinstance(node, ast.Div)
            or (isinstance(node, ast.Constant) and isinstance(node.value, float))
            or (isinstance(node, ast.Name) and node.id in {"float", "Decimal", "Fraction"})
            or (isinstance(node, ast.Attribute) and node.attr in {"sqrt", "pow", "floor", "ceil"})
        ]

        assert offenders == []


class TestRoundProperties:
    @given(contributions=contribution_lists(), budget=budgets, cap=caps)
    def test_allocated_and_unallocated_add_up_and_none_is_negative(
        self, contributions: list[Contribution], budget: int, cap: int | None
    ) -> None:
        result = allocate(contributions, budget=budget, cap=cap)

        assert sum(result.allocations.values()) == result.allocated_minor
        assert result.allocated_minor + result.unallocated_minor == budget
        assert min(result.allocations.values(), default=0) >= 0
        assert result.unallocated_minor >= 0

    @given(contributions=contribution_lists(), budget=budgets, campaign=st.sampled_from(CAMPAIGNS))
    def test_the_whole_budget_is_placed_when_a_campaign_is_eligible_and_uncapped(
        self, contributions: list[Contribution], budget: int, campaign: uuid.UUID
    ) -> None:
        result = allocate([*contributions, *gifts(campaign, 1, 1)], budget=budget)

        assert result.allocated_minor == budget
        assert result.unallocated_minor == 0

    @given(
        contributions=contribution_lists(),
        budget=budgets,
        lone_gifts=st.lists(st.integers(1, 10**9), min_size=1, max_size=5),
        trust=st.integers(1, 10_000),
        min_donors=st.integers(1, 2),
    )
    def test_a_single_donor_campaign_gets_nothing(
        self,
        contributions: list[Contribution],
        budget: int,
        lone_gifts: list[int],
        trust: int,
        min_donors: int,
    ) -> None:
        lone = [Contribution(LONE_CAMPAIGN, cluster(0), amount, trust) for amount in lone_gifts]

        result = allocate_round(
            [*contributions, *lone],
            budget_minor=budget,
            per_campaign_cap_minor=None,
            min_distinct_donors=min_donors,
        )

        assert result.allocations[LONE_CAMPAIGN] == 0

    @given(contributions=contribution_lists(min_size=1), budget=budgets, cap=caps, data=st.data())
    def test_splitting_a_clusters_gift_changes_nothing(
        self, contributions: list[Contribution], budget: int, cap: int | None, data: st.DataObject
    ) -> None:
        index = data.draw(st.integers(0, len(contributions) - 1))
        whole = contributions[index]
        assume(whole.amount_minor > 1)
        cuts = sorted(
            data.draw(st.lists(st.integers(1, whole.amount_minor - 1), min_size=1, max_size=4, unique=True))
        )
        bounds = [0, *cuts, whole.amount_minor]
        pieces = [
            Contribution(whole.campaign_id, whole.cluster_id, high - low, whole.trust_bps)
            for low, high in itertools.pairwise(bounds)
        ]
        split = [*contributions[:index], *pieces, *contributions[index + 1 :]]

        assert allocate(split, budget=budget, cap=cap) == allocate(contributions, budget=budget, cap=cap)

    @given(contributions=contribution_lists(), budget=budgets, cap=caps, data=st.data())
    def test_input_order_changes_nothing(
        self, contributions: list[Contribution], budget: int, cap: int | None, data: st.DataObject
    ) -> None:
        shuffled = data.draw(st.permutations(contributions))

        assert allocate(shuffled, budget=budget, cap=cap) == allocate(contributions, budget=budget, cap=cap)

    @given(contributions=contribution_lists(), budget=budgets, cap=st.integers(1, 10**12))
    def test_caps_hold_and_money_is_left_only_when_every_scorer_is_capped(
        self, contributions: list[Contribution], budget: int, cap: int
    ) -> None:
        result = allocate(contributions, budget=budget, cap=cap)

        assert all(part <= cap for part in result.allocations.values())
        if result.unallocated_minor:
            scorers = [t.campaign_id for t in result.campaigns if t.score_scaled > 0]
            assert all(result.allocations[c] == cap for c in scorers)

    @given(contributions=contribution_lists(), budget=budgets, cap=caps)
    def test_uncapped_campaigns_get_their_score_share_within_one_unit(
        self, contributions: list[Contribution], budget: int, cap: int | None
    ) -> None:
        result = allocate(contributions, budget=budget, cap=cap)

        capped = [t for t in result.campaigns if t.capped]
        free = [t for t in result.campaigns if not t.capped]
        remaining = budget - (cap or 0) * len(capped)
        weight = sum(t.score_scaled for t in free)
        for tally in free:
            fair = remaining * tally.score_scaled // weight if weight else 0
            assert fair <= result.allocations[tally.campaign_id] <= fair + 1

    @given(
        amount=st.integers(1, 10**9),
        fewer=st.integers(2, 6),
        extra=st.integers(1, 6),
        budget=budgets,
    )
    def test_more_donors_of_equal_gifts_score_and_receive_more(
        self, amount: int, fewer: int, extra: int, budget: int
    ) -> None:
        broad = gifts(CAMPAIGN_A, *[amount] * (fewer + extra))
        narrow = gifts(CAMPAIGN_B, *[amount] * fewer, first_cluster=100)

        result = allocate([*narrow, *broad], budget=budget)

        broad_tally, narrow_tally = result.campaigns
        assert broad_tally.score_scaled > narrow_tally.score_scaled
        assert result.allocations[CAMPAIGN_A] >= result.allocations[CAMPAIGN_B]

    @given(
        contributions=contribution_lists(min_size=1),
        budget=budgets,
        cap=caps,
        change=st.sampled_from(["budget", "cap", "min_donors", "amount", "trust", "campaign"]),
    )
    def test_changing_any_input_changes_the_hash(
        self, contributions: list[Contribution], budget: int, cap: int | None, change: str
    ) -> None:
        params: dict[str, Any] = {
            "budget_minor": budget,
            "per_campaign_cap_minor": cap,
            "min_distinct_donors": 2,
        }
        changed = list(contributions)
        first = contributions[0]
        if change == "budget":
            params["budget_minor"] += 1
        elif change == "cap":
            params["per_campaign_cap_minor"] = 1 if cap is None else None
        elif change == "min_donors":
            params["min_distinct_donors"] = 3
        elif change == "amount":
            changed[0] = Contribution(
                first.campaign_id, first.cluster_id, first.amount_minor + 1, first.trust_bps
            )
        elif change == "trust":
            new_trust = 0 if first.trust_bps else 1
            changed = [
                Contribution(c.campaign_id, c.cluster_id, c.amount_minor, new_trust)
                if c.cluster_id == first.cluster_id
                else c
                for c in contributions
            ]
        else:
            changed[0] = Contribution(LONE_CAMPAIGN, first.cluster_id, first.amount_minor, first.trust_bps)

        before = allocate_round(
            contributions, budget_minor=budget, per_campaign_cap_minor=cap, min_distinct_donors=2
        )
        after = allocate_round(changed, **params)

        assert after.inputs_hash != before.inputs_hash
