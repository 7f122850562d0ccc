from __future__ import annotations

import httpx
import pytest

from service.db import Database
from tests.webhooks.builders import LiveCampaign, create_live_campaign


@pytest.fixture
async def campaign(client: httpx.AsyncClient, database: Database) -> LiveCampaign:
    return await create_live_campaign(client, database)
