"""Connect: Express accounts, onboarding through account links, transfers and reversals."""

from __future__ import annotations

import pytest
import stripe

from tests.service.stripe_sandbox.conftest import Sandbox


async def _account(sandbox: Sandbox, *, onboarded: bool = True) -> str:
    account = await sandbox.client.v1.accounts.create_async(
        {
            "type": "express",
            "country": "DE",
            "email": "treasurer@rivers.example",
            "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
            "metadata": {"nonprofit_id": "np_1"},
        }
    )
    if onboarded:
        await sandbox.control(f"accounts/{account.id}/onboard")
    return account.id


class TestAccounts:
    async def test_new_express_account_cannot_take_charges_yet(self, sandbox: Sandbox) -> None:
        account_id = await _account(sandbox, onboarded=False)

        account = await sandbox.client.v1.accounts.retrieve_async(account_id)

        assert account.id.startswith("acct_")
        assert account.object == "account"
        assert account.type == "express"
        assert account.country == "DE"
        assert account.email == "treasurer@rivers.example"
        assert account.charges_enabled is False
        assert account.details_submitted is False
        assert account.capabilities is not None
        assert account.capabilities.transfers == "inactive"
        assert account.metadata is not None
        assert account.metadata.to_dict() == {"nonprofit_id": "np_1"}

    async def test_unknown_account_is_resource_missing(self, sandbox: Sandbox) -> None:
        with pytest.raises(stripe.InvalidRequestError) as raised:
            await sandbox.client.v1.accounts.retrieve_async("acct_nope")

        assert raised.value.code == "resource_missing"


class TestAccountLinks:
    async def _link(self, sandbox: Sandbox, account_id: str) -> stripe.AccountLink:
        return await sandbox.client.v1.account_links.create_async(
            {
                "account": account_id,
                "refresh_url": "http://127.0.0.1:9/dashboard/payouts/refresh",
                "return_url": "http://127.0.0.1:9/dashboard/payouts/done",
                "type": "account_onboarding",
            }
        )

    async def test_link_points_to_the_sandbox_onboarding_page(self, sandbox: Sandbox) -> None:
        account_id = await _account(sandbox, onboarded=False)

        link = await self._link(sandbox, account_id)
        page = await sandbox.http.get(link.url)

        assert link.object == "account_link"
        assert link.url.startswith(f"{sandbox.url}/onboarding/")
        assert link.expires_at > link.created
        assert page.status_code == 200
        assert account_id in page.text

    async def test_completing_onboarding_enables_the_account_and_emits_account_updated(
        self, sandbox: Sandbox
    ) -> None:
        account_id = await _account(sandbox, onboarded=False)
        link = await self._link(sandbox, account_id)

        response = await sandbox.http.post(link.url)
        await sandbox.flush()
        account = await sandbox.client.v1.accounts.retrieve_async(account_id)

        assert response.status_code == 303
        assert response.headers["location"] == "http://127.0.0.1:9/dashboard/payouts/done"
        assert (account.charges_enabled, account.payouts_enabled, account.details_submitted) == (
            True,
            True,
            True,
        )
        assert sandbox.captured.types(connect=True) == ["account.updated"]
        event = sandbox.captured.connect[0]
        assert event.account == account_id
        assert event.data.object["charges_enabled"] is True
        assert event.data.previous_attributes["charges_enabled"] is False

    async def test_a_used_link_sends_the_owner_to_refresh_url(self, sandbox: Sandbox) -> None:
        account_id = await _account(sandbox, onboarded=False)
        link = await self._link(sandbox, account_id)
        await sandbox.http.post(link.url)

        again = await sandbox.http.get(link.url)

        assert again.status_code == 303
        assert again.headers["location"] == "http://127.0.0.1:9/dashboard/payouts/refresh"

    async def test_link_for_unknown_account_is_resource_missing(self, sandbox: Sandbox) -> None:
        with pytest.raises(stripe.InvalidRequestError) as raised:
            await self._link(sandbox, "acct_nope")

        assert raised.value.param == "account"


class TestTransfers:
    async def test_create_and_retrieve_transfer(self, sandbox: Sandbox) -> None:
        account_id = await _account(sandbox)

        transfer = await sandbox.client.v1.transfers.create_async(
            {
                "amount": 1_200,
                "currency": "eur",
                "destination": account_id,
                "transfer_group": "match:7",
                "metadata": {"match_id": "7"},
            },
            options={"idempotency_key": "match:7:transfer"},
        )
        fetched = await sandbox.client.v1.transfers.retrieve_async(transfer.id)
        await sandbox.flush()

        assert transfer.id.startswith("tr_")
        assert fetched.amount == 1_200
        assert fetched.destination == account_id
        assert fetched.transfer_group == "match:7"
        assert isinstance(fetched.destination_payment, str)
        assert fetched.destination_payment.startswith("py_")
        assert sandbox.captured.types() == ["transfer.created"]

    async def test_transfer_to_an_account_without_transfers_is_refused(self, sandbox: Sandbox) -> None:
        account_id = await _account(sandbox, onboarded=False)

        with pytest.raises(stripe.InvalidRequestError) as raised:
            await sandbox.client.v1.transfers.create_async(
                {"amount": 100, "currency": "eur", "destination": account_id}
            )

        assert raised.value.param == "destination"

    async def test_reversals_accumulate_and_emit_transfer_reversed(self, sandbox: Sandbox) -> None:
        account_id = await _account(sandbox)
        transfer = await sandbox.client.v1.transfers.create_async(
            {"amount": 1_000, "currency": "eur", "destination": account_id}
        )

        partial = await sandbox.client.v1.transfers.reversals.create_async(transfer.id, {"amount": 400})
        rest = await sandbox.client.v1.transfers.reversals.create_async(transfer.id)
        fetched = await sandbox.client.v1.transfers.retrieve_async(transfer.id)
        await sandbox.flush()

        assert partial.id.startswith("trr_")
        assert partial.object == "transfer_reversal"
        assert rest.amount == 600
        assert fetched.amount_reversed == 1_000
        assert fetched.reversed is True
        assert sandbox.captured.types() == ["transfer.created", "transfer.reversed", "transfer.reversed"]

    async def test_reversing_more_than_remains_is_refused(self, sandbox: Sandbox) -> None:
        account_id = await _account(sandbox)
        transfer = await sandbox.client.v1.transfers.create_async(
            {"amount": 1_000, "currency": "eur", "destination": account_id}
        )

        with pytest.raises(stripe.InvalidRequestError):
            await sandbox.client.v1.transfers.reversals.create_async(transfer.id, {"amount": 1_001})
