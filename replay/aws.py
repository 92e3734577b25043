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
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

from contracts.object_tags import PROGRESS_TAG, REPLAY_TAGS, REPLAYED_TAG, ObjectTags, TagError

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

    def tags(self, key: str) -> ObjectTags:
        answer = self._call("read the tags of", self.s3.get_object_tagging, Bucket=self.name, Key=key)
        return ObjectTags.from_tag_set(answer["TagSet"])

    def read(self, key: str) -> bytes:
        answer = self._call("read", self.s3.get_object, Bucket=self.name, Key=key)
        body: bytes = answer["Body"].read()
        return body

    def mark_replayed(self, key: str, existing: ObjectTags, when: str) -> None:
        """Tag the object replayed (dropping a progress tag), keeping its other tags."""
        self._write(key, _with(others(existing), REPLAYED_TAG, when))

    def mark_progress(self, key: str, existing: ObjectTags, done: int, sending: int = 0) -> None:
        """Record that the first `done` records are back and the next `sending` are about to be sent
        (a run stopped during that call may have put them); no progress at all drops the tag."""
        mine = others(existing)
        if done or sending:
            mine = _with(mine, PROGRESS_TAG, progress_value(done, sending))
        self._write(key, mine)

    def _write(self, key: str, tags: ObjectTags) -> None:
        # put_object_tagging replaces the whole set: `tags` holds every tag that is not replay's own.
        if not tags:  # no tag left: delete the set (moto 5.2.5 fails on an empty TagSet)
            self._call("tag", self.s3.delete_object_tagging, Bucket=self.name, Key=key)
            return
        self._call("tag", self.s3.put_object_tagging, Bucket=self.name, Key=key,
                   Tagging={"TagSet": tags.tag_set()})

    def _call(self, action: str, operation: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = operation(**kwargs)
        except (ClientError, BotoCoreError) as error:
            if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
                raise ReplaySetupError(NO_CREDENTIALS) from error
            raise ObjectAccessError(f"cannot {action} the object ({describe(error)})") from error
        return answer


def _with(tags: ObjectTags, key: str, value: str) -> ObjectTags:
    try:
        return tags.with_tag(key, value)
    except TagError as error:
        raise ObjectAccessError(f"cannot tag the object ({error})") from error


def is_replayed(tags: ObjectTags) -> bool:
    return REPLAYED_TAG in tags


def others(tags: ObjectTags) -> ObjectTags:
    """The object's tags that are not replay's own."""
    return tags.without(REPLAY_TAGS)


def progress(tags: ObjectTags) -> str | None:
    """The progress tag's value, if a run stopped part-way through this object."""
    return tags.get(PROGRESS_TAG)


def progress_value(done: int, sending: int) -> str:
    """`500` (500 records back), `500+500` (and the next 500 being sent)."""
    return f"{done}+{sending}" if sending else str(done)


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
    # Entries Firehose said it took, and calls whose answer never came (Firehose may have taken them).
    taken: int = field(default=0, init=False)
    unanswered: int = field(default=0, init=False)

    def put_record_batch(self, **kwargs: Any) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = self.client.put_record_batch(**kwargs)
        except (ClientError, BotoCoreError) as error:
            fatal = setup_error(error, f"delivery stream {self.name!r}")
            if fatal is not None and not isinstance(error, EndpointConnectionError):
                raise fatal from error
            self.last_error = describe(error)
            # An answer from Firehose, or no connection at all, means nothing was taken; a timeout or
            # a connection cut mid-call may hide a call that Firehose carried out.
            if not isinstance(error, (ClientError, EndpointConnectionError, ConnectTimeoutError)):
                self.unanswered += 1
            raise
        refused = [entry for entry in answer["RequestResponses"] if entry.get("ErrorCode")]
        self.taken += len(answer["RequestResponses"]) - len(refused)
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
