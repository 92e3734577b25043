"""Many accounts and regions: which stack mode the config asks for, and the shapes of its values.

A central stack (the default) owns the stream, archive, notifier and Athena; with source accounts or an
organisation it also owns a CloudWatch Logs destination per region that member accounts subscribe to.
A member stack (`centralDestinationArn` set) owns only its flow logs, their log group and the
subscription to the central destination. Pure: no Pulumi, no AWS calls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Where flow logs created by the stack go (`flowLogDestination`).
FLOW_LOGS_TO_CLOUDWATCH = "cloudwatch"
FLOW_LOGS_TO_FIREHOSE = "firehose"
FLOW_LOG_DESTINATIONS = (FLOW_LOGS_TO_CLOUDWATCH, FLOW_LOGS_TO_FIREHOSE)

# The tag the AWSServiceRoleForLogDelivery service-linked role requires on a stream before it puts
# vended logs (flow logs) into it: its policy allows firehose:PutRecord(Batch) only where
# aws:ResourceTag/LogDeliveryEnabled is "true" (CloudWatch Logs user guide, "Logs sent to Firehose";
# AWS managed policy AWSServiceRoleForLogDeliveryPolicy, checked 2026-11). AWS adds it when a flow log
# is created; the stack declares it so that a later `pulumi up` does not take it away.
LOG_DELIVERY_TAG = ("LogDeliveryEnabled", "true")

_ACCOUNT_ID = re.compile(r"\d{12}")
# AWS Organizations ids: "o-" and 10 to 32 lower-case letters or digits.
_ORGANIZATION_ID = re.compile(r"o-[a-z0-9]{10,32}")
_REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}")
_DESTINATION_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):logs:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):destination:(?P<name>[^:*]+)"
)


class CollectionError(ValueError):
    """A mode or a cross-account value that cannot work; the message says what to set."""


@dataclass(frozen=True)
class DestinationArn:
    partition: str
    region: str
    account_id: str
    name: str


def parse_account_ids(items: tuple[str, ...]) -> tuple[str, ...]:
    bad = [item for item in items if not _ACCOUNT_ID.fullmatch(item)]
    if bad:
        raise CollectionError(f"{bad} are not 12-digit AWS account ids")
    return tuple(dict.fromkeys(items))


def parse_organization_id(text: str) -> str | None:
    if not text:
        return None
    if not _ORGANIZATION_ID.fullmatch(text):
        raise CollectionError(f"{text!r} is not an AWS Organizations id (o- and 10-32 letters or digits)")
    return text


def parse_regions(items: tuple[str, ...]) -> tuple[str, ...]:
    bad = [item for item in items if not _REGION.fullmatch(item)]
    if bad:
        raise CollectionError(f"{bad} are not AWS region names such as eu-west-1")
    return tuple(dict.fromkeys(items))


def parse_destination_arn(text: str) -> DestinationArn | None:
    if not text:
        return None
    match = _DESTINATION_ARN.fullmatch(text)
    if match is None:
        raise CollectionError(
            f"{text!r} is not a CloudWatch Logs destination ARN "
            "(arn:aws:logs:<region>:<central account>:destination:<name>, the central stack's "
            "logDestinationArns output for this stack's region)"
        )
    return DestinationArn(match["partition"], match["region"], match["account"], match["name"])


@dataclass(frozen=True)
class Collection:
    """The cross-account part of the settings, checked for combinations that cannot work."""

    source_account_ids: tuple[str, ...]
    organization_id: str | None
    source_regions: tuple[str, ...]
    central_destination: DestinationArn | None
    flow_log_destination: str

    @property
    def is_member(self) -> bool:
        return self.central_destination is not None

    @property
    def has_destinations(self) -> bool:
        """A central stack that other accounts subscribe to."""
        return bool(self.source_account_ids) or self.organization_id is not None

    @property
    def flow_logs_to_firehose(self) -> bool:
        return self.flow_log_destination == FLOW_LOGS_TO_FIREHOSE


def check_collection(
    collection: Collection, *, vpc_ids: tuple[str, ...], existing_log_group: str | None,
) -> None:
    """Refuse combinations that have no meaning, naming the keys to change."""
    central_keys = [key for key, given in (
        ("sourceAccountIds", collection.source_account_ids),
        ("organizationId", collection.organization_id),
        ("sourceRegions", collection.source_regions),
    ) if given]
    if collection.is_member and central_keys:
        raise CollectionError(
            f"centralDestinationArn makes this a member stack, which owns no destinations: unset "
            f"{', '.join(central_keys)} (they belong to the central stack's config)"
        )
    if collection.is_member and collection.flow_logs_to_firehose:
        raise CollectionError(
            "flowLogDestination firehose is for flow logs of a central stack's own account: a member "
            "stack ships through the central CloudWatch Logs destination (set flowLogDestination "
            "cloudwatch)"
        )
    if collection.source_account_ids and collection.organization_id:
        raise CollectionError(
            "set either sourceAccountIds or organizationId, not both: the destination policy grants "
            "exactly the listed accounts or every account of the organisation"
        )
    if collection.source_regions and not collection.has_destinations:
        raise CollectionError(
            "sourceRegions creates destinations for other accounts: set sourceAccountIds or "
            "organizationId too (log groups of this account in another region can subscribe to the "
            "stream directly)"
        )
    if collection.flow_logs_to_firehose and not vpc_ids:
        raise CollectionError(
            "flowLogDestination firehose applies to flow logs the stack creates: set vpcIds"
            + (f" (the existing group {existing_log_group} is subscribed either way)" if existing_log_group
               else "")
        )
