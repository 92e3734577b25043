"""The stack's Athena named queries, run with DuckDB over the archive as files (`<out>/s3/<bucket>/...`).

The table has every archived column, typed as the Glue table types them, whatever the flow-log format
carried (JSON keys that are absent read as NULL), plus the hour partitions from the Hive-style keys.
Results are written raw to CSV (epoch seconds, protocol numbers, as Athena returns them) and shown for
people in Markdown (UTC times, protocol names).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from contracts.flowlog import ALL_FIELDS, PROVENANCE_COLUMNS, athena_type, column_name
from contracts.layout import DATA_PREFIX, GZIP_EXTENSION, PARTITION_KEYS
from contracts.protocols import protocol_name
from contracts.queries import NAMED_QUERIES, NamedQuery

DUCKDB_TYPES = {"int": "INTEGER", "bigint": "BIGINT", "string": "VARCHAR"}
# Result columns holding epoch seconds (flow-log `start`/`end` and what the named queries derive from them).
TIME_COLUMNS = frozenset({"start", "end", "first_seen", "last_seen", "window_start"})
PROTOCOL_COLUMNS = frozenset({"protocol"})


@dataclass(frozen=True)
class QueryResult:
    name: str
    description: str
    parameters: dict[str, Any]
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


def archive_columns() -> dict[str, str]:
    columns = {column_name(field): DUCKDB_TYPES[athena_type(field)] for field in ALL_FIELDS}
    columns.update({column: "VARCHAR" for column in PROVENANCE_COLUMNS})
    return columns


def _sql_struct(mapping: dict[str, str]) -> str:
    return "{" + ", ".join(f"'{key}': '{value}'" for key, value in mapping.items()) + "}"


def create_table(con: duckdb.DuckDBPyConnection, bucket_root: Path, table: str) -> int:
    """A view `table` over `<bucket_root>/rejected/**/*.gz`; returns its row count."""
    files = sorted((bucket_root / DATA_PREFIX).rglob(f"*{GZIP_EXTENSION}"))
    columns = archive_columns()
    if not files:
        partitions = ", ".join(f"{key} INTEGER" for key in PARTITION_KEYS)
        fields = ", ".join(f'"{name}" {kind}' for name, kind in columns.items())
        con.execute(f'CREATE OR REPLACE TABLE "{table}" ({fields}, {partitions})')
        return 0
    pattern = str(bucket_root / DATA_PREFIX) + f"/**/*{GZIP_EXTENSION}"
    hive_types = _sql_struct({key: "INTEGER" for key in PARTITION_KEYS})
    con.execute(
        f"""CREATE OR REPLACE VIEW "{table}" AS SELECT * FROM read_json(
            '{pattern}', format = 'newline_delimited', compression = 'gzip',
            hive_partitioning = true, hive_types = {hive_types}, columns = {_sql_struct(columns)})"""
    )
    return con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # type: ignore[index]


def busiest_day(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int, int] | None:
    row = con.execute(
        f'SELECT year, month, day FROM "{table}" GROUP BY ALL '
        "ORDER BY count(*) DESC, year, month, day LIMIT 1"
    ).fetchone()
    return None if row is None else (row[0], row[1], row[2])


def busiest_interface(con: duckdb.DuckDBPyConnection, table: str, day: tuple[int, int, int]) -> str | None:
    row = con.execute(
        f"""SELECT interface_id FROM "{table}"
            WHERE year = ? AND month = ? AND day = ? AND action = 'REJECT' AND interface_id IS NOT NULL
            GROUP BY interface_id ORDER BY count(*) DESC, interface_id LIMIT 1""",
        list(day),
    ).fetchone()
    return None if row is None else row[0]


def run_named_queries(
    con: duckdb.DuckDBPyConnection,
    table: str,
    day: tuple[int, int, int],
    interface_id: str | None,
    queries: Sequence[NamedQuery] = NAMED_QUERIES,
) -> list[QueryResult]:
    """Every named query, its parameters taken from the day of the data and its busiest interface."""
    values: dict[str, Any] = dict(zip(("year", "month", "day"), day, strict=True))
    values["interface_id"] = interface_id
    results = []
    for query in queries:
        parameters = {name: values[name] for name in query.parameters}
        cursor = con.execute(query.sql(f'"{table}"'), list(parameters.values()))
        columns = tuple(description[0] for description in cursor.description)
        results.append(QueryResult(query.name, query.description, parameters, columns,
                                   tuple(tuple(row) for row in cursor.fetchall())))
    return results


def write_results(results: Sequence[QueryResult], directory: Path) -> list[Path]:
    """Each result as `<name>.csv` and together as `results.md`."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for result in results:
        path = directory / f"{result.name}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(result.columns)
            writer.writerows(result.rows)
        paths.append(path)
    markdown = directory / "results.md"
    markdown.write_text("\n".join(markdown_table(result) for result in results), encoding="utf-8")
    paths.append(markdown)
    return paths


def markdown_table(result: QueryResult, limit: int | None = None) -> str:
    parameters = ", ".join(f"{key}={value}" for key, value in result.parameters.items())
    lines = [f"### {result.name} ({parameters})", "", "| " + " | ".join(result.columns) + " |",
             "|" + "---|" * len(result.columns)]
    rows = result.rows if limit is None else result.rows[:limit]
    for row in rows:
        cells = (readable(column, value) for column, value in zip(result.columns, row, strict=True))
        lines.append("| " + " | ".join(cells) + " |")
    if limit is not None and len(result.rows) > limit:
        more = len(result.rows) - limit
        lines.append(f"| … {more:,} more row{'' if more == 1 else 's'} |")
    if not result.rows:
        lines.append("| (no rows) |")
    return "\n".join(lines) + "\n"


def readable(column: str, value: Any) -> str:
    """A result cell for people: epoch seconds as UTC time, protocol numbers as names."""
    if value is None:
        return ""
    if column in TIME_COLUMNS and isinstance(value, int):
        return datetime.fromtimestamp(value, tz=UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    if column in PROTOCOL_COLUMNS and isinstance(value, int):
        return protocol_name(value)
    return str(value)
