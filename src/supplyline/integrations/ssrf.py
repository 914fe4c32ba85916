"""Where a tenant's webhook may point: public addresses only, unless the operator allows more.

A subscriber chooses the URL, so without a guard a webhook is a way to make the server send
requests into its own network (SSRF: the cloud metadata service, a database's HTTP port).
The guard runs when the URL is saved and again at every send, after DNS resolution; the send
then connects to the address that was checked (the name is not looked up a second time, so a
DNS answer that changes in between cannot move it inside).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from supplyline.kernel.errors import Invalid

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
RESOLVE_TIMEOUT_S = 3.0


class TargetRefused(Exception):
    """The URL's host is, or resolves to, an address webhooks may not reach."""


@dataclass(frozen=True)
class TargetPolicy:
    """``allow_private``: no guard at all; ``allowed``: networks reachable despite it."""

    allow_private: bool = False
    allowed: tuple[IPNetwork, ...] = field(default=())

    @classmethod
    def of(cls, allow_private: bool, cidrs: Iterable[str]) -> TargetPolicy:
        return cls(allow_private, tuple(ipaddress.ip_network(c, strict=False) for c in cidrs))

    def refusal(self, address: IPAddress) -> str | None:
        """The kind of address ``address`` is when it may not be reached ("loopback"), or None."""
        if self.allow_private:
            return None
        plain = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
        for candidate in (address, plain):
            if candidate is not None and any(candidate in net for net in self.allowed):
                return None
        return _class_of(plain or address)


def _class_of(address: IPAddress) -> str | None:
    checks = (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("non-public", not address.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise TargetRefused("no host")
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        raise TargetRefused("not a valid port") from None
    return host, port


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def _resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to; [] when it does not resolve."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_S):
            found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError, TimeoutError):
        return []
    out: list[IPAddress] = []
    for *_, sockaddr in found:
        address = _literal(str(sockaddr[0]).split("%")[0])
        if address is not None and address not in out:
            out.append(address)
    return out


async def _checked(url: str, policy: TargetPolicy) -> tuple[str, list[IPAddress]]:
    host, port = _host_port(url)
    literal = _literal(host)
    addresses = [literal] if literal is not None else await _resolve(host, port)
    for address in addresses:
        kind = policy.refusal(address)
        if kind is not None:
            said = f"{address} is" if literal is not None else f"{host} resolves to {address},"
            raise TargetRefused(f"{said} a {kind} address")
    return host, addresses


async def check_url(url: str, policy: TargetPolicy) -> None:
    """Refuse (``Invalid('url', ...)``) a URL whose host is or resolves to a refused address.
    A name that does not resolve now is taken: the check at send time decides then."""
    if policy.allow_private:
        return
    try:
        await _checked(url, policy)
    except TargetRefused as exc:
        raise Invalid("url", f"not a public address ({exc}); see SUPPLYLINE_WEBHOOK_ALLOW_PRIVATE") from None


@dataclass(frozen=True)
class Pinned:
    """A request to make: the URL with its host replaced by the address that was checked."""

    url: str
    headers: dict[str, str]
    extensions: dict[str, str]


async def pin(url: str, policy: TargetPolicy) -> Pinned:
    """The checked address to connect to; ``TargetRefused`` when there is none."""
    if policy.allow_private:
        return Pinned(url, {}, {})
    host, addresses = await _checked(url, policy)
    if not addresses:
        raise TargetRefused(f"{host} does not resolve")
    if _literal(host) is not None:
        return Pinned(url, {}, {})
    original = httpx.URL(url)
    pinned = original.copy_with(host=str(addresses[0]))
    # The Host header and the TLS server name stay the name the subscriber gave.
    extensions = {"sni_hostname": host} if original.scheme == "https" else {}
    return Pinned(str(pinned), {"Host": original.netloc.decode("ascii")}, extensions)
