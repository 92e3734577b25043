"""The thin AWS layer: read-only calls, each answer turned into plain facts (`preflight.facts`).

Credentials come from boto3's chain (`aws:profile` when the stack sets one); boto3 itself honours
`AWS_ENDPOINT_URL` and the per-service `AWS_ENDPOINT_URL_<SERVICE>`, which "overrides any global endpoint
set in AWS_ENDPOINT_URL" (AWS SDKs and Tools reference guide, "Service-specific endpoints",
https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html, checked 2026-12). Only
Describe/Get/List/Simulate calls are made. A call that cannot be answered raises `UnavailableError` with
the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import botocore.config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, PartialCredentialsError
from botocore.parsers import ResponseParserError

from preflight import resources
from preflight.facts import (
    CredentialsError,
    Decision,
    Existing,
    FlowLog,
    Identity,
    LogGroup,
    SubscriptionFilter,
    Topic,
    UnavailableError,
)

# A preflight is interactive: a few quick attempts, not the SDK's patient defaults.
CLIENT_CONFIG = botocore.config.Config(
    retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=15,
)
REFUSED_CREDENTIALS = frozenset({
    "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "SignatureDoesNotMatch",
    "UnrecognizedClientException", "InvalidAccessKeyId", "AuthFailure",
})
# Failures that say nothing about the resource: the network, the endpoint, an answer that is not AWS's
# (ResponseParserError is not a BotoCoreError: an endpoint that lacks the API may answer an HTML page).
TRANSPORT_ERRORS = (BotoCoreError, ResponseParserError)
LOG_DELIVERY_ROLE = "AWSServiceRoleForLogDelivery"
# IAM's SimulatePrincipalPolicy takes "a list of names of API operations to evaluate"; 25 per call
# keeps each request small.
SIMULATION_BATCH = 25


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _unavailable(operation: str, error: Exception) -> UnavailableError:
    if isinstance(error, ClientError):
        message = error.response.get("Error", {}).get("Message", "")
        return UnavailableError(f"{operation} answered {error_code(error)}: {message}".rstrip(": "))
    if isinstance(error, ResponseParserError):
        return UnavailableError(f"{operation}: the endpoint's answer is not AWS's (it may lack this API)")
    first_line = (str(error).splitlines() or [type(error).__name__])[0]
    return UnavailableError(f"{operation} failed: {first_line[:200]}")


class Account:
    """The account as the stack's credentials see it, in the stack's region."""

    def __init__(self, region: str, profile: str | None = None):
        self.region = region
        self._session = boto3.Session(region_name=region, profile_name=profile)
        self._clients: dict[str, Any] = {}
        self.partition = str(self._session.get_partition_for_region(region))

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._session.client(service, config=CLIENT_CONFIG)
        return self._clients[service]

    def _call(self, service: str, operation: str, *, missing: frozenset[str] = frozenset(),
              **kwargs: Any) -> dict[str, Any] | None:
        """One call; None when AWS answers with one of the `missing` error codes (a resource not there)."""
        method: Callable[..., dict[str, Any]] = getattr(self._client(service), operation)
        try:
            return method(**kwargs)
        except ClientError as error:
            if error_code(error) in missing:
                return None
            raise _unavailable(f"{service}:{operation}", error) from error
        except TRANSPORT_ERRORS as error:
            raise _unavailable(f"{service}:{operation}", error) from error

    def _pages(self, service: str, operation: str, key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        paginator = self._client(service).get_paginator(operation)
        try:
            for page in paginator.paginate(**kwargs):
                yield from page.get(key, [])
        except (ClientError, *TRANSPORT_ERRORS) as error:
            raise _unavailable(f"{service}:{operation}", error) from error

    def identity(self) -> Identity:
        try:
            answer = self._client("sts").get_caller_identity()
        except (NoCredentialsError, PartialCredentialsError) as error:
            raise CredentialsError(f"no AWS credentials found ({error})") from error
        except ClientError as error:
            if error_code(error) in REFUSED_CREDENTIALS:
                raise CredentialsError(f"AWS refused the credentials: {error_code(error)}") from error
            raise _unavailable("sts:GetCallerIdentity", error) from error
        except TRANSPORT_ERRORS as error:
            raise _unavailable("sts:GetCallerIdentity", error) from error
        return Identity(account=str(answer["Account"]), arn=str(answer["Arn"]))

    def log_group(self, name: str) -> LogGroup | None:
        for group in self._pages("logs", "describe_log_groups", "logGroups", logGroupNamePrefix=name):
            if group.get("logGroupName") == name:
                return LogGroup(name=name, log_group_class=str(group.get("logGroupClass") or "STANDARD"))
        return None

    def subscription_filters(self, group: str) -> list[SubscriptionFilter]:
        found = self._pages("logs", "describe_subscription_filters", "subscriptionFilters",
                            logGroupName=group)
        return [SubscriptionFilter(str(f["filterName"]), str(f.get("destinationArn", ""))) for f in found]

    def flow_logs(self, name: str, values: list[str]) -> list[FlowLog]:
        """Flow logs matched by one DescribeFlowLogs filter (`log-group-name`, `resource-id`)."""
        return [_flow_log(f) for f in self._pages("ec2", "describe_flow_logs", "FlowLogs",
                                                  Filters=[{"Name": name, "Values": values}])]

    def existing_vpcs(self, vpc_ids: list[str]) -> set[str]:
        """The VPCs of `vpc_ids` that exist (a filter, unlike VpcIds=, does not fail on a missing one)."""
        return {str(v["VpcId"]) for v in self._pages("ec2", "describe_vpcs", "Vpcs",
                                                     Filters=[{"Name": "vpc-id", "Values": vpc_ids}])}

    def log_delivery_role_exists(self) -> bool:
        return self._call("iam", "get_role", missing=frozenset({"NoSuchEntity"}),
                          RoleName=LOG_DELIVERY_ROLE) is not None

    def topic(self, arn: str) -> Topic | None:
        answer = self._call("sns", "get_topic_attributes", missing=frozenset({"NotFound"}), TopicArn=arn)
        if answer is None:
            return None
        return Topic(arn=arn, kms_master_key_id=answer.get("Attributes", {}).get("KmsMasterKeyId"))

    def existing(self, wanted: tuple[resources.Named, ...], account: str) -> list[Existing]:
        """Those of `wanted` that exist, each with its tags."""
        lookups = {
            resources.LOG_GROUP: self._log_group_tags, resources.STREAM: self._stream_tags,
            resources.FUNCTION: self._function_tags, resources.DATABASE: self._database_tags,
            resources.WORKGROUP: self._workgroup_tags,
        }
        found = []
        for named in wanted:
            tags = lookups[named.kind](named.name, account)
            if tags is not None:
                found.append(Existing(named.kind, named.name, tags))
        return found

    def _log_group_tags(self, name: str, account: str) -> dict[str, str] | None:
        if self.log_group(name) is None:
            return None
        arn = f"arn:{self.partition}:logs:{self.region}:{account}:log-group:{name}"
        answer = self._call("logs", "list_tags_for_resource", resourceArn=arn) or {}
        return {str(k): str(v) for k, v in answer.get("tags", {}).items()}

    def _stream_tags(self, name: str, account: str) -> dict[str, str] | None:
        missing = frozenset({"ResourceNotFoundException"})
        stream = self._call("firehose", "describe_delivery_stream", missing=missing, DeliveryStreamName=name)
        if stream is None:
            return None
        answer = self._call("firehose", "list_tags_for_delivery_stream", DeliveryStreamName=name) or {}
        return _tag_list(answer.get("Tags", []))

    def _function_tags(self, name: str, account: str) -> dict[str, str] | None:
        answer = self._call("lambda", "get_function", missing=frozenset({"ResourceNotFoundException"}),
                            FunctionName=name)
        return None if answer is None else {str(k): str(v) for k, v in answer.get("Tags", {}).items()}

    def _database_tags(self, name: str, account: str) -> dict[str, str] | None:
        missing = frozenset({"EntityNotFoundException"})
        if self._call("glue", "get_database", missing=missing, Name=name) is None:
            return None
        arn = f"arn:{self.partition}:glue:{self.region}:{account}:database/{name}"
        answer = self._call("glue", "get_tags", ResourceArn=arn) or {}
        return {str(k): str(v) for k, v in answer.get("Tags", {}).items()}

    def _workgroup_tags(self, name: str, account: str) -> dict[str, str] | None:
        answer = self._call("athena", "get_work_group", missing=frozenset({"InvalidRequestException"}),
                            WorkGroup=name)
        if not answer or "WorkGroup" not in answer:
            return None
        arn = f"arn:{self.partition}:athena:{self.region}:{account}:workgroup/{name}"
        tags = self._call("athena", "list_tags_for_resource", ResourceARN=arn) or {}
        return _tag_list(tags.get("Tags", []))

    def role_arn(self, name: str) -> str | None:
        """A role's ARN with its path (`/aws-reserved/sso.amazonaws.com/` for IAM Identity Center roles)."""
        answer = self._call("iam", "get_role", missing=frozenset({"NoSuchEntity"}), RoleName=name)
        return None if answer is None else str(answer["Role"]["Arn"])

    def simulate(self, principal_arn: str, actions: tuple[str, ...]) -> list[Decision]:
        decisions: list[Decision] = []
        for start in range(0, len(actions), SIMULATION_BATCH):
            batch = list(actions[start:start + SIMULATION_BATCH])
            for result in self._pages("iam", "simulate_principal_policy", "EvaluationResults",
                                      PolicySourceArn=principal_arn, ActionNames=batch):
                decisions.append(Decision(str(result["EvalActionName"]), str(result["EvalDecision"])))
        return decisions


def _tag_list(tags: list[dict[str, Any]]) -> dict[str, str]:
    return {str(t["Key"]): str(t.get("Value", "")) for t in tags}


def _flow_log(answer: dict[str, Any]) -> FlowLog:
    destination_type = str(answer.get("LogDestinationType") or "cloud-watch-logs")
    return FlowLog(
        flow_log_id=str(answer.get("FlowLogId", "")),
        resource_id=str(answer.get("ResourceId", "")),
        traffic_type=str(answer.get("TrafficType", "")),
        destination_type=destination_type,
        destination=str(answer.get("LogGroupName") or answer.get("LogDestination") or ""),
        log_format=str(answer.get("LogFormat") or ""),
        tags=_tag_list(answer.get("Tags", [])),
        delivery_error=(str(answer.get("DeliverLogsErrorMessage") or "unknown error")
                        if answer.get("DeliverLogsStatus") == "FAILED" else None),
    )


def assumed_role_name(caller_arn: str) -> str | None:
    parts = caller_arn.split(":", 5)
    if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        return parts[5].split("/")[1]
    return None


def policy_source_arn(caller_arn: str) -> str:
    """The IAM principal behind a caller: an assumed-role session's role, else the caller itself.

    `arn:aws:sts::123:assumed-role/Deployer/session` -> `arn:aws:iam::123:role/Deployer` (a role's path,
    if any, is not in the session ARN: `assumed_role_name` lets the caller look the role up).
    """
    parts = caller_arn.split(":", 5)
    if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        role = parts[5].split("/")[1]
        return f"arn:{parts[1]}:iam::{parts[4]}:role/{role}"
    return caller_arn
