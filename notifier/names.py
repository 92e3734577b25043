"""Names for what was hit: the instance's or interface's tag value that VPC Flow Logs v11 can carry.

With the flow log's tag field specifications (stack config `flowLogTagKeys`), a flow carries the value
of a chosen tag (e.g. `Name`) of the instance and of the interface it was recorded on, archived as
`instance_tag` and `interface_tag` (contracts/flowlog.py). The interface's own tag is preferred, then
the instance's. A flow names its interface (a target), and names its source as well when it was
recorded leaving it (`flow_direction` `egress`, v5). Tag values are user text: they are shown only
through `notifier.display`, never as markup. Bounded: at most `MAX_NAMES` names of each kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts.flowlog import column_name

# The archived columns of `${interface-tag}` and `${instance-tag}`, the interface's first.
NAME_FIELDS: tuple[str, ...] = (column_name("interface-tag"), column_name("instance-tag"))
MAX_NAMES = 2000
EGRESS = "egress"


@dataclass(frozen=True)
class HitNames:
    interfaces: Mapping[str, str] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)

    def of(self, value: str | None) -> str | None:
        """The name of an interface id or an internal source address, if a flow carried one."""
        if value is None:
            return None
        return self.interfaces.get(value) or self.sources.get(value)


class NameCollector:
    __slots__ = ("interfaces", "sources")

    def __init__(self) -> None:
        self.interfaces: dict[str, str] = {}
        self.sources: dict[str, str] = {}

    def add(self, record: dict[str, Any], internal: bool) -> None:
        get = record.get
        name = get(NAME_FIELDS[0]) or get(NAME_FIELDS[1])
        if type(name) is not str or not name:
            return
        interface = get("interface_id")
        if type(interface) is str and interface not in self.interfaces and len(self.interfaces) < MAX_NAMES:
            self.interfaces[interface] = name
        source = get("srcaddr")
        if (internal and get("flow_direction") == EGRESS and type(source) is str
                and source not in self.sources and len(self.sources) < MAX_NAMES):
            self.sources[source] = name

    def result(self) -> HitNames:
        return HitNames(dict(self.interfaces), dict(self.sources))
