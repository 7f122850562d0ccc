"""Stripe out of reach while a donor changes a recurring gift: the change may have been made
(the answer was lost), so it is neither marked failed nor reported as "nothing changed"."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest

from campaigns.portal import recurring
from campaigns.portal.models import ChangeKind
from service.db import Database
from service.stripe_gateway import create_client
from tests.campaigns.giving.sandboxed import Served, served
from tests.campaigns.portal.test_recurring import changes, monthly_gift, post, sign_in
from tests.live_server import free_port

__all__ = ["served"]


@pytest.fixture
async def database(served: Served) -> AsyncIterator[Database]:
    db = Database.from_url(served.settings.database_url)
    yield db
    await db.dispose()


@pytest.fixture
async def http(served: Served) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:
        yield client


@pytest.mark.parametrize("kind", [ChangeKind.CANCEL, ChangeKind.AMOUNT])
async def test_a_lost_connection_leaves_the_change_unconfirmed_not_failed(
    served: Served, database: Database, http: httpx.AsyncClient, kind: ChangeKind
) -> None:
    plan = await monthly_gift(served, database, http, email="ada@example.org")
    # Nothing listens there: a real connection error, after the client's own retries.
    unreachable = create_client(
        dataclasses.replace(served.settings, stripe_api_base=f"http://127.0.0.1:{free_port()}")
    )

    with pytest.raises(recurring.StripeUnconfirmed) as raised:
        await recurring.change_gift(
            database,
            unreachable,
            email="ada@example.org",
            gift_id=plan.gift_id,
            kind=kind,
            amount_minor=2_500 if kind is ChangeKind.AMOUNT else None,
        )

    assert "could not confirm" in raised.value.detail
    assert "nothing changed" not in raised.value.detail
    [change] = await changes(database, plan.gift_id)
    assert change.failed_at is None and change.sent_at is None


async def test_update_card_in_another_language_within_minutes_opens_the_portal_again(
    served: Served, database: Database, http: httpx.AsyncClient
) -> None:
    plan = await monthly_gift(served, database, http, email="ada@example.org")
    await sign_in(http, database, "ada@example.org")

    english = await post(http, f"/donor/recurring/{plan.gift_id}/card?lang=en")
    dutch = await post(http, f"/donor/recurring/{plan.gift_id}/card?lang=nl")

    for response in (english, dutch):
        assert response.status_code == 303
        assert response.headers["location"].startswith(served.stripe_base)
    assert english.headers["location"] != dutch.headers["location"]
