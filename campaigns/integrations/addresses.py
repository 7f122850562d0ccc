"""Where an outbound webhook may go: the URL rules and which IP addresses count as public.

Server-side request forgery is the threat: a nonprofit (or whoever holds its API key) names a
URL, and Goodloop's servers call it, from inside the operator's network. So an endpoint may
only reach public addresses. The URL is checked when it is saved (a clear 422 early), but the
check that counts runs at send time, on the addresses the host resolves to then
(campaigns.integrations.transport), because DNS can answer differently later.

`GOODLOOP_WEBHOOKS_ALLOW_LOOPBACK=1` (development only; production refuses to start with it)
also allows `http://` and loopback addresses, so a receiver on the developer's machine can be
tried. Private, link-local and the rest stay refused even then.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

MAX_URL_LENGTH = 2048

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Refused whatever `is_global` says, for Python versions whose tables lag the IANA registries
# and for ranges that are "global" yet never a webhook receiver.
_NEVER = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT (RFC 6598)
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata (169.254.169.254)
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and 255.255.255.255
        "::/128",
        "::1/128",
        "::/96",  # IPv4-compatible (deprecated)
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments, Teredo (2001::/32) among them
        "2001:db8::/32",  # documentation
        "fc00::/7",  # unique local (ULA)
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UrlRefused(ValueError):
    """The URL may not be an endpoint; the message says why, as a sentence for people."""


def parse_ip(text: str) -> IPAddress | None:
    """The address in `text` (an IPv6 zone like `%eth0` dropped), or None if it is a name."""
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped ::ffff:a.b.c.d, 6to4 2002::/16, NAT64)."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_loopback(address: IPAddress) -> bool:
    return (embedded_ipv4(address) or address).is_loopback


def refusal(address: IPAddress, *, allow_loopback: bool) -> str | None:
    """Why a webhook may not connect to `address`, or None when it may."""
    inner = embedded_ipv4(address)
    if inner is not None:
        # The IPv6 form reaches the IPv4 host it embeds: judge that host.
        return refusal(inner, allow_loopback=allow_loopback)
    if allow_loopback and is_loopback(address):
        return None
    if any(address in net for net in _NEVER if net.version == address.version):
        return f"{address} is not a public address"
    checks = (
        address.is_loopback,
        address.is_private,
        address.is_link_local,
        address.is_multicast,
        address.is_reserved,
        address.is_unspecified,
        isinstance(address, ipaddress.IPv6Address) and address.is_site_local,
        not address.is_global,
    )
    if any(checks):
        return f"{address} is not a public address"
    return None


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    """The hostname (lowercase) or the IP literal, without brackets."""
    port: int


def check_url(url: str, *, allow_loopback: bool) -> Target:
    """The URL's scheme, host and port if it may be an endpoint; UrlRefused otherwise.

    Names are not resolved here (no network call while saving); the send-time check resolves.
    """
    if len(url) > MAX_URL_LENGTH:
        raise UrlRefused(f"The URL is too long: use at most {MAX_URL_LENGTH} characters.")
    if any(c.isspace() or ord(c) < 0x20 for c in url):
        raise UrlRefused("The URL has spaces or control characters in it.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise UrlRefused("That is not a URL we can send to: check the address and its port.") from e
    schemes = ("https", "http") if allow_loopback else ("https",)
    if parts.scheme not in schemes:
        raise UrlRefused("The URL must start with https://.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UrlRefused("The URL may not contain a user name or password.")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UrlRefused("The URL has no host name.")
    if parts.fragment:
        raise UrlRefused("The URL may not have a #fragment.")
    port = port if port is not None else (443 if parts.scheme == "https" else 80)
    if not 0 < port < 65536:
        raise UrlRefused("The port must be between 1 and 65535.")
    _check_host(host, allow_loopback=allow_loopback)
    try:
        # The sender is httpx: a host it cannot encode (IDNA 2008) could never be sent to.
        httpx.URL(url).host  # noqa: B018 - encoding and decoding it is the check
    except (httpx.InvalidURL, ValueError, UnicodeError) as e:
        raise UrlRefused("The URL's host name is not valid.") from e
    return Target(scheme=parts.scheme, host=host, port=port)


def _check_host(host: str, *, allow_loopback: bool) -> None:
    address = parse_ip(host)
    if address is not None:
        reason = refusal(address, allow_loopback=allow_loopback)
        if reason is not None:
            raise UrlRefused(f"The URL must point at a public internet address; {reason}.")
        return
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal", ".localdomain")):
        if allow_loopback and (host == "localhost" or host.endswith(".localhost")):
            return
        raise UrlRefused("The URL must point at a public internet host, not a local name.")
    if "." not in host:
        raise UrlRefused("The URL's host must be a full domain name, like hooks.example.org.")
    if any(not label or len(label) > 63 for label in host.split(".")):
        raise UrlRefused("The URL's host name is not valid.")
