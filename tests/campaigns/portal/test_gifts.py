"""The signed-in donor's gifts, receipts and yearly statements: only ever their own."""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, datetime

import httpx
import sqlalchemy as sa
from pypdf import PdfReader

from campaigns.receipts.models import Receipt
from service.db import Database
from service.settings import Settings
from tests.campaigns.giving.helpers import live
from tests.campaigns.giving.wall_helpers import give
from tests.campaigns.portal.helpers import sign_in
from tests.mail_server import SmtpServer


async def receipts_of(database: Database, email: str) -> list[Receipt]:
    async with database.unit_of_work() as session:
        return list(await session.scalars(sa.select(Receipt).where(Receipt.donor_email == email)))


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


class TestGifts:
    async def test_a_donor_sees_their_gifts_across_nonprofits_and_nobody_elses(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        first = await live(client, database, title="Winter coats")
        second = await live(client, database, title="Clean rivers")
        await give(client, database, settings, first["slug"], email="ada@example.org", amount_minor=2_500)
        await give(client, database, settings, second["slug"], email="ada@example.org", amount_minor=1_200)
        await give(client, database, settings, first["slug"], email="eve@example.org", amount_minor=9_900)

        await sign_in(client, database, smtp_server, "ADA@example.org")
        page = (await client.get("/donor")).text
        assert "Winter coats" in page and "Clean rivers" in page
        assert "€25.00" in page and "€12.00" in page
        assert "€99.00" not in page
        assert page.count('class="portal-gift"') == 2

    async def test_receipts_and_statements_download_only_for_their_donor(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        campaign = await live(client, database, title="Winter coats")
        await give(client, database, settings, campaign["slug"], email="ada@example.org", amount_minor=2_500)
        await give(client, database, settings, campaign["slug"], email="eve@example.org", amount_minor=9_900)
        [adas] = await receipts_of(database, "ada@example.org")
        [eves] = await receipts_of(database, "eve@example.org")

        await sign_in(client, database, smtp_server, "ada@example.org")
        page = (await client.get("/donor")).text
        assert f"/donor/receipts/{adas.id}" in page
        assert f"/donor/receipts/{eves.id}" not in page

        receipt = await client.get(f"/donor/receipts/{adas.id}")
        assert receipt.status_code == 200
        assert receipt.headers["content-type"] == "application/pdf"
        assert adas.display_number in pdf_text(receipt.content)
        assert (await client.get(f"/donor/receipts/{eves.id}")).status_code == 404
        assert (await client.get(f"/donor/receipts/{uuid.uuid4()}")).status_code == 404

        year = datetime.now(UTC).year
        nonprofit_id = campaign["nonprofit_id"]
        link = re.search(r'href="(/donor/statements/[^"]+)"', page)
        assert link is not None and link.group(1) == f"/donor/statements/{nonprofit_id}/{adas.year}"
        statement = await client.get(link.group(1))
        assert statement.status_code == 200
        text = pdf_text(statement.content)
        assert adas.display_number in text and eves.display_number not in text
        # A nonprofit the donor never gave to has no statement for them.
        other = await live(client, database)
        assert (await client.get(f"/donor/statements/{other['nonprofit_id']}/{year}")).status_code == 404

    async def test_signed_out_downloads_go_to_sign_in(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        campaign = await live(client, database)
        await give(client, database, settings, campaign["slug"], email="ada@example.org")
        [receipt] = await receipts_of(database, "ada@example.org")
        response = await client.get(f"/donor/receipts/{receipt.id}")
        assert response.status_code == 303
        assert response.headers["location"] == "/donor"
