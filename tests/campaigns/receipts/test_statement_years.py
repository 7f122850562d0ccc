"""Yearly statements for impossible years are a 404, not a 500."""

from __future__ import annotations

import httpx

from service.db import Database
from service.settings import Settings
from tests.campaigns.portal.helpers import sign_in
from tests.campaigns.receipts.helpers import NL_PROFILE, issuer, paid, pending_gift, send
from tests.mail_server import SmtpServer


class TestStatementYears:
    async def test_years_out_of_range_are_404_not_500(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        org = await issuer(client, database, profile=NL_PROFILE)
        await send(
            client,
            database,
            settings,
            paid(await pending_gift(database, org.campaign, email="ada@example.org")),
        )
        await sign_in(client, database, smtp_server, "ada@example.org")
        base = f"/donor/statements/{org.campaign.nonprofit_id}"
        for year in (0, 1, 1999, 9999, 10000, 99999999):
            assert (await client.get(f"{base}/{year}")).status_code == 404, year
        assert (await client.get(f"{base}/2000")).status_code == 200
        assert (await client.get(f"{base}/9998")).status_code == 200
