"""The risk signals page: everyone reads it, only a superadmin changes a signal, and that is audited."""

from __future__ import annotations

import httpx

from campaigns.matching import risk_settings
from service.auth.models import AdminRole
from service.db import Database
from tests.console.helpers import signed_in_admin, submit
from tests.console.review_builders import audit_actions


async def current(database: Database, code: str) -> risk_settings.SignalSetting:
    async with database.transaction() as session:
        return (await risk_settings.load(session)).settings[code]


class TestReading:
    async def test_every_signal_is_listed_with_its_weight_and_threshold(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        await signed_in_admin(client, database)
        page = (await client.get("/admin/risk")).text
        for definition in risk_settings.SIGNALS:
            assert f'id="signal-{definition.code}"' in page
        row = page[page.index('id="signal-card_velocity"') :]
        row = row[: row.index("</tr>")]
        assert '<td class="num weight">100</td>' in row and '<td class="num threshold">3</td>' in row
        assert 'id="risk-read-only"' in page and 'id="save-card_velocity"' not in page
        for rule in risk_settings.HARD_RULES:
            assert f'id="rule-{rule.code}"' in page


class TestEditing:
    async def test_a_superadmin_changes_a_signal_and_it_is_audited(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        admin = await signed_in_admin(client, database, role=AdminRole.SUPERADMIN)
        response = await submit(
            client, "/admin/risk/card_velocity", {"weight": "80", "threshold": "5"}, page="/admin/risk"
        )
        assert response.status_code == 303

        setting = await current(database, "card_velocity")
        assert (setting.weight, setting.threshold, setting.enabled) == (80, 5, False)  # box left unticked
        assert [a for a, who, _ in await audit_actions(database, subject_id="card_velocity")] == [
            "risk.signal_updated"
        ]
        assert (await audit_actions(database, subject_id="card_velocity"))[0][1] == admin.email
        page = (await client.get("/admin/risk")).text
        assert 'id="weight-card_velocity" aria-label="Weight of Card velocity" value="80"' in page

    async def test_a_bad_value_is_shown_next_to_its_field(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        await signed_in_admin(client, database, role=AdminRole.SUPERADMIN)
        response = await submit(
            client,
            "/admin/risk/card_velocity",
            {"weight": "lots", "threshold": "0", "enabled": "on"},
            page="/admin/risk",
        )
        assert response.status_code == 422
        assert 'id="weight-card_velocity-error"' in response.text
        assert 'id="threshold-card_velocity-error"' in response.text
        setting = await current(database, "card_velocity")
        assert (setting.weight, setting.threshold) == (100, 3)

    async def test_a_reviewer_cannot_change_a_signal(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        await signed_in_admin(client, database, role=AdminRole.REVIEWER)
        response = await submit(
            client,
            "/admin/risk/card_velocity",
            {"weight": "0", "threshold": "3", "enabled": "on"},
            page="/admin/risk",
        )
        assert response.status_code == 403
        assert (await current(database, "card_velocity")).weight == 100
        assert await audit_actions(database, subject_id="card_velocity") == []

    async def test_an_unknown_signal_is_a_404(self, client: httpx.AsyncClient, database: Database) -> None:
        await signed_in_admin(client, database, role=AdminRole.SUPERADMIN)
        response = await submit(
            client, "/admin/risk/no_such_signal", {"weight": "1", "enabled": "on"}, page="/admin/risk"
        )
        assert response.status_code == 404
