"""The checks' verdicts: plain functions from settings and facts to one `Finding` each (no I/O).

Facts and their sources (checked 2026-12):
- "Each log group can have up to two subscription filters associated with it" (CloudWatch Logs API
  Reference, PutSubscriptionFilter; https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutSubscriptionFilter.html).
- The Standard log class "supports all CloudWatch Logs features", Infrequent Access "a subset", and the
  Delivery class is only for Lambda logs delivered to S3 or Firehose (CreateLogGroup, `logGroupClass`).
- A subscription filter's space-delimited pattern names every field, so lines of another format never
  match (docs/architecture.md, The stack): the configured format must be exactly the flow logs'.
- CloudWatch alarms notify only an SNS topic in their own region, and cannot publish to a topic encrypted
  with the AWS-managed `aws/sns` key (docs/architecture.md, Platform facts).
- A member's log group subscribes only to a destination of its own region ("Modes" in
  docs/architecture.md, The stack).
- `DescribeFlowLogs` filters include `log-group-name` and `resource-id`; `TrafficType` is ACCEPT, REJECT
  or ALL; `LogDestinationType` cloud-watch-logs, s3 or kinesis-data-firehose (EC2 API Reference,
  DescribeFlowLogs, https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeFlowLogs.html).
- Firehose delivery of vended logs needs, the first time, `iam:CreateServiceLinkedRole` for
  AWSServiceRoleForLogDelivery (CloudWatch Logs user guide, "Logs sent to Firehose",
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-infrastructure-V2-Firehose.html).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from contracts.collection import DestinationArn
from contracts.flowlog import DEFAULT_FORMAT, FlowLogFormat
from contracts.settings import settings_from
from preflight.facts import (
    Decision,
    Existing,
    FlowLog,
    Identity,
    KeyAnswer,
    LogGroup,
    SubscriptionFilter,
    Topic,
)
from preflight.model import Finding, fail, ok, warn

MAX_SUBSCRIPTION_FILTERS = 2
# Flow logs that deliver where CloudWatch Logs ingestion (or Firehose vended delivery) is paid per GB.
PAID_DESTINATIONS = {"cloud-watch-logs": "CloudWatch Logs", "kinesis-data-firehose": "Firehose"}
CAPTURES_REJECT = frozenset({"REJECT", "ALL"})
AWS_MANAGED_SNS_KEY = "alias/aws/sns"


def credentials(identity: Identity, allowed_account_ids: Sequence[str]) -> Finding:
    if allowed_account_ids and identity.account not in allowed_account_ids:
        return fail("credentials", (
            f"account {identity.account} ({identity.arn}) is not in aws:allowedAccountIds "
            f"{list(allowed_account_ids)}: switch to a profile of an allowed account (aws:profile, "
            "AWS_PROFILE), or add it with `pulumi config set --path 'aws:allowedAccountIds[0]' <id>`"
        ))
    allowed = " (in aws:allowedAccountIds)" if allowed_account_ids else ""
    return ok("credentials", f"account {identity.account}{allowed} as {identity.arn}")


def log_group(name: str, group: LogGroup | None, region: str) -> Finding:
    check = "logGroupName"
    if group is None:
        return fail(check, (
            f"log group {name} does not exist in {region}: give the name of the group your flow logs "
            "deliver into (`aws logs describe-log-groups`), or unset logGroupName to let the stack create "
            "one"
        ))
    if group.log_group_class != "STANDARD":
        return warn(check, (
            f"log group {name} is of class {group.log_group_class}, which supports only a subset of "
            "CloudWatch Logs features: check that it takes a subscription filter, or deliver the flow "
            "logs into a STANDARD group"
        ))
    return ok(check, f"log group {name} exists in {region} (class STANDARD)")


def subscription_filters(name: str, filters: Sequence[SubscriptionFilter], own_filter: str | None) -> Finding:
    check = "subscriptionFilters"
    others = [f for f in filters if f.name != own_filter]
    if len(others) >= MAX_SUBSCRIPTION_FILTERS:
        named = ", ".join(f"{f.name} (to {f.destination_arn})" for f in others)
        return fail(check, (
            f"log group {name} already has {len(others)} subscription filters, CloudWatch Logs' maximum: "
            f"{named}; remove one (`aws logs delete-subscription-filter --log-group-name {name} "
            "--filter-name <name>`) or move it to another group"
        ))
    own = " besides this stack's own" if own_filter and len(others) < len(filters) else ""
    free = MAX_SUBSCRIPTION_FILTERS - len(others)
    taken = f" ({', '.join(f.name for f in others)})" if others else ""
    return ok(check, f"log group {name} has {len(others)} other subscription filter(s){taken}{own}: "
                     f"{free} of {MAX_SUBSCRIPTION_FILTERS} free for the stack")


def _format_of(flow_log: FlowLog) -> str:
    return " ".join(flow_log.log_format.split()) or DEFAULT_FORMAT


def _set_line(text: str) -> str:
    return f"`pulumi config set flowLogFormat '{text}'`"


def _accepted_format(group: str, text: str) -> FlowLogFormat:
    """Their format as the program's loader would take it for this group (or its SettingsError)."""
    return settings_from({"logGroupName": group, "flowLogFormat": text}).flow_logs.format


def flow_log_formats(name: str, configured: FlowLogFormat, flow_logs: Sequence[FlowLog]) -> Finding:
    """The flow logs delivering into the group must use exactly the configured format."""
    check = "flowLogFormat"
    if not flow_logs:
        return warn(check, (
            f"no flow log in this region delivers into {name}, so its format cannot be compared: when "
            f"you create one, give it the configured format ({configured.text})"
        ))
    by_format: dict[str, list[str]] = {}
    for flow_log in flow_logs:
        by_format.setdefault(_format_of(flow_log), []).append(flow_log.flow_log_id)
    if len(by_format) > 1:
        listed = "; ".join(f"{', '.join(ids)}: '{text}'" for text, ids in by_format.items())
        return fail(check, (
            f"the {len(flow_logs)} flow logs delivering into {name} use {len(by_format)} different formats "
            f"({listed}); one subscription filter matches one format, so lines of the others would never "
            "ship: recreate them with one format, or give each format its own log group and stack"
        ))
    (text, ids), = by_format.items()
    try:
        theirs = _accepted_format(name, text)
    except ValueError as error:
        return fail(check, f"the flow logs delivering into {name} ({', '.join(ids)}) cannot be archived: "
                           f"{error}")
    if theirs.fields != configured.fields:
        return fail(check, (
            f"the flow logs delivering into {name} ({', '.join(ids)}) use another format than the "
            f"configured one ({configured.text}), so the subscription would match none of their lines: "
            f"run {_set_line(theirs.text)}"
        ))
    return ok(check, f"{len(ids)} flow log(s) delivering into {name} use the configured format")


def flow_log_delivery(flow_logs: Sequence[FlowLog]) -> Finding | None:
    """A flow log that fails to deliver into the group ships nothing, whatever the subscription does.

    DescribeFlowLogs: `DeliverLogsStatus` SUCCESS | FAILED, `DeliverLogsErrorMessage` "Rate limited",
    "Access error" (the flow log's IAM role may not publish to CloudWatch Logs) or "Unknown error"
    (EC2 API Reference, FlowLog, checked 2026-12).
    """
    failing = [f for f in flow_logs if f.delivery_error is not None]
    if not failing:
        return None
    listed = ", ".join(f"{f.flow_log_id} ({f.delivery_error})" for f in failing)
    return warn("flowLogDelivery", (
        f"{listed} fail to deliver into their group, so their flows never reach it: for an access error "
        "give the flow log's role logs:CreateLogStream and logs:PutLogEvents on the group; see "
        "`aws ec2 describe-flow-logs --flow-log-ids <id>`"
    ))


def vpcs_exist(vpc_ids: Sequence[str], found: set[str], region: str) -> Finding:
    check = "vpcIds"
    missing = [vpc for vpc in vpc_ids if vpc not in found]
    if missing:
        return fail(check, (
            f"{', '.join(missing)} not found in {region}: check aws:region and the account, or remove them "
            "from vpcIds"
        ))
    return ok(check, f"{len(vpc_ids)} VPC(s) exist in {region}: {', '.join(vpc_ids)}")


def _tagged(tags: Mapping[str, str], own_tags: Mapping[str, str] | None) -> bool:
    return bool(own_tags) and all(tags.get(k) == v for k, v in (own_tags or {}).items())


def _is_own(flow_log: FlowLog, own_tags: Mapping[str, str] | None) -> bool:
    return _tagged(flow_log.tags, own_tags)


def duplicate_flow_logs(flow_logs: Sequence[FlowLog], own_tags: Mapping[str, str] | None) -> Finding:
    """A VPC that already sends its rejected traffic to a paid destination would pay for it twice."""
    check = "vpcFlowLogs"
    paying = [f for f in flow_logs if f.traffic_type in CAPTURES_REJECT and f.destination_type in
              PAID_DESTINATIONS and not _is_own(f, own_tags)]
    if paying:
        listed = "; ".join(
            f"{f.resource_id} has {f.flow_log_id} ({f.traffic_type} into "
            f"{PAID_DESTINATIONS[f.destination_type]} {f.destination})" for f in paying)
        return warn(check, (
            f"{listed}: the stack's own flow log would capture the same rejected traffic again and it would "
            "be paid twice; subscribe the existing group instead (logGroupName, without the VPC in "
            "vpcIds), or delete the old flow log after the deploy"
        ))
    return ok(check, "no VPC of vpcIds already sends rejected traffic to CloudWatch Logs or Firehose")


def log_delivery_role(exists: bool) -> Finding:
    check = "logDeliveryRole"
    if exists:
        return ok(check, "AWSServiceRoleForLogDelivery exists: flow logs can deliver into Firehose")
    return warn(check, (
        "AWSServiceRoleForLogDelivery does not exist yet: AWS creates it with the first flow log into "
        "Firehose, so whoever runs `pulumi up` needs iam:CreateServiceLinkedRole this first time "
        "(or run `aws iam create-service-linked-role --aws-service-name delivery.logs.amazonaws.com`)"
    ))


def central_destination(destination: DestinationArn, region: str, account: str | None) -> Finding:
    check = "centralDestinationArn"
    if destination.region != region:
        return fail(check, (
            f"the destination is in {destination.region} but this stack is in {region}: a log group can "
            f"subscribe only to a destination of its own region; set centralDestinationArn to the central "
            f"stack's logDestinationArns entry for {region} (add {region} to its sourceRegions if missing)"
        ))
    if account is not None and destination.account_id == account:
        return fail(check, (
            f"the destination belongs to this account ({account}): a member stack ships to a central stack "
            "in another account; in the central account itself, subscribe with logGroupName in the central "
            "stack, or log in to the member account"
        ))
    where = f"account {destination.account_id}" + ("" if account else " (this account unknown)")
    return ok(check, f"destination {destination.name} is in {region}, {where}")


def topic_region(arn: str, region: str) -> Finding | None:
    """A topic in another region is refused before it is looked up (its region's endpoint is not ours)."""
    topic_region = arn.split(":")[3]
    if topic_region == region:
        return None
    return fail("alarmTopicArn", (
        f"the topic is in {topic_region} but the stack's alarms are in {region}: CloudWatch alarms "
        f"notify only a topic of their own region; create the topic in {region} or unset alarmTopicArn"
    ))


def alarm_topic(arn: str, region: str, topic: Topic | None) -> Finding:
    check = "alarmTopicArn"
    wrong_region = topic_region(arn, region)
    if wrong_region is not None:
        return wrong_region
    if topic is None:
        return fail(check, f"topic {arn} does not exist: create it, or unset alarmTopicArn to let the stack "
                           "create one")
    if topic.kms_master_key_id == AWS_MANAGED_SNS_KEY:
        return fail(check, (
            f"topic {arn} is encrypted with the AWS-managed key aws/sns, which CloudWatch cannot use: use a "
            "customer key whose policy allows cloudwatch.amazonaws.com, or no encryption"
        ))
    return ok(check, f"topic {arn} exists in {region}")


def datadog_api_key(site: str, url: str, answer: KeyAnswer | None) -> Finding:
    check = "datadogApiKey"
    if answer is None:
        return warn(check, (
            f"not checked: DD_API_KEY is not set; check the key against {site} with "
            "`DD_API_KEY=$(pulumi config get datadogApiKey) make preflight STACK=<stack>`"
        ))
    if answer.verdict == "invalid":
        return fail(check, (
            f"{url} refused DD_API_KEY ({answer.status}): it is not an API key of {site} (a key of another "
            "site, an application key, or revoked); set datadogSite to the key's site or "
            "`pulumi config set --secret datadogApiKey <key>`"
        ))
    return ok(check, f"DD_API_KEY is valid for {site}")


def datadog_app_key(site: str, url: str, answer: KeyAnswer | None, configured: bool) -> Finding:
    check = "datadogAppKey"
    if answer is None:
        if not configured:
            return ok(check, "not set: the stack creates nothing in Datadog (no monitors, no dashboard)")
        return warn(check, (
            "not checked: it takes both DD_API_KEY and DD_APP_KEY; check it with `DD_API_KEY=$(pulumi config "
            "get datadogApiKey) DD_APP_KEY=$(pulumi config get datadogAppKey) make preflight STACK=<stack>`"
        ))
    if answer.verdict == "invalid":
        return fail(check, (
            f"{url} refused the API and application keys ({answer.status}): DD_APP_KEY is not an "
            f"application key of {site}'s organisation of DD_API_KEY; create one in Datadog (Organization "
            "Settings, Application Keys) and `pulumi config set --secret datadogAppKey <key>`"
        ))
    return ok(check, f"DD_APP_KEY and DD_API_KEY are valid for {site}")


def permissions(arn: str, decisions: Sequence[Decision]) -> Finding:
    check = "permissions"
    denied = [d for d in decisions if d.decision != "allowed"]
    if denied:
        listed = ", ".join(f"{d.action} ({d.decision})" for d in denied)
        return fail(check, (
            f"{arn} may not call what `pulumi up` needs: {listed}; grant these actions, or deploy as a "
            "principal that has them"
        ))
    return ok(check, f"{arn} may call all {len(decisions)} actions `pulumi up` needs (IAM policy "
                     "simulation, without resource policies or SCP details)")


def names_free(checked: int, existing: Sequence[Existing], own_tags: Mapping[str, str]) -> Finding:
    """Resources under the stack's fixed names must be absent, or the stack's own (a re-deploy)."""
    check = "names"
    foreign = [r for r in existing if not _tagged(r.tags, own_tags)]
    if foreign:
        listed = ", ".join(f"{r.kind} {r.name}" for r in foreign)
        tags = ", ".join(f"{k}={v}" for k, v in own_tags.items())
        return fail(check, (
            f"{listed} already exist without this stack's tags ({tags}), so `pulumi up` would fail to create "
            "them under these fixed names: delete them if a lost or destroyed stack left them behind, or use "
            "another stack name"
        ))
    if existing:
        return ok(check, f"{len(existing)} of the stack's {checked} fixed names exist and carry its tags (a "
                         "re-deploy); the others are free")
    return ok(check, f"the stack's {checked} fixed names are free")
