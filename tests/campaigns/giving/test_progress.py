"""The progress block's arithmetic and words: percent (integers), days left, challenge sentences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from campaigns.campaign.models import Campaign
from campaigns.giving.progress import (
    campaign_progress,
    challenge_text,
    days_left_text,
    match_status_text,
    percent_of,
    progress_texts,
)
from campaigns.matching.challenges import ChallengeProgress
from campaigns.matching.models import MatchStatus

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("amount", "goal", "percent"),
    [(0, 1000, 0), (9, 1000, 0), (10, 1000, 1), (999, 1000, 99), (1000, 1000, 100), (5000, 1000, 100)],
)
def test_percent_is_floored_and_capped(amount: int, goal: int, percent: int) -> None:
    assert percent_of(amount, goal) == percent


def test_progress_adds_matched_to_raised() -> None:
    campaign = Campaign(
        currency="eur", goal_minor=200_000, raised_minor=50_000, matched_minor=30_000, donor_count=1
    )
    progress = campaign_progress(campaign)
    assert (progress.total_minor, progress.percent, progress.bar_value) == (80_000, 40, 80_000)
    assert progress_texts(progress) == {
        "raised_text": "€500.00",
        "matched_text": "€300.00",
        "total_text": "€800.00",
        "percent_text": "40%",
        "donors_text": "1 donor",
    }


@pytest.mark.parametrize(
    ("ends_in", "text"),
    [
        (timedelta(days=3, hours=2), "3 days left"),
        (timedelta(days=1, minutes=1), "1 day left"),
        (timedelta(hours=23, minutes=59), "last day"),
        (timedelta(seconds=0), "ended"),
        (timedelta(days=-2), "ended"),
    ],
)
def test_days_left(ends_in: timedelta, text: str) -> None:
    assert days_left_text(NOW + ends_in, now=NOW) == text


def test_no_end_date_says_nothing() -> None:
    assert days_left_text(None, now=NOW) is None


def _challenge(**overrides: object) -> ChallengeProgress:
    values: dict[str, object] = {
        "program_name": "Friday challenge",
        "currency": "eur",
        "bonus_minor": 50_000,
        "target_kind": "donors",
        "target": 20,
        "progress": 8,
        "remaining": 12,
        "deadline": NOW + timedelta(days=1),
        "unlocked": False,
        "ended": False,
    }
    values.update(overrides)
    return ChallengeProgress(**values)  # type: ignore[arg-type]


def test_challenge_sentences() -> None:
    assert challenge_text(_challenge()) == "12 more donors unlock €500.00"
    assert challenge_text(_challenge(remaining=1)) == "1 more donor unlocks €500.00"
    assert (
        challenge_text(_challenge(target_kind="amount", target=100_000, progress=70_000, remaining=30_000))
        == "€300.00 more unlocks €500.00"
    )
    assert (
        challenge_text(_challenge(unlocked=True, remaining=0)) == "Unlocked! Friday challenge adds €500.00."
    )
    assert challenge_text(_challenge(ended=True)) is None


def test_void_reasons_in_words_never_name_a_risk_signal() -> None:
    assert match_status_text(MatchStatus.VOIDED, "disputed") == "Not matched because the payment was disputed"
    for signal in ("stripe_risk", "early_fraud_warning", "owner_linked", None):
        assert (
            match_status_text(MatchStatus.VOIDED, signal)
            == "Not matched because the gift was not eligible for this program"
        )
