"""The archive's SQL, written once: Athena named queries in the stack, DuckDB in the local pipeline.

The SQL is the common subset of Athena (Trino) and DuckDB. `{table}` is the qualified table name;
`?` are positional execution parameters (Athena prompts for them; DuckDB binds them). Every query
is pinned to one day's partitions so Athena's partition projection prunes the scan.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.layout import PARTITION_KEYS


@dataclass(frozen=True)
class NamedQuery:
    name: str
    description: str
    sql_template: str
    parameters: tuple[str, ...]

    def sql(self, table: str) -> str:
        return self.sql_template.format(table=table)


_DAY = "year = ? AND month = ? AND day = ?"
_DAY_PARAMETERS = ("year", "month", "day")

TOP_REJECTED_SOURCES = NamedQuery(
    name="top-rejected-sources",
    description="Sources with the most rejected flows on one day (parameters: year, month, day).",
    sql_template=f"""SELECT srcaddr,
       count(*) AS flows,
       count(DISTINCT dstport) AS distinct_ports,
       count(DISTINCT interface_id) AS interfaces,
       sum(packets) AS packets
FROM {{table}}
WHERE {_DAY} AND action = 'REJECT'
GROUP BY srcaddr
ORDER BY flows DESC, srcaddr
LIMIT 25""",
    parameters=_DAY_PARAMETERS,
)

TOP_REJECTED_PORTS = NamedQuery(
    name="top-rejected-destination-ports",
    description="Destination ports most often rejected on one day (parameters: year, month, day).",
    sql_template=f"""SELECT dstport,
       protocol,
       count(*) AS flows,
       count(DISTINCT srcaddr) AS sources
FROM {{table}}
WHERE {_DAY} AND action = 'REJECT'
GROUP BY dstport, protocol
ORDER BY flows DESC, dstport
LIMIT 25""",
    parameters=_DAY_PARAMETERS,
)

PORT_SCANNERS = NamedQuery(
    name="port-scanners",
    description="Sources rejected on 10 or more distinct ports on one day (parameters: year, month, day).",
    sql_template=f"""SELECT srcaddr,
       count(DISTINCT dstport) AS distinct_ports,
       count(DISTINCT dstaddr) AS distinct_targets,
       count(*) AS flows,
       min(start) AS first_seen,
       max("end") AS last_seen
FROM {{table}}
WHERE {_DAY} AND action = 'REJECT'
GROUP BY srcaddr
HAVING count(DISTINCT dstport) >= 10
ORDER BY distinct_ports DESC, srcaddr
LIMIT 100""",
    parameters=_DAY_PARAMETERS,
)

INTERFACE_OVER_TIME = NamedQuery(
    name="interface-rejects-over-time",
    description=(
        "Rejected flows of one network interface in 5-minute windows on one day "
        "(parameters: year, month, day, interface id such as eni-0123456789abcdef0)."
    ),
    sql_template=f"""SELECT start - start % 300 AS window_start,
       count(*) AS flows,
       count(DISTINCT srcaddr) AS sources,
       sum(packets) AS packets,
       sum(bytes) AS bytes
FROM {{table}}
WHERE {_DAY} AND interface_id = ? AND action = 'REJECT'
GROUP BY start - start % 300
ORDER BY window_start""",
    parameters=(*_DAY_PARAMETERS, "interface_id"),
)

NAMED_QUERIES: tuple[NamedQuery, ...] = (
    TOP_REJECTED_SOURCES,
    TOP_REJECTED_PORTS,
    PORT_SCANNERS,
    INTERFACE_OVER_TIME,
)


def hour_query(table: str, partition: dict[str, int]) -> str:
    """A ready-to-run query for one archived hour, as linked from a Datadog event."""
    where = " AND ".join(f"{key} = {partition[key]}" for key in PARTITION_KEYS)
    return (
        f"SELECT srcaddr, dstport, count(*) AS flows FROM {table} "
        f"WHERE {where} AND action = 'REJECT' "
        "GROUP BY srcaddr, dstport ORDER BY flows DESC LIMIT 50"
    )
