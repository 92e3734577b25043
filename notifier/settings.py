"""The notifier's configuration, read from the environment once per container (Forwarder names)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from contracts import environment as env
from notifier.baseline.settings import BaselineOptions, BaselineSettingsError, load_baseline_settings
from notifier.model import EventContext
from notifier.networks import InternalCidrsError, InternalNetworks, parse_internal_cidrs


class NotifierSettingsError(ValueError):
    """The function's environment is wrong; the message names the variable to fix."""


@dataclass(frozen=True)
class Settings:
    api_url: str
    api_key_secret_arn: str | None
    # Only for local use; the stack passes the key through Secrets Manager. Never in a repr.
    api_key: str | None = field(default=None, repr=False)
    tags: tuple[str, ...] = ()
    stack: str = "rejected-flows"
    athena_database: str | None = None
    athena_table: str = env.DEFAULT_ATHENA_TABLE
    athena_workgroup: str | None = None
    # Private, shared and ULA ranges plus `INTERNAL_CIDRS`: a rejected source in them makes a warning.
    internal_networks: InternalNetworks = field(default_factory=InternalNetworks)
    # The baseline of what was seen (BASELINE_*); None: no baseline, today's events.
    baseline: BaselineOptions | None = None

    @property
    def qualified_table(self) -> str:
        if self.athena_database:
            return f'"{self.athena_database}"."{self.athena_table}"'
        return f'"{self.athena_table}"'

    def event_context(self) -> EventContext:
        return EventContext(stack=self.stack, athena_table=self.qualified_table,
                            athena_workgroup=self.athena_workgroup, tags=self.tags)


def api_url_for(site: str | None, override: str | None) -> str:
    """`DD_API_URL` wins (a local intake); otherwise the API host of a known Datadog site."""
    if override:
        return override.rstrip("/")
    site = (site or env.DEFAULT_DD_SITE).strip().lower()
    if site not in env.DATADOG_SITES:
        raise NotifierSettingsError(
            f"{env.DD_SITE}={site!r} is not a Datadog site; use one of {', '.join(env.DATADOG_SITES)} "
            f"(or set {env.DD_API_URL} to a full URL)"
        )
    return f"https://api.{site}"


def parse_tags(text: str | None) -> tuple[str, ...]:
    return tuple(t.strip() for t in (text or "").split(",") if t.strip())


def load_settings(environ: Mapping[str, str]) -> Settings:
    def get(name: str) -> str | None:
        value = environ.get(name, "").strip()
        return value or None

    secret_arn, api_key = get(env.DD_API_KEY_SECRET_ARN), get(env.DD_API_KEY)
    try:
        internal = InternalNetworks(parse_internal_cidrs(get(env.INTERNAL_CIDRS)))
    except InternalCidrsError as error:
        raise NotifierSettingsError(str(error)) from None
    try:
        baseline = load_baseline_settings(environ)
    except BaselineSettingsError as error:
        raise NotifierSettingsError(str(error)) from None
    if not secret_arn and not api_key:
        raise NotifierSettingsError(
            f"no Datadog API key configured: set {env.DD_API_KEY_SECRET_ARN} (the stack does) "
            f"or, for local use, {env.DD_API_KEY}"
        )
    return Settings(
        api_url=api_url_for(get(env.DD_SITE), get(env.DD_API_URL)),
        api_key_secret_arn=secret_arn,
        api_key=api_key,
        tags=parse_tags(get(env.DD_TAGS)),
        stack=get(env.STACK_NAME) or "rejected-flows",
        athena_database=get(env.ATHENA_DATABASE),
        athena_table=get(env.ATHENA_TABLE) or env.DEFAULT_ATHENA_TABLE,
        athena_workgroup=get(env.ATHENA_WORKGROUP),
        internal_networks=internal,
        baseline=baseline,
    )
