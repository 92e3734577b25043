"""The edge: S3 (list, read, tag) and Firehose (PutRecordBatch), with AWS errors turned into ours.

Clients come from boto3's default credential chain (environment, shared config and SSO, container or
instance role) and honour the service-specific endpoint variables `AWS_ENDPOINT_URL_S3` and
`AWS_ENDPOINT_URL_FIREHOSE` as well as `AWS_ENDPOINT_URL`: botocore resolves them itself (AWS SDKs and
Tools Reference Guide, "Service-specific endpoints", `AWS_ENDPOINT_URL_<SERVICE>`,
https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html; checked 2026-11).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

# The tag a replayed object carries (value: when, in UTC); an object with it is skipped.
REPLAYED_TAG = "rejected-flows-replayed"
# On an object Firehose accepted only part of: how many of its records (from its start) went back, so
# a re-run resumes after them instead of putting them twice. Replaced by REPLAYED_TAG once done.
PROGRESS_TAG = "rejected-flows-replay-progress"
_OURS = frozenset({REPLAYED_TAG, PROGRESS_TAG})
# S3 allows at most 10 tags per object; replay keeps the others (the notifier's among them).
S3_MAX_TAGS = 10

_CREDENTIAL_CODES = frozenset({
    "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException",
    "InvalidClientTokenId", "UnrecognizedClientException", "InvalidSignatureException", "InvalidToken",
})
_ACCESS_CODES = frozenset({"AccessDenied", "AccessDeniedException", "AllAccessDisabled"})
NO_CREDENTIALS = ("no AWS credentials found: boto3 looks in the environment (AWS_ACCESS_KEY_ID, "
                  "AWS_PROFILE), ~/.aws/config and credentials (SSO: `aws sso login`) and the instance "
                  "or container role")


class ReplaySetupError(RuntimeError):
    """Nothing can be replayed as invoked (credentials, region, bucket, stream): exit code 2."""


class ObjectAccessError(RuntimeError):
    """One object could not be read or tagged; the others go on."""


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def describe(error: BotoCoreError | ClientError) -> str:
    if isinstance(error, ClientError):
        message = error.response.get("Error", {}).get("Message")
        return f"{error_code(error)}: {message}" if message else error_code(error)
    return str(error)


def setup_error(error: BotoCoreError | ClientError, what: str) -> ReplaySetupError | None:
    """The setup problem an error reveals about `what` (a bucket or a stream), or None if it is not one."""
    # (A missing region is found when the clients are made, before any call: see `clients`.)
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return ReplaySetupError(NO_CREDENTIALS)
    if isinstance(error, EndpointConnectionError):
        return ReplaySetupError(f"cannot reach {what}: {error}")
    if not isinstance(error, ClientError):
        return None
    message = _refusal_message(error, what)
    return ReplaySetupError(message) if message else None


def _refusal_message(error: ClientError, what: str) -> str | None:
    """What to fix when AWS refused a call on `what` for a setup reason; None for any other refusal."""
    code = error_code(error)
    if code == "NoSuchBucket":
        return f"{what} does not exist (check `pulumi stack output bucketName` and the account you are using)"
    if code == "ResourceNotFoundException":
        return (f"{what} does not exist in this account and region (check `pulumi stack output "
                f"deliveryStreamName` and AWS_REGION)")
    if code in _CREDENTIAL_CODES:
        return f"AWS refused the credentials ({describe(error)}); refresh them"
    if code in _ACCESS_CODES:
        return f"access denied to {what} ({describe(error)})"
    return None


def clients() -> tuple[Any, Any]:
    """S3 and Firehose clients from the default chain; a missing region is a setup error.

    A new session each time: boto3's default session keeps the credentials it found first, and a
    process may replay more than once (the local demo, the tests)."""
    session = boto3.session.Session()
    try:
        return session.client("s3"), session.client("firehose")
    except NoRegionError as error:
        raise ReplaySetupError("no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or a profile's region) "
                               "to the stack's region") from error
    except (NoCredentialsError, PartialCredentialsError) as error:
        raise ReplaySetupError(NO_CREDENTIALS) from error


@dataclass
class Bucket:
    """The archive bucket: the keys under a prefix, each object's tags and body, and the replayed mark."""

    s3: Any
    name: str

    def keys(self, prefix: str) -> list[str]:
        keys: list[str] = []
        try:
            for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=prefix):
                keys += [item["Key"] for item in page.get("Contents", [])]
        except (ClientError, BotoCoreError) as error:
            raise setup_error(error, f"bucket {self.name!r}") or ReplaySetupError(
                f"cannot list s3://{self.name}/{prefix}: {describe(error)}") from error
        return keys

    def tags(self, key: str) -> list[dict[str, str]]:
        answer = self._call("read the tags of", self.s3.get_object_tagging, Bucket=self.name, Key=key)
        return list(answer["TagSet"])

    def read(self, key: str) -> bytes:
        answer = self._call("read", self.s3.get_object, Bucket=self.name, Key=key)
        body: bytes = answer["Body"].read()
        return body

    def mark_replayed(self, key: str, existing: list[dict[str, str]], when: str) -> None:
        """Tag the object replayed (dropping a progress tag), keeping its other tags."""
        self._set_ours(key, existing, REPLAYED_TAG, when)

    def mark_progress(self, key: str, existing: list[dict[str, str]], accepted: int) -> None:
        """Record that the first `accepted` records are back in the stream, keeping the other tags."""
        self._set_ours(key, existing, PROGRESS_TAG, str(accepted))

    def _set_ours(self, key: str, existing: list[dict[str, str]], name: str, value: str) -> None:
        # put_object_tagging replaces the whole set: keep every tag that is not replay's own.
        tag_set = [*others(existing), {"Key": name, "Value": value}]
        self._call("tag", self.s3.put_object_tagging, Bucket=self.name, Key=key, Tagging={"TagSet": tag_set})

    def _call(self, action: str, operation: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = operation(**kwargs)
        except (ClientError, BotoCoreError) as error:
            if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
                raise ReplaySetupError(NO_CREDENTIALS) from error
            raise ObjectAccessError(f"cannot {action} the object ({describe(error)})") from error
        return answer


def is_replayed(tags: list[dict[str, str]]) -> bool:
    return any(tag.get("Key") == REPLAYED_TAG for tag in tags)


def others(tags: list[dict[str, str]]) -> list[dict[str, str]]:
    """The object's tags that are not replay's own."""
    return [tag for tag in tags if tag.get("Key") not in _OURS]


def progress(tags: list[dict[str, str]]) -> str | None:
    """The progress tag's value, if a run was interrupted on this object."""
    return next((tag["Value"] for tag in tags if tag.get("Key") == PROGRESS_TAG), None)


@dataclass
class Stream:
    """A Firehose client for `Reingester` that stops at once on errors no retry can fix.

    The transform's `Reingester` retries every client error; for a command run by hand, a stream that
    does not exist or credentials that are refused end the run with exit code 2 instead. It also keeps
    Firehose's last refusal, for the message that names an object left untagged.
    """

    client: Any
    name: str
    last_error: str = field(default="", init=False)

    def put_record_batch(self, **kwargs: Any) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = self.client.put_record_batch(**kwargs)
        except (ClientError, BotoCoreError) as error:
            fatal = setup_error(error, f"delivery stream {self.name!r}")
            if fatal is not None and not isinstance(error, EndpointConnectionError):
                raise fatal from error
            self.last_error = describe(error)
            raise
        refused = [entry for entry in answer["RequestResponses"] if entry.get("ErrorCode")]
        if refused:
            code, message = refused[0]["ErrorCode"], refused[0].get("ErrorMessage")
            self.last_error = f"{code}: {message}" if message else code
        return answer

    def check(self) -> None:
        """Fail early if the stream does not exist. Callers may lack DescribeDeliveryStream (only
        PutRecordBatch is needed), so any other answer leaves the check to the first put."""
        try:
            self.client.describe_delivery_stream(DeliveryStreamName=self.name)
        except (ClientError, BotoCoreError) as error:
            fatal = setup_error(error, f"delivery stream {self.name!r}")
            if fatal is not None and not _merely_unchecked(error):
                raise fatal from error


def _merely_unchecked(error: BotoCoreError | ClientError) -> bool:
    """Errors of the describe call that say nothing about putting records (a narrower IAM policy)."""
    return isinstance(error, ClientError) and error_code(error) in _ACCESS_CODES
