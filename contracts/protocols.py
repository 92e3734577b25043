"""IANA protocol numbers as names, for the notifier's text and the local query output.

Source: IANA "Assigned Internet Protocol Numbers" registry (checked 2026-11). Flow logs carry the number.
"""

from __future__ import annotations

ICMP = 1
ICMPV6 = 58
ICMP_PROTOCOLS = frozenset({ICMP, ICMPV6})

PROTOCOL_NAMES: dict[int, str] = {
    ICMP: "icmp", 2: "igmp", 4: "ipip", 6: "tcp", 17: "udp", 41: "ipv6", 47: "gre", 50: "esp",
    51: "ah", ICMPV6: "icmpv6", 89: "ospf", 103: "pim", 112: "vrrp", 132: "sctp",
}


def protocol_name(number: int | None) -> str:
    """`tcp` for 6; the number itself where it has no common name; `-` when unknown."""
    if number is None:
        return "-"
    return PROTOCOL_NAMES.get(number, str(number))
