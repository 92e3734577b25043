"""The one validity rule for an archived flow (docs/architecture.md, The archived record).

The transform archives a flow-log line only when every value fits its field's rule here (else the line is
unreadable and goes to errors/), and the notifier counts an archived line as a flow by the same rule, so
whatever the transform archives the notifier counts.

- Numbers: AWS's documented ranges where AWS documents one (ports 0-65,535; `protocol` 0-255, an IANA
  protocol number; `start`/`end` Unix seconds, here 2010-01-01 up to 2100-01-01), else the Athena column's
  type (INT or BIGINT).
- Strings: the shape AWS documents for the field (addresses, account ids, resource ids, regions, zone ids,
  ARNs, enumerations); every other string, including fields the catalogue does not know, only has to be
  printable (`str.isprintable`: no control, format such as bidi overrides, surrogate, private-use or
  unassigned characters).
- `-` is null for every field and always valid.

Sources (AWS's words, checked 2026-12 by the transform engineer unless dated otherwise):
- "Flow log records", Available fields: https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html
  (`account-id` "may display `unknown`" for interfaces AWS services create; `start`/`end` "in Unix seconds";
  `protocol` "the IANA protocol number"; `type` IPv4 | IPv6 | EFA; `sublocation-type` wavelength | outpost |
  localzone; `pkt-src-aws-service` AMAZON | AMAZON_APPFLOW | ... | WORKSPACES_GATEWAYS; `flow-direction`
  ingress | egress; `log-status` OK | NODATA | SKIPDATA; `action` ACCEPT | REJECT).
- EC2 "Resource IDs": https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/resource-ids.html (a type prefix,
  a hyphen and 8 characters, `i-1a2b3c4d`, or, since 2016-2018, 17: `i-1234567890abcdef0`).
- Availability Zone ids: AWS's API references give `use1-az1` as the example ("an AZ ID for the us-east-1
  Region", e.g. EC2 CreateVolume `AvailabilityZoneId`,
  https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/ec2/aws.sdk.kotlin.services.ec2.model/-create-volume-request/availability-zone-id.html,
  looked up 2026-12-02); no page we found states the grammar.

Our own choices, not AWS's words (re-checked 2026-12-02: the search found no AWS page stating them), each
chosen to admit every value AWS's examples show and no space, markup or control character:
- `region` (`_REGION`): two to four letters, dash-separated words, a number (`us-east-1`, `us-gov-west-1`,
  `cn-north-1`, `eusc-de-east-1`), from the Region codes we know, not from a documented grammar.
- `az-id`, `next-hop-az-id` (`_ZONE_ID`): wider than the `use1-az1` example so that Local Zone and
  Wavelength ids (`usw2-lax1-az1`) fit.
- The ECS fields: names of letters, digits, `_` and `-` up to 255 (the rule we recall from Amazon ECS's
  CreateCluster / CreateService references, not re-checked here), ids also with `.`, and ARNs of the
  `arn:<partition>:ecs:<region>:<account>:` form.
- `reject-reason`, `interface-type`, `next-hop-interface-type`: a character class (letters, digits, `_`,
  `-`), since the flow-log page lists values (`BPA` for `reject-reason`) without a closed set.
- The tag fields and any `${field}` the catalogue does not know: printable text, since a tag value is
  free text.

Enumerations AWS extends (it added EFA to `type`, services to `pkt-src-aws-service`, reasons to
`reject-reason`) get a safe character-class shape rather than a closed list, so that a new value AWS
starts writing is archived instead of locking out real data; the shape still admits no markup character,
space or control character. Only `action` and `flow-direction` are closed lists: a flow is accepted or
rejected, and goes in or out of its interface.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from contracts.flowlog import ACTIONS, ATHENA_TYPE_MAX, athena_type, column_name

# TCP and UDP ports are 16-bit; an IANA protocol number is 8-bit.
MAX_PORT = 65_535
MAX_PROTOCOL = 255
# Flow times in Unix seconds. Below 2010 predates VPC Flow Logs (2015; AWS's own examples are of December
# 2014); 2100 is where the archive's partition projection ends. A time in milliseconds is above it (any
# millisecond time after 1970-02-17 is), so it can never pass as seconds.
FIRST_FLOW_TIME = 1_262_304_000  # 2010-01-01T00:00:00Z
LAST_FLOW_TIME = 4_102_444_799  # 2099-12-31T23:59:59Z

# Per numeric field, the smallest and largest value archived.
NUMERIC_RANGES: dict[str, tuple[int, int]] = {
    "srcport": (0, MAX_PORT),
    "dstport": (0, MAX_PORT),
    "protocol": (0, MAX_PROTOCOL),
    "start": (FIRST_FLOW_TIME, LAST_FLOW_TIME),
    "end": (FIRST_FLOW_TIME, LAST_FLOW_TIME),
}


def numeric_range(field: str) -> tuple[int, int] | None:
    """The range of a numeric field (AWS's, else its Athena type's); None for a string field."""
    if field in NUMERIC_RANGES:
        return NUMERIC_RANGES[field]
    maximum = ATHENA_TYPE_MAX.get(athena_type(field))
    return None if maximum is None else (0, maximum)


# Resource ids: a type prefix, a hyphen and 8 or 17 lowercase hex digits (EC2 "Resource IDs").
HEX_ID_DIGITS = (8, 17)
_HEX_ID = r"[0-9a-f]{8}(?:[0-9a-f]{9})?"
# Our own shapes (see "Our own choices" above), not grammars AWS states:
_REGION = r"[a-z]{2,4}(?:-[a-z]+)+-[0-9]{1,2}"  # us-east-1, us-gov-west-1, cn-north-1, eusc-de-east-1
_ZONE_ID = r"[a-z]{2,5}[0-9]{1,2}(?:-[a-z0-9]+)+"  # use1-az1 (AWS's example), usw2-lax1-az1 (a Local Zone)
_ACCOUNT = r"[0-9]{12}"
_ARN = rf"arn:aws(?:-[a-z]+)*:ecs:{_REGION}:{_ACCOUNT}:[A-Za-z0-9_./:-]{{1,1024}}"


@dataclass(frozen=True)
class Shape:
    """A string field's documented shape: a regular expression the whole value must match."""

    name: str
    pattern: str

    def matches(self, value: str) -> bool:
        return _compiled(self.pattern).fullmatch(value) is not None


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    compiled = _PATTERNS.get(pattern)
    if compiled is None:
        compiled = _PATTERNS[pattern] = re.compile(pattern, re.ASCII)
    return compiled


@dataclass(frozen=True)
class HexId(Shape):
    """`<prefix>` and 8 or 17 lowercase hex digits (checked apart because the transform's fast path
    checks a whole record's ids at once)."""

    prefix: str = ""


def hex_id(prefix: str) -> HexId:
    return HexId(f"{prefix}<8 or 17 hex digits>", re.escape(prefix) + _HEX_ID, prefix)


def is_address(value: str) -> bool:
    """An IPv4 address (dotted decimal, no leading zeros) or an IPv6 address, without a zone id."""
    if "%" in value or not value.isascii():
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Address(Shape):
    """An IPv4 or IPv6 address as flow logs write them (no zone id such as `%eth0`)."""

    def matches(self, value: str) -> bool:
        return is_address(value)


ADDRESS = Address("an IPv4 or IPv6 address", "")
ACCOUNT_ID = Shape("12 digits or `unknown`", rf"{_ACCOUNT}|unknown")
ANY_PRINTABLE = Shape("printable text", "")
_UPPER_ENUM = Shape("capitals, digits and `_`", r"[A-Z][A-Z0-9_]{0,63}")
_WORD_ENUM = Shape("letters, digits, `_` and `-`", r"[A-Za-z][A-Za-z0-9_-]{0,63}")
_ECS_NAME = Shape("letters, digits, `_` and `-` (up to 255)", r"[A-Za-z0-9_-]{1,255}")
_ECS_ID = Shape("letters, digits, `_`, `.` and `-`", r"[A-Za-z0-9_.-]{1,255}")
_ECS_ARN = Shape("an Amazon ECS ARN", _ARN)

# Every string field whose shape AWS documents; any other string field is ANY_PRINTABLE.
STRING_SHAPES: dict[str, Shape] = {
    "account-id": ACCOUNT_ID,
    "interface-id": hex_id("eni-"),
    "srcaddr": ADDRESS,
    "dstaddr": ADDRESS,
    "action": Shape("ACCEPT or REJECT", "|".join(sorted(ACTIONS))),
    "log-status": _UPPER_ENUM,  # OK | NODATA | SKIPDATA
    "vpc-id": hex_id("vpc-"),
    "subnet-id": hex_id("subnet-"),
    "instance-id": hex_id("i-"),
    "type": Shape("letters and digits", r"[A-Za-z][A-Za-z0-9]{0,15}"),  # IPv4 | IPv6 | EFA
    "pkt-srcaddr": ADDRESS,
    "pkt-dstaddr": ADDRESS,
    "region": Shape("a Region code", _REGION),
    "az-id": Shape("an Availability Zone id", _ZONE_ID),
    "sublocation-type": Shape("lowercase letters", r"[a-z][a-z0-9_-]{0,31}"),  # wavelength | outpost | ...
    "sublocation-id": Shape("lowercase letters, digits and `-`", r"[a-z0-9]+(?:-[a-z0-9]+)+"),
    "pkt-src-aws-service": _UPPER_ENUM,
    "pkt-dst-aws-service": _UPPER_ENUM,
    "flow-direction": Shape("ingress or egress", "ingress|egress"),
    "ecs-cluster-arn": _ECS_ARN,
    "ecs-cluster-name": _ECS_NAME,
    "ecs-container-instance-arn": _ECS_ARN,
    "ecs-container-instance-id": _ECS_ID,
    "ecs-container-id": _ECS_ID,
    "ecs-second-container-id": _ECS_ID,
    "ecs-service-name": _ECS_NAME,
    "ecs-task-definition-arn": _ECS_ARN,
    "ecs-task-arn": _ECS_ARN,
    "ecs-task-id": _ECS_ID,
    "reject-reason": _WORD_ENUM,  # BPA, ...
    "resource-id": Shape("a resource id", r"[a-z]+(?:-[a-z]+)*-" + _HEX_ID),
    "interface-type": _WORD_ENUM,
    "next-hop-interface-id": hex_id("eni-"),
    "next-hop-subnet-id": hex_id("subnet-"),
    "next-hop-az-id": Shape("an Availability Zone id", _ZONE_ID),
    "next-hop-vpc-id": hex_id("vpc-"),
    "next-hop-interface-type": _WORD_ENUM,
}


def string_shape(field: str) -> Shape:
    return STRING_SHAPES.get(field, ANY_PRINTABLE)


def string_problem(field: str, value: str) -> str | None:
    """Why `value` (not `-`) cannot be archived as `field`, or None."""
    if not value.isprintable():
        return f"{column_name(field)}: {value[:40]!r} holds a control or format character"
    shape = string_shape(field)
    if shape is ANY_PRINTABLE or shape.matches(value):
        return None
    return f"{column_name(field)}: {value[:40]!r} is not {shape.name}"


def number_problem(field: str, number: int) -> str | None:
    """Why `number` cannot be archived as the numeric `field`, or None."""
    bounds = numeric_range(field)
    assert bounds is not None, f"{field} is not numeric"
    low, high = bounds
    if low <= number <= high:
        return None
    return f"{column_name(field)}: {number} is out of range ({low:,} to {high:,})"


# The archived record, as the notifier reads it back (JSON types: `true` is not a number).
def archived_value_problem(column: str, value: object) -> str | None:
    """Why an archived JSON value is not what the transform writes for `column`, or None."""
    if value is None:
        return None
    field = column.replace("_", "-")
    if numeric_range(field) is not None:
        if type(value) is not int:
            return f"{column}: {value!r} is not a number"
        return number_problem(field, value)
    if type(value) is not str:
        return f"{column}: {value!r} is not a string"
    return string_problem(field, value)
