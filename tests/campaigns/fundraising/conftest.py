"""Fundraising tests give through the donor's path, so they use its recording Stripe double."""

from __future__ import annotations

from tests.campaigns.giving.conftest import app, stripe_double

__all__ = ["app", "stripe_double"]
