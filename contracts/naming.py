"""Physical names of the resources other parts refer to by name before they exist."""

from __future__ import annotations

import re
from dataclasses import dataclass

from contracts.environment import DEFAULT_ATHENA_TABLE

# Lambda function and Firehose stream names are at most 64 characters.
MAX_NAME = 64
# What every named resource accepts: Lambda functions and SQS queues allow letters, digits, hyphens and
# underscores only (no `.`), SNS topics the same; Firehose streams, IAM and Athena allow more. Pulumi
# allows `.` in stack names (`prod.eu`), so anything else in the prefix becomes a hyphen.
_NOT_NAME_SAFE = re.compile(r"[^A-Za-z0-9_-]")


def name_safe(text: str) -> str:
    """`rejected-flows-prod.eu` -> `rejected-flows-prod-eu`: valid for Lambda, Firehose, IAM, SQS, SNS."""
    return _NOT_NAME_SAFE.sub("-", text)


@dataclass(frozen=True)
class Names:
    project: str
    stack: str

    @property
    def prefix(self) -> str:
        """Project and stack, safe for every resource name (a stack `prod.eu` gives `...-prod-eu`)."""
        return name_safe(f"{self.project}-{self.stack}")

    def _named(self, suffix: str) -> str:
        name = f"{self.prefix}-{suffix}"
        if len(name) > MAX_NAME:
            raise ValueError(f"{name!r} is longer than {MAX_NAME} characters: use a shorter stack name")
        return name

    @property
    def delivery_stream(self) -> str:
        return self._named("flows")

    @property
    def transform_function(self) -> str:
        return self._named("transform")

    @property
    def notifier_function(self) -> str:
        return self._named("notifier")

    @property
    def athena_workgroup(self) -> str:
        return self.prefix

    @property
    def glue_database(self) -> str:
        """Glue/Athena database names: lower case letters, digits and underscores."""
        return re.sub(r"[^a-z0-9_]", "_", self.prefix.lower())

    @property
    def glue_table(self) -> str:
        return DEFAULT_ATHENA_TABLE

    @property
    def bucket_prefix(self) -> str:
        """S3 names are lower case letters, digits and hyphens; Pulumi appends a random suffix (≤ 37 + 26)."""
        return re.sub(r"[^a-z0-9-]", "-", self.prefix.lower())[:36].rstrip("-") + "-"

    @property
    def subscription_filter(self) -> str:
        return self.prefix

    @property
    def log_destination(self) -> str:
        """The CloudWatch Logs destination member accounts subscribe to (same name in every region)."""
        return self._named("flows")

    @property
    def baseline_table(self) -> str:
        """The baseline's DynamoDB table (3-255 letters, digits, `_-.`): output baselineTableName."""
        return self._named("baseline")

    @property
    def alarm_topic(self) -> str:
        """SNS topic names: letters, digits, hyphens and underscores, at most 256."""
        return self._named("alarms")

    def alarm(self, what: str) -> str:
        """CloudWatch alarm names (<= 255): the prefix keeps the stacks of one account apart."""
        return f"{self.prefix}-{what}"
