"""Header mode: which requests come from the authenticating reverse proxy.

The identity header is believed only on a request that carries the proxy's shared
secret (DASHBOARD_AUTH_PROXY_SECRET, in the header SECRET_HEADER) or whose connection
comes from one of the proxy's addresses (DASHBOARD_AUTH_PROXY_ADDRESSES: IPs or CIDR
networks, comma-separated). With neither configured nobody is believed (fail closed).

Behind `serve --workers N` the workers see every connection coming from the sticky proxy
on 127.0.0.1: the sticky proxy makes the decision above with the real peer address, and
tells the workers with a secret of its own, made at start and handed to them in
WORKER_SECRET_ENV, which then replaces the settings in the workers.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass

from dashboard.core import config

SECRET_HEADER = "X-Dashboard-Proxy-Secret"
WORKER_SECRET_ENV = "DASHBOARD_WORKER_PROXY_SECRET"  # internal: launcher → workers
_LOOPBACK = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

NOT_CONFIGURED = (
    "Le mode d'identification par en-tête (DASHBOARD_AUTH_MODE=header) exige de "
    "configurer DASHBOARD_AUTH_PROXY_SECRET (un secret que le proxy ajoute dans l'en-tête "
    f"{SECRET_HEADER}) ou DASHBOARD_AUTH_PROXY_ADDRESSES (les adresses du proxy) : sans "
    "l'un des deux, personne n'est admis.")


@dataclass(frozen=True)
class ProxyTrust:
    """The shared secret and the addresses that mark a request as the proxy's."""

    secret: str | None = None
    networks: tuple[Network, ...] = ()

    @property
    def configured(self) -> bool:
        """Whether anything at all can be trusted."""
        return bool(self.secret) or bool(self.networks)

    def trusts(self, secret_values: Sequence[str], peer: str | None) -> bool:
        """Whether a request with these SECRET_HEADER values from PEER is the proxy's.

        PEER None stands for a loopback connection: Streamlit's `st.context.ip_address`
        hides 127.0.0.1 and ::1 that way.
        """
        if self.secret and len(secret_values) == 1:
            # Constant time: the comparison must not tell how much of a guess was right.
            if hmac.compare_digest(secret_values[0].strip().encode(), self.secret.encode()):
                return True
        return self.networks != () and _in_networks(peer, self.networks)


def _in_networks(peer: str | None, networks: tuple[Network, ...]) -> bool:
    if peer is None:
        candidates = _LOOPBACK
    else:
        try:
            ip = ipaddress.ip_address(peer.strip())
        except ValueError:
            return False
        mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:10.0.0.2 is 10.0.0.2
        candidates = (mapped or ip,)
    return any(ip in net for ip in candidates for net in networks)


def parse_addresses(raw: str | None) -> tuple[Network, ...]:
    """The networks of a comma-separated list of IPs and CIDRs; ValueError if one is bad."""
    out = []
    for item in (raw or "").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"DASHBOARD_AUTH_PROXY_ADDRESSES : {item!r} n'est ni une "
                             "adresse IP ni un réseau (CIDR, comme 10.0.0.0/24)") from None
    return tuple(out)


def from_settings() -> ProxyTrust:
    """The trust in force: the sticky proxy's own secret in a worker, else the settings."""
    worker_secret = os.environ.get(WORKER_SECRET_ENV)
    if worker_secret:
        return ProxyTrust(secret=worker_secret)
    secret = (config.get("DASHBOARD_AUTH_PROXY_SECRET") or "").strip() or None
    return ProxyTrust(secret, parse_addresses(config.get("DASHBOARD_AUTH_PROXY_ADDRESSES")))
