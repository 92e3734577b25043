"""Every check of a stack, in order: facts from the thin layers, verdicts from `verdicts`.

A check whose facts cannot be read (access denied, an API the endpoint lacks, the network) becomes a
`warn` that says why; nothing here writes to AWS or Datadog.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from contracts import environment as env
from contracts.flowlog import unknown_fields
from contracts.naming import Names
from contracts.settings import project_name
from notifier.settings import NotifierSettingsError as DatadogSiteError
from notifier.settings import api_url_for
from preflight import datadog, verdicts
from preflight.aws import Account, assumed_role_name, policy_source_arn
from preflight.config import StackConfig
from preflight.facts import CredentialsError, Identity, UnavailableError
from preflight.model import Finding, fail, ok, warn
from preflight.permissions import required_actions
from preflight.resources import fixed_names

DD_APP_KEY = "DD_APP_KEY"


@dataclass
class Context:
    config: StackConfig
    account: Account
    environ: Mapping[str, str]
    identity: Identity | None = None

    @property
    def region(self) -> str:
        return self.account.region

    @property
    def own_tags(self) -> dict[str, str] | None:
        """The tags that mark this stack's resources: `project` and `stack`, as infra/stack.py
        `resource_tags` sets them (resourceTags may override them there too)."""
        if not self.config.stack:
            return None
        tags = {"project": project_name(), "stack": self.config.stack, **self.config.settings.resource_tags}
        return {key: tags[key] for key in ("project", "stack")}

    @property
    def own_filter(self) -> str | None:
        stack = self.config.stack
        return Names(project_name(), stack).subscription_filter if stack else None


def guarded(check: str, verdict: Callable[[], Finding], hint: str = "") -> Finding:
    """The verdict, or a `warn` naming what could not be read."""
    try:
        return verdict()
    except UnavailableError as error:
        return warn(check, f"not checked: {error}" + (f"; {hint}" if hint else ""))


def settings_findings(config: StackConfig) -> Iterator[Finding]:
    settings = config.settings
    mode = "member stack" if settings.is_member else "central stack"
    yield ok("settings", f"{config.source} over Pulumi.yaml's defaults is valid ({mode})")
    for key in config.undeclared:
        yield warn("settings", f"{project_name()}:{key} is not a key of this stack (Pulumi.yaml declares no "
                               f"such key): check its spelling, or `pulumi config rm {key}`")
    for key in config.unread_secrets:
        yield warn("settings", f"{key} is a secret here, so preflight checked its default: make it plain "
                               f"text (`pulumi config set {key} <value>`), or pass `pulumi config --json "
                               "--show-secrets` to --config")
    unknown = unknown_fields(settings.flow_logs.format)
    if unknown:
        yield warn("flowLogFormat", f"fields {', '.join(unknown)} are not in the catalogue: they are "
                                    "archived as strings; check their spelling against AWS's flow-log "
                                    "records page")
    if not settings.is_member:
        if not config.is_set("datadogApiKey"):
            yield fail("datadogApiKey", "not set, and a central stack needs it: "
                                        "`pulumi config set --secret datadogApiKey <key>`")
        if "datadogAppKey" in config.plain:
            yield fail("datadogAppKey", "stored in plain text, which the program refuses: `pulumi config "
                                        "rm datadogAppKey`, then `pulumi config set --secret datadogAppKey "
                                        "<key>`")


def credentials_finding(context: Context) -> Finding:
    try:
        context.identity = context.account.identity()
    except CredentialsError as error:
        return fail("credentials", f"{error}: configure them (`aws configure`, AWS_PROFILE or aws:profile), "
                                   "then check with `aws sts get-caller-identity`")
    return verdicts.credentials(context.identity, context.config.allowed_account_ids)


def log_group_findings(context: Context, name: str) -> Iterator[Finding]:
    account, settings = context.account, context.config.settings
    finding = guarded("logGroupName",
                      lambda: verdicts.log_group(name, account.log_group(name), context.region))
    yield finding
    if finding.status == "FAIL":
        return
    yield guarded("subscriptionFilters", lambda: verdicts.subscription_filters(
        name, account.subscription_filters(name), context.own_filter))
    try:
        flow_logs = account.flow_logs("log-group-name", [name])
    except UnavailableError as error:
        yield warn("flowLogFormat", f"not checked: {error}")
        return
    yield verdicts.flow_log_formats(name, settings.flow_logs.format, flow_logs)
    failing = verdicts.flow_log_delivery(flow_logs)
    if failing is not None:
        yield failing


def vpc_findings(context: Context) -> Iterator[Finding]:
    account, vpc_ids = context.account, list(context.config.settings.flow_logs.vpc_ids)
    yield guarded("vpcIds",
                  lambda: verdicts.vpcs_exist(vpc_ids, account.existing_vpcs(vpc_ids), context.region))
    yield guarded("vpcFlowLogs", lambda: verdicts.duplicate_flow_logs(
        account.flow_logs("resource-id", vpc_ids), context.own_tags))


def datadog_findings(context: Context) -> Iterator[Finding]:
    site = context.config.settings.notifications.datadog_site
    try:
        base_url = api_url_for(site, context.environ.get(env.DD_API_URL))
    except DatadogSiteError as error:
        yield warn("datadogApiKey", f"not checked: {error}")
        return
    api_key = context.environ.get(env.DD_API_KEY, "").strip()
    app_key = context.environ.get(DD_APP_KEY, "").strip()
    yield guarded("datadogApiKey", lambda: verdicts.datadog_api_key(
        site, base_url, datadog.check_api_key(base_url, api_key) if api_key else None))
    yield guarded("datadogAppKey", lambda: verdicts.datadog_app_key(
        site, base_url, datadog.check_keys(base_url, api_key, app_key) if api_key and app_key else None,
        configured=context.config.is_set("datadogAppKey") or bool(app_key)))


def names_finding(context: Context) -> Finding:
    own_tags, stack = context.own_tags, context.config.stack
    if own_tags is None or stack is None:
        return warn("names", "not checked: the stack's name is unknown; add --stack NAME to --config")
    if context.identity is None:
        return warn("names", "not checked: no working credentials (see the credentials line)")
    wanted, account = fixed_names(context.config.settings, stack), context.identity.account
    return guarded("names", lambda: verdicts.names_free(
        len(wanted), context.account.existing(wanted, account), own_tags))


def permission_finding(context: Context) -> Finding:
    if context.identity is None:
        return warn("permissions", "not checked: no working credentials (see the credentials line)")
    principal = policy_source_arn(context.identity.arn)
    role = assumed_role_name(context.identity.arn)
    if role is not None:
        # iam:GetRole denied: simulate the role as the session names it (without its path).
        with contextlib.suppress(UnavailableError):
            principal = context.account.role_arn(role) or principal
    actions = required_actions(context.config.settings)
    return guarded("permissions",
                   lambda: verdicts.permissions(principal, context.account.simulate(principal, actions)),
                   hint="IAM policy simulation needs iam:SimulatePrincipalPolicy on the caller; without it "
                        "`pulumi up` is the test")


def run_checks(config: StackConfig, account: Account, environ: Mapping[str, str]) -> Iterator[Finding]:
    """Each finding as soon as it is made (the slow ones come last)."""
    context = Context(config, account, environ)
    settings = config.settings
    yield from settings_findings(config)
    yield guarded("credentials", lambda: credentials_finding(context))
    if settings.flow_logs.existing_log_group:
        yield from log_group_findings(context, settings.flow_logs.existing_log_group)
    if settings.flow_logs.vpc_ids:
        yield from vpc_findings(context)
    if settings.collection.flow_logs_to_firehose:
        yield guarded("logDeliveryRole",
                      lambda: verdicts.log_delivery_role(account.log_delivery_role_exists()))
    destination = settings.collection.central_destination
    if destination is not None:
        yield verdicts.central_destination(destination, context.region,
                                           context.identity.account if context.identity else None)
    topic_arn = settings.alarms.topic_arn
    if topic_arn and not settings.is_member:
        yield verdicts.topic_region(topic_arn, context.region) or guarded(
            "alarmTopicArn",
            lambda: verdicts.alarm_topic(topic_arn, context.region, account.topic(topic_arn)))
    if fixed_names(settings, config.stack or "stack"):
        yield names_finding(context)
    if not settings.is_member:
        yield from datadog_findings(context)
    yield permission_finding(context)
