"""Stripe form decoding, checked against the SDK's own encoder."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stripe._encode import _api_encode

from service.stripe_sandbox.forms import FormDecodeError, parse_form


def sdk_encode(params: dict[str, Any]) -> str:
    """Exactly what the SDK sends (see stripe._api_requestor: brackets are left unescaped)."""
    return urlencode(list(_api_encode(params))).replace("%5B", "[").replace("%5D", "]")


def wire_values(value: Any, *, inside_list: bool = False) -> Any:
    """What survives the wire: every scalar as a string."""
    if isinstance(value, dict):
        return {k: wire_values(v) for k, v in value.items()}
    if isinstance(value, list):
        if inside_list:
            # A list inside a list is re-encoded by the SDK as a hash {0: .., 1: ..}.
            return [wire_values(v) for v in value]
        # SDK quirk: a boolean directly inside a list is sent as "True"/"False".
        return [str(v) if isinstance(v, bool) else wire_values(v, inside_list=True) for v in value]
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


class TestParseForm:
    def test_nested_checkout_params(self) -> None:
        params = {
            "line_items": [{"quantity": 1, "price_data": {"currency": "eur", "unit_amount": 2500}}],
            "metadata": {"donation_id": "d1"},
            "payment_intent_data": {"transfer_data": {"destination": "acct_1"}},
            "expand": ["payment_intent"],
        }

        decoded = parse_form(sdk_encode(params))

        assert decoded == {
            "line_items": [{"quantity": "1", "price_data": {"currency": "eur", "unit_amount": "2500"}}],
            "metadata": {"donation_id": "d1"},
            "payment_intent_data": {"transfer_data": {"destination": "acct_1"}},
            "expand": ["payment_intent"],
        }

    def test_empty_brackets_append(self) -> None:
        assert parse_form("expand[]=latest_charge&expand[]=customer") == {
            "expand": ["latest_charge", "customer"]
        }

    def test_numeric_metadata_keys_stay_a_hash(self) -> None:
        assert parse_form("metadata[0]=a&metadata[1]=b") == {"metadata": {"0": "a", "1": "b"}}

    def test_blank_values_are_kept(self) -> None:
        assert parse_form("metadata[note]=") == {"metadata": {"note": ""}}

    def test_percent_encoded_values(self) -> None:
        assert parse_form(sdk_encode({"success_url": "https://x.org/t?s={CHECKOUT_SESSION_ID}&a=1"})) == {
            "success_url": "https://x.org/t?s={CHECKOUT_SESSION_ID}&a=1"
        }

    def test_key_used_as_value_and_hash_is_an_error(self) -> None:
        with pytest.raises(FormDecodeError) as raised:
            parse_form("metadata=x&metadata[a]=b")

        assert raised.value.param == "metadata[a]"

    def test_malformed_key_is_an_error(self) -> None:
        with pytest.raises(FormDecodeError):
            parse_form("line_items[0=x")


_names = st.from_regex(r"[a-z_][a-z0-9_]{0,11}", fullmatch=True)
_scalars = st.one_of(st.text(max_size=20), st.integers(), st.booleans())
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        # Empty containers encode to nothing at all, so they cannot round-trip; Stripe's own
        # server has the same blind spot.
        st.lists(inner, min_size=1, max_size=4),
        st.dictionaries(_names, inner, min_size=1, max_size=4),
    ),
    max_leaves=12,
)


class TestRoundTripWithTheSdkEncoder:
    @given(st.dictionaries(_names, _values, max_size=5))
    def test_decode_inverts_the_sdk_encoder(self, params: dict[str, Any]) -> None:
        decoded = parse_form(sdk_encode(params))

        assert decoded == wire_values(params)

    @given(
        st.dictionaries(
            st.text(min_size=1, max_size=10).filter(lambda k: "[" not in k and "]" not in k), st.text()
        )
    )
    def test_any_metadata_survives(self, metadata: dict[str, str]) -> None:
        decoded = parse_form(sdk_encode({"metadata": metadata}))

        assert decoded.get("metadata", {}) == metadata
