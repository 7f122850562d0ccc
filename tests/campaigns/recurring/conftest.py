"""The app with the recording Stripe double, as for the donor's path (tests/campaigns/giving)."""

from __future__ import annotations

from tests.campaigns.giving.conftest import app, stripe_double

__all__ = ["app", "stripe_double"]
