"""A program patch with explicit nulls for required terms is a 422 naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from service.db import Database
from service.settings import Settings
from tests.campaigns.matching.helpers import make_program, make_world


class TestProgramPatchNulls:
    @pytest.mark.parametrize(
        "field", ["recurring_rule", "hold_days", "ends_at", "name", "min_donation_minor"]
    )
    async def test_an_explicit_null_is_a_422_naming_the_field(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, field: str
    ) -> None:
        world = await make_world(client, database, settings)
        later = await make_program(world, starts_at=(datetime.now(UTC) + timedelta(days=1)).isoformat())
        response = await world.client.patch(
            f"/api/v1/admin/matching-programs/{later}", json={field: None}, headers=world.finance.headers
        )
        assert response.status_code == 422, response.text
        assert field in response.json()["fields"]
        cleared = await world.client.patch(
            f"/api/v1/admin/matching-programs/{later}",
            json={"per_donation_cap_minor": None},
            headers=world.finance.headers,
        )
        assert cleared.status_code == 200, cleared.text
