"""Who may read /metrics: clients in METRICS_ALLOWED_NETWORKS, or anyone with METRICS_TOKEN.

The metrics name every route and show traffic and database health, so they are not public. The
client address is the connection's peer as uvicorn reports it (behind a reverse proxy, the
proxy's, unless uvicorn is told to trust its forwarding headers).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from app.core.errors import AppError
from app.core.i18n import tr
from app.core.settings import Settings


class MetricsUnauthenticated(AppError):
    status, slug = 401, "unauthenticated"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="metrics"'})


class MetricsForbidden(AppError):
    status, slug = 403, "forbidden"


@dataclass(frozen=True)
class MetricsAccess:
    networks: tuple[IPv4Network | IPv6Network, ...]
    token_digest: bytes | None  # SHA-256 of METRICS_TOKEN: compared in constant time, any length

    @classmethod
    def from_settings(cls, settings: Settings) -> MetricsAccess:
        token = settings.metrics_token
        digest = _sha256(token.get_secret_value()) if token is not None else None
        return cls(tuple(settings.metrics_allowed_networks), digest)

    def check(self, client_host: str | None, authorization: str | None) -> None:
        """Return when the request may read the metrics; raise the problem to answer otherwise."""
        if self._allowed(client_host):
            return
        if self.token_digest is None:
            raise MetricsForbidden(tr("the metrics cannot be read from this address"))
        scheme, _, credential = (authorization or "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(_sha256(credential.strip()), self.token_digest):
            return
        raise MetricsUnauthenticated(tr("the metrics need the metrics bearer token from this address"))

    def _allowed(self, client_host: str | None) -> bool:
        address = _address(client_host)
        if address is None:
            return False
        return any(address.version == net.version and address in net for net in self.networks)


def _sha256(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def _address(host: str | None) -> IPv4Address | IPv6Address | None:
    """The peer's IP address; an IPv4 client of a dual-stack socket (::ffff:a.b.c.d) as IPv4."""
    if not host:
        return None
    try:
        address = ip_address(host)
    except ValueError:
        return None  # not an IP address (a Unix socket, a test client's name): not trusted
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
