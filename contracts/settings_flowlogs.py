"""The flow-log keys of the stack config: flowLogFormat's refusals and flowLogTagKeys' fields.

Pure (no Pulumi): `contracts.settings` reads the keys through these.

- `${action}` is required: the pipeline keeps REJECT flows, told apart by that field alone.
- Transit Gateway flow logs are out of scope: their records have no `action` field; what a transit
  gateway drops shows in the `packets-lost-no-route`, `-blackhole`, `-mtu-exceeded` and `-ttl-expired`
  counters of otherwise ordinary records ("Transit Gateway Flow Log records", Amazon VPC Transit
  Gateways guide, checked 2026-12). A format naming their fields is refused with that reason rather
  than told to "add ${action}", which no Transit Gateway flow log can.
- flowLogTagKeys adds VPC Flow Logs v11's `${instance-tag}` / `${interface-tag}` to the flow logs the
  stack creates, with the flow log's TagFieldSpecifications naming the tag keys (resource types
  `instance` and `network-interface`; "Flow log records", Amazon VPC user guide, and pulumi-aws 7.51
  `aws.ec2.FlowLog(tag_field_specifications=...)`, checked 2026-12).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from contracts.flowlog import DEFAULT_FORMAT, RICH_FORMAT, FlowLogFormat, FlowLogFormatError, parse_format
from contracts.settings_groups import FlowLogTagKeys

# Fields that only Transit Gateway flow logs have (the `tgw-*` ids, the `packets-lost-*` counters and
# `resource-type`, TransitGateway or TransitGatewayAttachment).
_TRANSIT_GATEWAY_FIELD = re.compile(r"\$\{(tgw-[a-z0-9-]+|packets-lost-[a-z0-9-]+|resource-type)\}")
TRANSIT_GATEWAY_REASON = (
    "their records have no action field (what a transit gateway drops is counted in "
    "packets-lost-no-route, -blackhole, -mtu-exceeded and -ttl-expired), so they hold no rejected flow "
    "to archive; subscribe a log group of VPC Flow Logs instead"
)

# Flow-log field -> (flowLogTagKeys key, TagFieldSpecification resource type).
TAG_FIELDS: dict[str, tuple[str, str]] = {
    "instance-tag": ("instance", "instance"),
    "interface-tag": ("interface", "network-interface"),
}
# EC2 tag keys: 1-128 characters; `aws:` is reserved for AWS's own tags.
MAX_TAG_KEY = 128


def flow_log_format(key: str, raw: str, existing_log_group: str | None,
                    error: type[ValueError]) -> FlowLogFormat:
    """Empty means the rich format for flow logs the stack creates, AWS's default for an existing group.

    `error` is the caller's exception class (SettingsError); the message names `key`.
    """
    text = raw.strip() or (RICH_FORMAT if existing_log_group is None else DEFAULT_FORMAT)
    transit = _TRANSIT_GATEWAY_FIELD.findall(text)
    if transit:
        raise error(f"config {key} names Transit Gateway fields ({', '.join(dict.fromkeys(transit))}). "
                    f"Transit Gateway flow logs are out of scope: {TRANSIT_GATEWAY_REASON}.")
    if "${action}" not in text.split():
        raise error(
            f"config {key} has no ${{action}} field: it is required, since the stack archives the flows "
            "whose action is REJECT. Add ${action} to the format (and to the flow logs that deliver into "
            "the group: a format is fixed when a flow log is created). If these are Transit Gateway flow "
            f"logs, they are out of scope: {TRANSIT_GATEWAY_REASON}."
        )
    try:
        return parse_format(text)
    except FlowLogFormatError as problem:
        raise error(f"config {key}: {problem}") from problem


def tag_keys(values: Mapping[str, Any]) -> FlowLogTagKeys:
    """`{"instance": "Name", "interface": "Name"}` -> the keys; anything else is refused."""
    known = {name for name, _ in TAG_FIELDS.values()}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"{unknown} are not flow-log tag kinds: use {sorted(known)}, e.g. "
                         '{"instance": "Name", "interface": "Name"}')
    chosen: dict[str, str] = {}
    for kind, tag_key in values.items():
        if not isinstance(tag_key, str) or not tag_key.strip():
            raise ValueError(f"{kind}: a tag key such as \"Name\" is needed, got {tag_key!r}")
        tag_key = tag_key.strip()
        if len(tag_key) > MAX_TAG_KEY or tag_key.lower().startswith("aws:"):
            raise ValueError(f"{kind}: {tag_key!r} is not a tag key you can set (1-{MAX_TAG_KEY} "
                             "characters, not starting with aws:)")
        chosen[kind] = tag_key
    return FlowLogTagKeys(instance=chosen.get("instance"), interface=chosen.get("interface"))


def tag_fields(keys: FlowLogTagKeys) -> tuple[str, ...]:
    """The flow-log fields `keys` fills, in the catalogue's order."""
    chosen = {"instance": keys.instance, "interface": keys.interface}
    return tuple(field for field, (kind, _) in TAG_FIELDS.items() if chosen[kind] is not None)


def tag_specifications(keys: FlowLogTagKeys) -> list[tuple[str, str]]:
    """(TagFieldSpecification resource type, tag key) for each kind `keys` names."""
    chosen = {"instance": keys.instance, "interface": keys.interface}
    return [(resource_type, tag_key) for kind, resource_type in TAG_FIELDS.values()
            if (tag_key := chosen[kind]) is not None]


def with_tag_fields(fmt: FlowLogFormat, keys: FlowLogTagKeys, *, vpc_ids: tuple[str, ...],
                    existing_log_group: str | None) -> FlowLogFormat:
    """The format with the tag fields of `keys` appended (those not already in it).

    Only flow logs the stack creates (vpcIds) can carry them: the stack sets their format and tag keys.
    Into an existing group, whose other flow logs keep the format they were created with, the fields
    must already be in flowLogFormat, so that every flow log of the group writes the same fields.
    """
    if not keys:
        return fmt
    if not vpc_ids:
        raise ValueError(
            "the tag fields go into flow logs the stack creates, and this stack creates none (vpcIds is "
            "empty): a flow log's format and tag keys are fixed when it is created, so add "
            "${instance-tag} / ${interface-tag} and their tag keys where those flow logs are created, "
            "name the fields in flowLogFormat, and unset flowLogTagKeys"
        )
    missing = [field for field in tag_fields(keys) if field not in fmt.fields]
    if existing_log_group is not None and missing:
        raise ValueError(
            f"the stack's flow logs deliver into the existing group {existing_log_group}, whose other flow "
            f"logs keep their own format: add {' '.join('${' + f + '}' for f in missing)} to "
            "flowLogFormat only if every flow log of that group writes them"
        )
    return FlowLogFormat((*fmt.fields, *missing)) if missing else fmt
