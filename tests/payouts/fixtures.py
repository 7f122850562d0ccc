"""Fixtures of the payouts world, shared by the payouts, console and export tests (a plugin of
the root conftest): the Stripe sandbox on a loopback port and a nonprofit ready to be paid."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from service.db import Database
from service.settings import Settings
from tests.payouts.helpers import PayoutWorld, Sandbox, make_payout_world, running_sandbox


@pytest.fixture
def sandbox(settings: Settings) -> Iterator[Sandbox]:
    with running_sandbox(settings) as running:
        yield running


@pytest.fixture
async def pw(
    client: httpx.AsyncClient, database: Database, settings: Settings, sandbox: Sandbox
) -> PayoutWorld:
    return await make_payout_world(client, database, settings, sandbox)
