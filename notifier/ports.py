"""Destination ports of a batch as counter keys: one small int per (port, protocol), and back. Pure.

A protocol without ports (ICMP, GRE...) is counted under its name alone: flow logs write 0 as its ports.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.protocols import has_ports, protocol_name

# Keys: (protocol + 1) << 32 | (port + 1); 0 in either half stands for "none". One int hashes faster
# than a tuple, and this runs once per flow.
_PORT_BITS = 32
_PORT_MASK = (1 << _PORT_BITS) - 1


def port_key(port: int | None, protocol: int | None) -> int:
    """The counter key of a destination; `port` must be None for a protocol without ports."""
    return ((0 if protocol is None else protocol + 1) << _PORT_BITS) | (0 if port is None else port + 1)


@dataclass(frozen=True)
class PortRow:
    port: int | None
    protocol: int | None
    flows: int

    @property
    def label(self) -> str:
        """`22/tcp`; a protocol without ports by its name alone (`icmp`), never `0/icmp`."""
        if not has_ports(self.protocol):
            return protocol_name(self.protocol)
        port = "-" if self.port is None else str(self.port)
        return port if self.protocol is None else f"{port}/{protocol_name(self.protocol)}"


def port_row(key: int, flows: int) -> PortRow:
    protocol, port = key >> _PORT_BITS, key & _PORT_MASK
    return PortRow(port - 1 if port else None, protocol - 1 if protocol else None, flows)
