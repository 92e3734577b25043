"""IANA protocol numbers as names, for the notifier's text and the local query output.

Source: IANA "Assigned Internet Protocol Numbers" registry (checked 2026-11). Flow logs carry the number.
"""

from __future__ import annotations

ICMP = 1
ICMPV6 = 58
ICMP_PROTOCOLS = frozenset({ICMP, ICMPV6})
# Protocols whose flows carry ports: TCP, UDP, DCCP, SCTP, UDP-Lite. Flow logs write 0 as the ports of every
# other protocol (AWS's own ICMP example is `... 203.0.113.12 172.31.16.139 0 0 1 4 336 ... REJECT OK`:
# docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html, checked 2026-11), and put no
# ICMP type or code there, so such a flow is shown by its protocol, never as "port 0".
PROTOCOLS_WITH_PORTS = frozenset({6, 17, 33, 132, 136})

PROTOCOL_NAMES: dict[int, str] = {
    ICMP: "icmp", 2: "igmp", 4: "ipip", 6: "tcp", 17: "udp", 41: "ipv6", 47: "gre", 50: "esp",
    33: "dccp", 51: "ah", ICMPV6: "icmpv6", 89: "ospf", 103: "pim", 112: "vrrp", 132: "sctp",
    136: "udplite",
}


def has_ports(protocol: int | None) -> bool:
    """False for ICMP and other protocols whose flow-log ports are meaningless zeros; unknown: True."""
    return protocol is None or protocol in PROTOCOLS_WITH_PORTS


def protocol_name(number: int | None) -> str:
    """`tcp` for 6; the number itself where it has no common name; `-` when unknown."""
    if number is None:
        return "-"
    return PROTOCOL_NAMES.get(number, str(number))
