"""VPC Flow Logs fields, formats, filter pattern and columns (docs/architecture.md, The archived record).

One definition of every flow-log fact the stack, the handlers, the local pipeline and the tests share.
Field names are AWS's (`account-id`); columns are the archived keys and Athena columns (`account_id`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Fields in the order AWS documents them, by the version that introduced them. Versions 9-11 as AWS's
# "Flow log records" page lists them ("Available fields",
# https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html, checked 2026-11):
# `resource-id` (9), `encryption-status` (10, VPC Encryption Controls: 0 cleartext, 1 Nitro-encrypted,
# 2 application-encrypted, 3 both; https://docs.aws.amazon.com/vpc/latest/userguide/vpc-encryption-controls.html),
# and the tag, interface-type and next-hop fields (11). AWS keeps adding fields: a `${field}` missing here
# is still accepted and archived as a string (see `unknown_fields`).
FIELDS_BY_VERSION: dict[int, tuple[str, ...]] = {
    2: (
        "version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport",
        "protocol", "packets", "bytes", "start", "end", "action", "log-status",
    ),
    3: ("vpc-id", "subnet-id", "instance-id", "tcp-flags", "type", "pkt-srcaddr", "pkt-dstaddr"),
    4: ("region", "az-id", "sublocation-type", "sublocation-id"),
    5: ("pkt-src-aws-service", "pkt-dst-aws-service", "flow-direction", "traffic-path"),
    7: (
        "ecs-cluster-arn", "ecs-cluster-name", "ecs-container-instance-arn", "ecs-container-instance-id",
        "ecs-container-id", "ecs-second-container-id", "ecs-service-name", "ecs-task-definition-arn",
        "ecs-task-arn", "ecs-task-id",
    ),
    8: ("reject-reason",),
    9: ("resource-id",),
    10: ("encryption-status",),
    11: (
        "instance-tag", "instance-tag-2", "interface-tag", "interface-tag-2", "asg-tag", "asg-tag-2",
        "interface-type", "next-hop-interface-id", "next-hop-subnet-id", "next-hop-az-id",
        "next-hop-vpc-id", "next-hop-interface-type",
    ),
}
ALL_FIELDS: tuple[str, ...] = tuple(f for fields in FIELDS_BY_VERSION.values() for f in fields)
FIELD_VERSION: dict[str, int] = {f: v for v, fields in FIELDS_BY_VERSION.items() for f in fields}

# Athena types of AWS's documented flow-log table; fields not listed (and unknown fields) are strings.
NUMERIC_FIELD_TYPES: dict[str, str] = {
    "version": "int",
    "srcport": "int",
    "dstport": "int",
    "protocol": "bigint",
    "packets": "bigint",
    "bytes": "bigint",
    "start": "bigint",
    "end": "bigint",
    "tcp-flags": "int",
    "traffic-path": "int",
    # A numeric code (0-3) in AWS's documentation and examples.
    "encryption-status": "int",
}
NUMERIC_FIELDS: frozenset[str] = frozenset(NUMERIC_FIELD_TYPES)
# The largest value each Athena integer type holds: a larger number makes a flow-log line unreadable.
ATHENA_TYPE_MAX: dict[str, int] = {"int": 2**31 - 1, "bigint": 2**63 - 1}
# Versions 2-11 stamp a line with the highest version among the format's fields.
LATEST_KNOWN_VERSION = max(FIELDS_BY_VERSION)

ACTIONS: frozenset[str] = frozenset({"ACCEPT", "REJECT"})
DEFAULT_KEEP_ACTIONS: tuple[str, ...] = ("REJECT",)
NOT_APPLICABLE = "-"

# Provenance columns the transform adds to every archived record (docs/architecture.md, The archived record).
PROVENANCE_COLUMNS: tuple[str, ...] = ("log_group", "log_stream")


def column_name(field: str) -> str:
    """`account-id` -> `account_id`: the archived key and Athena column of a flow-log field."""
    return field.replace("-", "_")


def athena_type(field: str) -> str:
    return NUMERIC_FIELD_TYPES.get(field, "string")


def format_string(fields: Iterable[str]) -> str:
    return " ".join(f"${{{f}}}" for f in fields)


DEFAULT_FORMAT = format_string(FIELDS_BY_VERSION[2])
# For flow logs the stack creates itself: everything of versions 2-5 (every VPC supports them).
RICH_FORMAT = format_string(FIELDS_BY_VERSION[2] + FIELDS_BY_VERSION[3] + FIELDS_BY_VERSION[4]
                            + FIELDS_BY_VERSION[5])

_TOKEN = re.compile(r"\$\{([a-z0-9-]+)\}")


class FlowLogFormatError(ValueError):
    """A flow-log format string or keep-actions list the pipeline cannot work with."""


@dataclass(frozen=True)
class FlowLogFormat:
    """A parsed `${field} ${field} ...` format: the order of fields in every line."""

    fields: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(column_name(f) for f in self.fields)

    @property
    def numeric(self) -> tuple[bool, ...]:
        return tuple(f in NUMERIC_FIELDS for f in self.fields)

    @property
    def maxima(self) -> tuple[int | None, ...]:
        """Per field, the largest number its Athena column holds (None for string fields)."""
        return tuple(ATHENA_TYPE_MAX.get(athena_type(f)) for f in self.fields)

    @property
    def version(self) -> int:
        """AWS stamps a custom format with the highest version among its fields.

        A field the catalogue does not know is newer than every field it knows.
        """
        if any(f not in FIELD_VERSION for f in self.fields):
            return LATEST_KNOWN_VERSION + 1
        return max(FIELD_VERSION[f] for f in self.fields)

    @property
    def text(self) -> str:
        return format_string(self.fields)

    @property
    def header(self) -> str:
        """The line that names the fields, as flow logs delivered to S3 or Firehose may start."""
        return " ".join(self.fields)

    def index_of(self, field: str) -> int:
        return self.fields.index(field)


def parse_format(text: str | None) -> FlowLogFormat:
    """Parse AWS's `${field-name}` syntax; `None` or blank means the default version-2 format."""
    if text is None or not text.strip():
        return FlowLogFormat(FIELDS_BY_VERSION[2])
    tokens = text.split()
    fields: list[str] = []
    for token in tokens:
        match = _TOKEN.fullmatch(token)
        if match is None:
            raise FlowLogFormatError(
                f"flow-log format token {token!r} is not of the form ${{field-name}}; "
                f"example: {DEFAULT_FORMAT!r}"
            )
        field = match.group(1)
        if field in fields:
            raise FlowLogFormatError(f"flow-log field {field!r} appears twice in the format")
        fields.append(field)
    if "action" not in fields:
        raise FlowLogFormatError(
            "the flow-log format has no ${action} field, so REJECT flows cannot be told apart; "
            "add ${action} to the format"
        )
    return FlowLogFormat(tuple(fields))


def unknown_fields(fmt: FlowLogFormat) -> tuple[str, ...]:
    """Fields of `fmt` the catalogue does not know: archived as strings, worth a warning at deploy."""
    return tuple(f for f in fmt.fields if f not in FIELD_VERSION)


def parse_keep_actions(text: str | Iterable[str] | None) -> frozenset[str]:
    """`"REJECT"`, `"ACCEPT,REJECT"` or a list -> the set of actions to archive."""
    if text is None:
        return frozenset(DEFAULT_KEEP_ACTIONS)
    items = text.split(",") if isinstance(text, str) else list(text)
    actions = frozenset(a.strip().upper() for a in items if a.strip())
    if not actions:
        return frozenset(DEFAULT_KEEP_ACTIONS)
    unknown = actions - ACTIONS
    if unknown:
        raise FlowLogFormatError(
            f"keep actions {sorted(unknown)} are not flow-log actions; use ACCEPT and/or REJECT"
        )
    return actions


def subscription_filter_pattern(fmt: FlowLogFormat, keep_actions: Iterable[str]) -> str:
    """The CloudWatch Logs filter pattern that ships only the lines worth keeping.

    A space-delimited pattern names every field, so lines with another field count never match.
    With both actions kept there is no condition on `action`: the transform still drops NODATA and
    SKIPDATA lines (their action is `-`).
    """
    actions = sorted(set(keep_actions))
    terms = []
    for field, column in zip(fmt.fields, fmt.columns, strict=True):
        if field == "action" and len(actions) == 1:
            terms.append(f"{column} = {actions[0]}")
        else:
            terms.append(column)
    return "[" + ", ".join(terms) + "]"
