"""Ledger keys read back by another package are parsed by the module that writes them."""

from __future__ import annotations

import uuid

import pytest

from campaigns.donations import bookkeeping
from campaigns.matching import pool


class TestRefundAndDisputeKeys:
    @pytest.mark.parametrize(
        ("key", "named"),
        [
            (bookkeeping.refund_key("re_3Q"), "re_3Q"),
            (bookkeeping.dispute_key("dp_9Z"), "dp_9Z"),
            ("refund:re_3Q:failed", None),
            ("dispute:dp_9Z:reinstated", None),
            ("donation:5:received", None),
        ],
    )
    def test_a_cause_is_read_back_only_from_a_refund_or_a_withdrawn_dispute(
        self, key: str, named: str | None
    ) -> None:
        assert bookkeeping.refund_or_dispute_named_by(key) == named


class TestFundedKey:
    def test_the_funding_key_is_the_one_the_ledger_has_always_used(self) -> None:
        program_id = uuid.UUID("00000000-0000-4000-8000-000000000001")

        assert pool.funded_key(program_id) == "program:00000000-0000-4000-8000-000000000001:funded"
