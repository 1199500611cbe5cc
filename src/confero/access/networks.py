"""IP allow-lists and the client address behind trusted proxies (contract §3)."""

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from confero.errors import ValidationFailed

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_network(text: str) -> Network:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError as exc:
        raise ValidationFailed(
            "allow", f"'{text}' is not an IPv4/IPv6 address or CIDR range"
        ) from exc


def normalise_networks(texts: Iterable[str]) -> list[str]:
    """Validated, de-duplicated, in the order given."""
    seen: dict[str, None] = {}
    for text in texts:
        seen[str(parse_network(text))] = None
    return list(seen)


@lru_cache(maxsize=1024)
def _networks(texts: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(t, strict=False) for t in texts)


@lru_cache(maxsize=4096)  # three times per call, for a handful of clients
def parse_address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket arrives as ::ffff:a.b.c.d.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def is_allowed(address_text: str, allowed: Iterable[str]) -> bool:
    address = parse_address(address_text)
    if address is None:
        return False
    return any(address in network for network in _networks(tuple(allowed)))


def client_address(peer: str, forwarded_for: str | None, trusted_proxies: Iterable[str]) -> str:
    """The peer address, unless the peer is a trusted proxy: then the right-most address of
    X-Forwarded-For that is not itself a trusted proxy. Untrusted peers' headers are ignored."""
    trusted = tuple(trusted_proxies)
    if not trusted or not is_allowed(peer, trusted):
        return _normalised(peer)
    hops = [hop.strip() for hop in (forwarded_for or "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not is_allowed(hop, trusted):
            # A garbled hop ("203.0.113.9:5555", as some proxies write it) is the client address
            # too: no allow-list admits it, and whatever lies left of it the client wrote itself.
            return _normalised(hop)
    return _normalised(hops[0]) if hops else _normalised(peer)


def _normalised(text: str) -> str:
    address = parse_address(text)
    if address is not None:
        return str(address)
    # Not an address: kept for the message and the call log, printable and short.
    return "".join(char if char.isprintable() else "?" for char in text)[:45]
