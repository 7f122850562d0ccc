"""The app with the page cache on (views must count on cache hits) and a Stripe double."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette

from service.app import create_app
from service.db import Database
from service.settings import Settings
from service.stripe_gateway import create_client
from tests.campaigns.giving.stripe_double import StripeDouble


@pytest.fixture
async def app(settings: Settings, database: Database) -> AsyncIterator[Starlette]:
    cached = dataclasses.replace(settings, public_page_ttl_s=30.0)
    client = create_client(cached, http_client=StripeDouble())
    application = create_app(cached, database=database, stripe_client=client)
    async with application.router.lifespan_context(application):
        yield application
