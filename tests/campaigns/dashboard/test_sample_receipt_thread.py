"""The dashboard's sample receipt is drawn off the event loop."""

from __future__ import annotations

import threading

import httpx
import pytest

from campaigns.dashboard import tax_pages
from campaigns.receipts.pdf import ReceiptDocument, receipt_pdf
from tests import builders
from tests.campaigns.dashboard.helpers import log_in


class TestSampleReceipt:
    async def test_it_is_drawn_off_the_event_loop(
        self, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        org = await builders.sign_up(client)
        await log_in(client, org.email)
        threads: list[threading.Thread] = []

        def drawing(document: ReceiptDocument) -> bytes:
            threads.append(threading.current_thread())
            return receipt_pdf(document)

        monkeypatch.setattr(tax_pages, "receipt_pdf", drawing)
        loop_thread = threading.current_thread()
        response = await client.get("/dashboard/tax-profile/sample.pdf")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pdf"
        assert len(threads) == 1 and threads[0] is not loop_thread
