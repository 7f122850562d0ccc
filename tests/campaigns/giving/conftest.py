"""The app with a recording Stripe double under the real SDK, for the donor's path."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette

from service.app import create_app
from service.db import Database
from service.settings import Settings
from service.stripe_gateway import create_client
from tests.campaigns.giving.stripe_double import StripeDouble


@pytest.fixture
def stripe_double() -> StripeDouble:
    return StripeDouble()


@pytest.fixture
async def app(
    settings: Settings, database: Database, stripe_double: StripeDouble
) -> AsyncIterator[Starlette]:
    client = create_client(settings, http_client=stripe_double)
    application = create_app(settings, database=database, stripe_client=client)
    async with application.router.lifespan_context(application):
        yield application
