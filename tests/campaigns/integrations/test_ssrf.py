"""Server-side request forgery: where a webhook may go, checked when the URL is saved and,
the check that counts, at send time on the addresses the host resolves to then."""

from __future__ import annotations

import typing
from collections.abc import Sequence

import httpcore
import httpx
import pytest

from campaigns.integrations import addresses, transport
from campaigns.integrations.endpoint_models import AttemptOutcome
from campaigns.integrations.transport import SendPolicy
from tests import builders
from tests.campaigns.integrations.receiver import Receiver

NOT_PUBLIC = [
    "127.0.0.1",
    "127.8.9.10",
    "10.0.0.1",
    "10.255.255.254",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",  # noqa: S104 - an address to refuse, not one to bind
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.2.10",
    "198.18.0.1",
    "::1",
    "::",
    "fd00::1",
    "fc12:3456::1",
    "fe80::1",
    "fe80::1%eth0",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a00:1",
    "2002:a00:1::1",
    "2001:db8::1",
    "2001::1",
    "::127.0.0.1",
]
PUBLIC = ["93.184.215.14", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e"]


class TestAddresses:
    @pytest.mark.parametrize("text", NOT_PUBLIC)
    def test_addresses_that_are_not_public_are_refused(self, text: str) -> None:
        address = addresses.parse_ip(text)
        assert address is not None
        assert addresses.refusal(address, allow_loopback=False) is not None

    @pytest.mark.parametrize("text", PUBLIC)
    def test_public_addresses_pass(self, text: str) -> None:
        address = addresses.parse_ip(text)
        assert address is not None
        assert addresses.refusal(address, allow_loopback=False) is None

    @pytest.mark.parametrize("text", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
    def test_development_may_allow_loopback(self, text: str) -> None:
        address = addresses.parse_ip(text)
        assert address is not None
        assert addresses.refusal(address, allow_loopback=True) is None

    @pytest.mark.parametrize("text", ["10.0.0.1", "169.254.169.254", "fd00::1", "192.168.0.1"])
    def test_loopback_allowance_allows_nothing_else(self, text: str) -> None:
        address = addresses.parse_ip(text)
        assert address is not None
        assert addresses.refusal(address, allow_loopback=True) is not None

    @pytest.mark.parametrize(
        "url",
        [
            "http://hooks.example.org/x",
            "ftp://hooks.example.org/x",
            "https://user:pw@hooks.example.org/x",
            "https://hooks.example.org:0/x",
            "https://hooks.example.org:70000/x",
            "https://localhost/x",
            "https://printer.local/x",
            "https://intranet/x",
            "https://10.0.0.1/x",
            "https://169.254.169.254/latest/meta-data",
            "https://[fd00::1]/x",
            "https://[::ffff:127.0.0.1]/x",
            "https://hooks.example.org/x#frag",
            "https://hooks.example.org/a b",
            "https:///x",
        ],
    )
    def test_urls_refused_when_saved(self, url: str) -> None:
        with pytest.raises(addresses.UrlRefused):
            addresses.check_url(url, allow_loopback=False)

    def test_a_plain_https_url_is_accepted(self) -> None:
        target = addresses.check_url("https://Hooks.Example.org:8443/goodloop?k=1", allow_loopback=False)
        assert (target.scheme, target.host, target.port) == ("https", "hooks.example.org", 8443)


class _Recorded(Exception):
    pass


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Stands in for the network: records where a connection would go, and never connects."""

    def __init__(self, stream: httpcore.AsyncNetworkStream | None = None) -> None:
        self.connects: list[tuple[str, int]] = []
        self.stream = stream

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connects.append((host, port))
        if self.stream is None:
            raise httpcore.ConnectError("recorded, not connected")
        return self.stream

    async def sleep(self, seconds: float) -> None:
        return None


class ChangingResolver:
    """DNS whose answer changes after the first question (rebinding)."""

    def __init__(self, *answers: Sequence[str]) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.asked.append(host)
        return self.answers[min(len(self.asked), len(self.answers)) - 1]


async def _send(url: str, policy: SendPolicy) -> transport.SendResult:
    return await transport.send(url, body=b"{}", headers={"Content-Type": "application/json"}, policy=policy)


class TestSendTime:
    @pytest.mark.parametrize(
        "answer",
        [
            ["127.0.0.1"],
            ["10.1.2.3"],
            ["169.254.169.254"],
            ["fd00::1"],
            ["::ffff:10.0.0.1"],
            ["93.184.215.14", "10.0.0.7"],
        ],
    )
    async def test_a_host_resolving_to_any_private_address_is_refused_before_connecting(
        self, answer: list[str]
    ) -> None:
        backend = RecordingBackend()
        policy = SendPolicy(resolver=ChangingResolver(answer), network_backend=backend)

        result = await _send("https://hooks.example.org/x", policy)

        assert result.outcome is AttemptOutcome.REFUSED
        assert result.error is not None and "not a public address" in result.error
        assert backend.connects == []

    async def test_loopback_refused_without_the_development_setting_even_for_a_live_receiver(
        self, receiver: Receiver
    ) -> None:
        url = receiver.url.replace("127.0.0.1", "rebind.example.org") + "/hooks"
        policy = SendPolicy(allow_loopback=False, resolver=ChangingResolver(["127.0.0.1"]))

        result = await _send(url.replace("http://", "https://"), policy)

        assert result.outcome is AttemptOutcome.REFUSED
        assert receiver.requests == []

    async def test_dns_that_turns_private_after_the_check_cannot_redirect_the_connection(self) -> None:
        backend = RecordingBackend()
        resolver = ChangingResolver(["93.184.215.14"], ["10.0.0.1"])
        policy = SendPolicy(resolver=resolver, network_backend=backend)

        await _send("https://hooks.example.org:8443/x", policy)

        assert resolver.asked == ["hooks.example.org"], "resolved once, for the check"
        assert backend.connects == [("93.184.215.14", 8443)], "connected to the checked address"

    async def test_the_connection_goes_to_the_checked_address_of_a_real_receiver(
        self, receiver: Receiver
    ) -> None:
        # Checked: 127.0.0.1 (allowed in development), where the receiver listens; any later
        # answer names 127.0.0.2, where nothing listens. The request arriving proves the pin.
        port = httpx.URL(receiver.url).port
        resolver = ChangingResolver(["127.0.0.1"], ["127.0.0.2"])
        policy = SendPolicy(allow_loopback=True, resolver=resolver)

        result = await _send(f"http://rebind.example.org:{port}/hooks", policy)

        assert result.outcome is AttemptOutcome.DELIVERED, result.error
        [request] = receiver.requests
        assert request.headers["host"] == f"rebind.example.org:{port}"
        assert resolver.asked == ["rebind.example.org"]

    async def test_tls_is_checked_against_the_host_name_not_the_address(self) -> None:
        seen: list[str | None] = []

        class Stream(httpcore.AsyncNetworkStream):
            async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
                raise httpcore.ReadError("closed")

            async def write(self, buffer: bytes, timeout: float | None = None) -> None:
                return None

            async def aclose(self) -> None:
                return None

            async def start_tls(
                self,
                ssl_context: typing.Any,
                server_hostname: str | None = None,
                timeout: float | None = None,
            ) -> httpcore.AsyncNetworkStream:
                seen.append(server_hostname)
                raise httpcore.ConnectError("recorded, no handshake")

        backend = RecordingBackend(Stream())
        policy = SendPolicy(resolver=ChangingResolver(["93.184.215.14"]), network_backend=backend)

        result = await _send("https://hooks.example.org/x", policy)

        assert result.outcome is AttemptOutcome.CONNECTION_ERROR
        assert backend.connects == [("93.184.215.14", 443)]
        assert seen == ["hooks.example.org"], "SNI and certificate checks use the name"


class TestSavedUrls:
    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1:9/x",
            "https://10.0.0.1/x",
            "https://169.254.169.254/x",
            "https://[fd00::1]/x",
            "https://localhost/x",
        ],
    )
    async def test_the_api_refuses_urls_that_are_not_public(
        self, client: httpx.AsyncClient, url: str
    ) -> None:
        org = await builders.sign_up(client)
        response = await client.post(
            "/api/v1/webhook-endpoints", json={"url": url, "enabled_events": ["*"]}, headers=org.headers
        )
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["error"] == "validation_failed"
        assert "url" in body["fields"]
        listed = await client.get("/api/v1/webhook-endpoints", headers=org.headers)
        assert listed.json()["data"] == []
