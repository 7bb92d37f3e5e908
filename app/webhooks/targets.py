"""Where a webhook may be sent: SSRF checks of its URL, at registration and before every delivery.

A URL must be http or https, without a user name or password, and every address its host
resolves to must be a global unicast address: loopback, private (RFC 1918, ULA), shared
(100.64/10), link-local (169.254/16 with the cloud metadata service, fe80::/10), multicast,
unspecified, documentation, benchmarking, reserved and the other IANA special-purpose addresses
are refused, and so is an IPv6 address embedding (IPv4-mapped, -translated, -compatible, 6to4,
NAT64) an IPv4 address that would be refused, unless their network is listed in
WEBHOOK_ALLOWED_NETWORKS. The refusal is explicit, not left to `ipaddress.is_global` alone (which
calls some special-purpose ranges global on older Pythons, CVE-2024-4032).

A host name is sent in its ASCII (IDNA) form, as the resolver looked it up, in the Host header
and the TLS server name. A delivery connects to the address it checked (`Target.address`),
never to one resolved again afterwards, so a DNS answer that changes between the check and the
connection (DNS rebinding) reaches nothing unchecked.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from urllib.parse import SplitResult, urlsplit

from app.core.i18n import tr

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network
# host, port -> the addresses it resolves to (injectable: tests resolve names their own way).
Resolver = Callable[[str, int], Awaitable[list[str]]]

# IANA special-purpose ranges (and the usual non-global ones, explicitly), never reachable unless
# an allowed network says so.
DENIED: tuple[Network, ...] = tuple(
    ip_network(net)
    for net in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/96",  # unspecified, loopback, IPv4-compatible
        "::ffff:0:0/96",  # IPv4-mapped
        "::ffff:0:0:0/96",  # IPv4-translated
        "64:ff9b::/96",  # NAT64
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "2002::/16",  # 6to4
        "3fff::/20",
        "5f00::/16",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)
_NAT64 = ip_network("64:ff9b::/96")
_TRANSLATED = ip_network("::ffff:0:0:0/96")
_COMPATIBLE = ip_network("::/96")


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
    host: str = ""  # the host in ASCII: the IDNA form of a name, or the address literal

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
        """The URL's host (ASCII) and port as written, for the Host header."""
        host = self.hostname
        if ":" in host:
            host = f"[{host}]"
        return host if self.parts.port is None else f"{host}:{self.parts.port}"

    @property
    def hostname(self) -> str:
        """The host in ASCII, for the Host header and the TLS server name."""
        return self.host or ascii_host(self.parts.hostname or "")


def ascii_host(host: str) -> str:
    """`host` as the resolver looks it up: a name in its IDNA (punycode) form; UnicodeError when
    it has none."""
    if host.isascii():
        return host
    return host.encode("idna").decode("ascii")


def _plain(address: Address) -> Address:
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _embedded(address: Address) -> list[IPv4Address]:
    """The IPv4 addresses an IPv6 address carries: IPv4-mapped, -translated, -compatible, 6to4,
    NAT64 (well-known prefix)."""
    if not isinstance(address, IPv6Address):
        return []
    found = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
    if any(address in net for net in (_NAT64, _TRANSLATED, _COMPATIBLE)):
        found.append(IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def _refused(address: Address) -> bool:
    if (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, IPv6Address) and address.is_site_local)
        or not address.is_global
    ):
        return True
    return any(address.version == net.version and address in net for net in DENIED)


def allowed(address: Address, networks: Sequence[Network]) -> bool:
    """A global unicast address (carrying no refused IPv4 address), or one in an allowed network."""
    address = _plain(address)
    if any(address.version == net.version and address in net for net in networks):
        return True
    return not any(_refused(a) for a in [address, *_embedded(address)])


def parse(url: str) -> SplitResult:
    """The URL's parts; Refused when it is not an http(s) URL with a host and nothing else."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port out of range raises here
    except ValueError:
        raise Refused(
            tr("a webhook URL must be http:// or https:// with a host"), "refused_address"
        ) from None
    # Port 0 names no port: the connection would go to the default one, the Host header say :0.
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.port == 0:
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
            found = await resolver(ascii_host(host), port)
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
    return Target(url, _plain(addresses[0]), parts, ascii_host(host))


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
