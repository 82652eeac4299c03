"""Who the client is on the network: the address that rate limits and quotas count.

The connection's peer, unless that peer is one of PLAYGROUND_TRUSTED_PROXIES (addresses or
CIDRs): then X-Forwarded-For is read from the right, skipping trusted proxies, and the
first address no trusted proxy vouches for is the client (nginx's real_ip_recursive). A
client talking to the app directly cannot choose its address, whatever it sends; one behind
the proxies can only add entries to the left of what they wrote, which are never read.

The same rule serves HTTP requests (`client_ip`) and websockets (`scope_ip`).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: list[str] | tuple[str, ...]) -> tuple[Network, ...]:
    """Addresses or CIDRs; a bad one is an ImproperlyConfigured naming it."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(f"PLAYGROUND_TRUSTED_PROXIES: {entry!r} is not an "
                                       "IP address or CIDR (e.g. 10.0.0.0/8)") from None
    return tuple(networks)


@lru_cache(maxsize=8)
def _trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return parse_networks(entries)


def _trusted(address: str) -> bool:
    networks = _trusted_networks(tuple(settings.PLAYGROUND_TRUSTED_PROXIES))
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def real_ip(peer: str, forwarded_for: str) -> str:
    """The client's address, from the connection's peer and its X-Forwarded-For."""
    address = peer
    if not _trusted(peer):
        return address
    for hop in reversed([a.strip() for a in forwarded_for.split(",") if a.strip()]):
        address = hop
        if not _trusted(hop):
            break
    return address


def client_ip(request: HttpRequest) -> str:
    return real_ip(request.META.get("REMOTE_ADDR", ""),
                   request.META.get("HTTP_X_FORWARDED_FOR", ""))


def scope_ip(scope: dict[str, Any]) -> str:
    """`client_ip` of a websocket's ASGI scope."""
    peer = (scope.get("client") or ("",))[0] or ""
    forwarded = ",".join(value.decode("latin-1") for name, value in scope.get("headers", ())
                         if name.lower() == b"x-forwarded-for")
    return real_ip(peer, forwarded)


def counted_as(address: str) -> str:
    """What limits count: the address, or for IPv6 its /64 (one subscriber's network, in
    which it may pick any address)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


def client_key(request: HttpRequest) -> str:
    """What limits count for this request (django-axes's client address too)."""
    return counted_as(client_ip(request))
