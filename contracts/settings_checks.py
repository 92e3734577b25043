"""Checks of the stack config that need where the stack deploys (its region and partition).

Pure: the program calls them once the region is known (`aws:region`, else the provider's).
"""

from __future__ import annotations

import re

# arn:<partition>:sns:<region>:<account>:<topic>
_TOPIC_ARN = re.compile(r"arn:(?P<partition>aws[a-z-]*):sns:(?P<region>[a-z0-9-]+):\d{12}:.+")
# Region prefixes of the partitions other than `aws` (AWS General Reference, "AWS partitions",
# checked 2026-12): China, GovCloud (US), the ISO partitions and the European Sovereign Cloud.
_PARTITION_PREFIXES: tuple[tuple[str, str], ...] = (
    ("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"), ("us-isob-", "aws-iso-b"), ("us-iso-", "aws-iso"),
    ("eu-isoe-", "aws-iso-e"), ("us-isof-", "aws-iso-f"), ("eusc-", "aws-eusc"),
)


class AlarmTopicRegionError(ValueError):
    """alarmTopicArn names a topic the stack's alarms cannot notify; the message says what to set."""


def partition_of(region: str) -> str:
    """The partition a region belongs to (`eu-west-1` -> `aws`, `cn-north-1` -> `aws-cn`)."""
    return next((partition for prefix, partition in _PARTITION_PREFIXES if region.startswith(prefix)), "aws")


def check_alarm_topic(topic_arn: str, *, region: str, partition: str) -> str:
    """`topic_arn` if the stack's alarms can notify it, else AlarmTopicRegionError naming both regions.

    CloudWatch alarms can notify only an SNS topic of their own region (CloudWatch user guide, "Using
    Amazon CloudWatch alarms", alarm actions; checked 2026-12), and the stack subscribes `alarmEmail`
    to that same topic.
    """
    match = _TOPIC_ARN.fullmatch(topic_arn)
    if match is None:
        raise AlarmTopicRegionError(
            f"config alarmTopicArn must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>), "
            f"got {topic_arn!r}"
        )
    if match["partition"] != partition or match["region"] != region:
        raise AlarmTopicRegionError(
            f"config alarmTopicArn is a topic in {match['region']} ({match['partition']}) but this stack "
            f"deploys to {region} ({partition}): CloudWatch alarms can notify only a topic of their own "
            f"region. Use a topic in {region}, or unset alarmTopicArn and the stack creates one."
        )
    return topic_arn
