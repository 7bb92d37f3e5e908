"""Where a webhook may be sent: SSRF checks of its URL, at registration and before every delivery.

A URL must be http or https, without a user name or password, and every address its host
resolves to must be a global unicast address: loopback, private (RFC 1918, ULA), shared
(100.64/10), link-local (169.254/16 with the cloud metadata service, fe80::/10), multicast,
unspecified, documentation and reserved addresses are refused, unless their network is listed in
WEBHOOK_ALLOWED_NETWORKS. A delivery connects to the address it checked (`Target.address`),
never to one resolved again afterwards, so a DNS answer that changes between the check and the
connection (DNS rebinding) reaches nothing unchecked.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from urllib.parse import SplitResult, urlsplit

from app.core.i18n import tr

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network
# host, port -> the addresses it resolves to (injectable: tests resolve names their own way).
Resolver = Callable[[str, int], Awaitable[list[str]]]


class Refused(Exception):
    """The URL may not be called; `message` says why, for a person."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind  # the error class of a delivery attempt: "refused_address" or "dns_error"


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses of `host`, as the system resolver answers."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class Target:
    """A checked URL: the address to connect to, and what to say to the server there."""

    url: str  # as registered
    address: Address
    parts: SplitResult

    @property
    def port(self) -> int:
        return self.parts.port or (443 if self.parts.scheme == "https" else 80)

    def connect_url(self) -> str:
        """The URL with the checked address in place of the host name."""
        host = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        path = self.parts.path or "/"
        query = f"?{self.parts.query}" if self.parts.query else ""
        return f"{self.parts.scheme}://{host}:{self.port}{path}{query}"

    def host_header(self) -> str:
        return self.parts.netloc

    @property
    def hostname(self) -> str:
        return self.parts.hostname or ""


def _plain(address: Address) -> Address:
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def allowed(address: Address, networks: Sequence[Network]) -> bool:
    """A global unicast address, or one in an allowed network."""
    address = _plain(address)
    if any(address.version == net.version and address in net for net in networks):
        return True
    return address.is_global and not address.is_multicast


def parse(url: str) -> SplitResult:
    """The URL's parts; Refused when it is not an http(s) URL with a host and nothing else."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port out of range raises here
    except ValueError:
        raise Refused(
            tr("a webhook URL must be http:// or https:// with a host"), "refused_address"
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(tr("a webhook URL must be http:// or https:// with a host"), "refused_address")
    if parts.username is not None or parts.password is not None:
        raise Refused(tr("a webhook URL must not carry a user name or password"), "refused_address")
    if parts.fragment or url.endswith("#"):
        raise Refused(tr("a webhook URL must have no fragment"), "refused_address")
    return parts


async def check(url: str, networks: Sequence[Network], resolver: Resolver = system_resolver) -> Target:
    """The address to deliver to; Refused when the URL, or any address its host resolves to, is not
    allowed (one refused address refuses the host: a resolver may answer with either)."""
    parts = parse(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses: list[Address] = [ip_address(host)]
    except ValueError:
        try:
            found = await resolver(host, port)
        except (OSError, UnicodeError):
            found = []
        addresses = []
        for text in found:
            try:
                addresses.append(ip_address(text.split("%", 1)[0]))
            except ValueError:
                continue
        if not addresses:
            raise Refused(tr("{host} does not resolve to an address", host=host), "dns_error") from None
    for address in addresses:
        if not allowed(address, networks):
            raise Refused(_not_reachable(host, _plain(address)), "refused_address")
    return Target(url, _plain(addresses[0]), parts)


def _not_reachable(host: str, address: Address) -> str:
    why = tr(
        "webhooks may not reach loopback, private, link-local, multicast or reserved addresses; an "
        "administrator can allow a network with WEBHOOK_ALLOWED_NETWORKS"
    )
    try:
        ip_address(host)
    except ValueError:
        return tr("{host} resolves to {address}: {why}", host=host, address=str(address), why=why)
    return tr("{address} cannot be reached: {why}", address=str(address), why=why)
