"""Which rejected sources are internal: private, shared (CGNAT) and unique-local ranges, plus the stack's own.

An event is a `warning` when any rejected source is internal (an application inside the network is being
refused: actionable) and `info` when only internet sources were (background scanning: noise). The
ranges: RFC 1918 (10/8, 172.16/12, 192.168/16), RFC 6598 shared address space (100.64/10), IPv6 unique
local addresses (fc00::/7, RFC 4193), plus any CIDRs listed in the `INTERNAL_CIDRS` variable.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket

from contracts.environment import INTERNAL_CIDRS

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

BUILT_IN_INTERNAL_CIDRS: tuple[str, ...] = (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",  # RFC 1918
    "100.64.0.0/10",  # RFC 6598: carrier-grade NAT, also used inside VPCs
    "fc00::/7",  # RFC 4193: IPv6 unique local addresses
)
# ::ffff:a.b.c.d carries an IPv4 address in an IPv6 one (RFC 4291 2.5.5.2): judged by its IPv4 part.
_V4_MAPPED_PREFIX = 0xFFFF


class InternalCidrsError(ValueError):
    """`INTERNAL_CIDRS` holds something that is not a CIDR; the message names the entry."""


def parse_internal_cidrs(text: str | None) -> tuple[IPNetwork, ...]:
    """Comma-separated CIDRs (`10.20.0.0/16, 2001:db8:42::/48`); blank entries are ignored."""
    networks: list[IPNetwork] = []
    for entry in (part.strip() for part in (text or "").split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=True))
        except ValueError as error:
            hint = ""
            with contextlib.suppress(ValueError):  # not even a CIDR with host bits set
                hint = f" (did you mean {ipaddress.ip_network(entry, strict=False)}?)"
            raise InternalCidrsError(
                f"{INTERNAL_CIDRS} entry {entry!r} is not a CIDR block: {error}{hint}; "
                f"set {INTERNAL_CIDRS} (stack config internalCidrs) to comma-separated CIDRs "
                "such as 10.20.0.0/16,2001:db8:42::/48"
            ) from None
    return tuple(networks)


class InternalNetworks:
    """Membership test of an address text in the internal ranges, without building `ip_address` objects.

    Called for every new source of a batch, so addresses are compared as integers under each range's mask.
    Anything that is not an IP address (null, `-`, garbage) is not internal. An IPv6 address with a zone
    id (`fd00::1%eth0`) is judged by its address.
    """

    __slots__ = ("_v4", "_v4_first_octets", "_v6", "networks")

    def __init__(self, extra: tuple[IPNetwork, ...] = ()) -> None:
        built_in = tuple(ipaddress.ip_network(cidr) for cidr in BUILT_IN_INTERNAL_CIDRS)
        self.networks: tuple[IPNetwork, ...] = built_in + tuple(n for n in extra if n not in built_in)
        self._v4 = tuple((int(n.network_address), int(n.netmask)) for n in self.networks if n.version == 4)
        self._v6 = tuple((int(n.network_address), int(n.netmask)) for n in self.networks if n.version == 6)
        # Most sources are internet addresses seen once: their first octet alone rules them out.
        self._v4_first_octets = frozenset(
            str(octet) for network, mask in self._v4
            for octet in range(network >> 24, ((network | ~mask & 0xFFFFFFFF) >> 24) + 1))

    def contains(self, address: object) -> bool:
        if type(address) is not str:
            return False
        try:
            if ":" in address:
                if "%" in address:
                    address = _without_zone(address)
                value = int.from_bytes(socket.inet_pton(socket.AF_INET6, address), "big")
                if value >> 32 != _V4_MAPPED_PREFIX:
                    return any(value & mask == network for network, mask in self._v6)
                value &= 0xFFFFFFFF
            elif address[:address.find(".")] not in self._v4_first_octets:
                return False
            else:
                value = int.from_bytes(socket.inet_pton(socket.AF_INET, address), "big")
        except (OSError, ValueError):  # not an address; ValueError: embedded NUL or non-ASCII text
            return False
        return any(value & mask == network for network, mask in self._v4)


def _without_zone(address: str) -> str:
    """`fd00::1%eth0` -> `fd00::1`: a zone id (RFC 4007 section 11) names a link, not a range.

    As Python's `ipaddress` reads it: the zone is what follows the first `%`, never empty and holding no
    other `%` nor a `/`; anything else is left for `inet_pton` to refuse.
    """
    bare, _, zone = address.partition("%")
    return bare if zone and "%" not in zone and "/" not in zone else address
