"""Datadog monitors and a dashboard as code, over the events the notifier posts.

Created only when the stack has a `datadogAppKey` (Datadog's API needs an application key besides the
API key to manage monitors): API-key-only stacks create nothing in Datadog.

Query shape (checked 2026-11): Datadog's monitor API documents the `event-v2 alert` query as
`events(query).rollup(rollup_method[, measure]).last(time_window) operator #`
(docs.datadoghq.com/api/latest/monitors/create-a-monitor), and the search selects tags with
`tags:(key:value key:value)`, the terms ANDed (DataDog/terraform-provider-datadog,
examples/guides/watchdog_monitor.tf, `events("... tags:(story_type:service env:test_env ...)")`).
`tags:` names the tag explicitly: `source:` alone is the event's reserved source attribute. Datadog
stores tags in lower case, so the search does too.

The pure functions (searches, queries, messages, dashboard) are tested against the tags the notifier
really posts (contracts/events.py); `Monitors` only wires them to pulumi_datadog.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_datadog as datadog

from contracts.events import (
    KIND_ERRORS,
    KIND_REJECTED,
    NEW_INTERNAL_KEY,
    NEW_TARGETS_KEY,
    SOURCE_TAG,
    flag_tag,
    internal_sources_tag,
    stack_tag,
)
from contracts.settings import MonitorSettings
from contracts.settings_groups import ALERT_ON_NEW

INTERNAL_WINDOW = "15m"
ERRORS_WINDOW = "1h"
VOLUME_WINDOW = "1h"


def datadog_tag(tag: str) -> str:
    """A tag as Datadog stores and searches it: lower case."""
    return tag.strip().lower()


def event_search(*tags: str) -> str:
    """Events carrying every one of `tags`."""
    return "tags:(" + " ".join(datadog_tag(tag) for tag in tags) + ")"


def event_alert_query(search: str, window: str, threshold: int = 0) -> str:
    """An `event-v2 alert` query: more than `threshold` matching events within `window`."""
    if '"' in search:
        raise ValueError(f"an event search inside events(\"...\") cannot contain a double quote: {search}")
    return f'events("{search}").rollup("count").last("{window}") > {threshold}'


def stack_events(stack: str) -> str:
    return event_search(SOURCE_TAG, stack_tag(stack))


def internal_rejections(stack: str) -> str:
    """Rejected-flow events with at least one internal source (the notifier's `warning`s)."""
    return event_search(SOURCE_TAG, stack_tag(stack), KIND_REJECTED, internal_sources_tag(True))


def new_internal_rejections(stack: str) -> str:
    """Rejected-flow events with an internal pair the baseline had not seen (tag new_internal:true)."""
    return event_search(SOURCE_TAG, stack_tag(stack), KIND_REJECTED, flag_tag(NEW_INTERNAL_KEY, True))


def new_target_rejections(stack: str) -> str:
    """Rejected-flow events with a target port the baseline had not seen (tag new_targets:true)."""
    return event_search(SOURCE_TAG, stack_tag(stack), KIND_REJECTED, flag_tag(NEW_TARGETS_KEY, True))


def with_handles(message: pulumi.Input[str], handles: Sequence[str]) -> pulumi.Input[str]:
    """The message with datadogNotify's handles at its end: Datadog notifies whoever a message names.

    The message is managed by Pulumi, so a handle added in Datadog's UI is overwritten by the next
    `pulumi up`: handles belong in datadogNotify. None keeps the message as it is.
    """
    if not handles:
        return message
    return pulumi.Output.concat(message, "\n\nNotify: ", " ".join(handles))


def rejections(stack: str) -> str:
    return event_search(SOURCE_TAG, stack_tag(stack), KIND_REJECTED)


def processing_errors(stack: str) -> str:
    return event_search(SOURCE_TAG, stack_tag(stack), KIND_ERRORS)


@dataclass(frozen=True)
class Where:
    """Where an operator looks next: the stack's Athena names (outputs) and the archive bucket."""

    bucket: pulumi.Input[str]
    stream: pulumi.Input[str]
    database: pulumi.Input[str]
    table: pulumi.Input[str]
    workgroup: pulumi.Input[str]


@dataclass(frozen=True)
class MonitorSpec:
    key: str
    name: str
    query: str
    message: pulumi.Input[str]
    priority: int


def internal_spec(stack: str, look: pulumi.Input[str], alert_on: str) -> MonitorSpec:
    """Internal sources rejected: those the baseline had not seen (`new`), or any (`any`)."""
    meaning = (
        "usually a misconfigured application, a missing rule after a change, or a compromised host "
        "probing its neighbours. The event names the sources, the ports they tried and the interfaces "
        "that refused them."
    )
    if alert_on == ALERT_ON_NEW:
        title = f"[rejected-flows {stack}] New internal traffic is being rejected"
        query = event_alert_query(new_internal_rejections(stack), INTERNAL_WINDOW)
        refused = ("is being refused towards an address, port and protocol it was not refused on within "
                   "the baseline's days, in stack `{0}`: {1} The event's New section lists each new pair; "
                   "chronic rejects that were seen before do not fire this monitor.")
    else:
        title = f"[rejected-flows {stack}] Traffic from internal sources is being rejected"
        query = event_alert_query(internal_rejections(stack), INTERNAL_WINDOW)
        refused = "is being refused by a security group or network ACL in stack `{0}`: {1}"
    message = (
        "Something inside your networks (private, CGNAT or IPv6 ULA ranges, or the stack's `internalCidrs`) "
        + refused + "\n\nWhat to do: find the source instance from its address, check whether the "
        "destination port should be open to it (fix the rule) or whether the source should not be calling "
        "at all (investigate the host).\n\n{2}"
    )
    return MonitorSpec("internal", title, query, pulumi.Output.format(message, stack, meaning, look), 2)


def new_targets_spec(stack: str, look: pulumi.Input[str]) -> MonitorSpec:
    return MonitorSpec(
        "new-targets",
        f"[rejected-flows {stack}] Rejected traffic towards a new target port",
        event_alert_query(new_target_rejections(stack), INTERNAL_WINDOW),
        pulumi.Output.format(
            "A destination port and protocol is being rejected on an interface (or address) where it was "
            "not rejected within the baseline's days, in stack `{0}`: a new service probed or a client "
            "calling a port that a change closed. The event's New section names the interface, port and "
            "protocol.\n\nWhat to do: check whether the port should be open on that target (a missing "
            "rule) or who is probing it.\n\n{1}",
            stack, look,
        ),
        3,
    )


def monitor_specs(stack: str, where: Where, volume_threshold: int,
                  settings: MonitorSettings | None = None) -> list[MonitorSpec]:
    """The monitors of one stack: internal rejections, processing errors and, if set, volume and new
    target ports; every message ends with the datadogNotify handles."""
    settings = settings or MonitorSettings()
    look = pulumi.Output.format(
        "Each event links its S3 object and a ready Athena query. To look yourself, run in the "
        "Athena workgroup `{0}` (fill in the hour of the event, UTC):\n\n"
        "`SELECT srcaddr, dstaddr, dstport, protocol, count(*) AS flows FROM {1}.{2} WHERE year = Y "
        "AND month = M AND day = D AND hour = H AND action = 'REJECT' GROUP BY 1, 2, 3, 4 "
        "ORDER BY flows DESC LIMIT 50`",
        where.workgroup, where.database, where.table,
    )
    specs = [
        internal_spec(stack, look, settings.alert_on_internal),
        MonitorSpec(
            "errors",
            f"[rejected-flows {stack}] Flow-log records could not be archived",
            event_alert_query(processing_errors(stack), ERRORS_WINDOW),
            pulumi.Output.format(
                "Firehose could not transform some records of stack `{0}`: they were not archived under "
                "`rejected/` and are kept, raw, under `s3://{1}/errors/`. The event names the error codes "
                "and the object.\n\nWhat to do: read the transform's `record failed` log lines (CloudWatch "
                "Logs, the transform Lambda's group) for the cause (usually a flow-log format that does "
                "not match `flowLogFormat`), fix it, then replay the error objects into the stream with "
                "`python -m replay --bucket {1} --stream {2}`.",
                stack, where.bucket, where.stream,
            ),
            2,
        ),
    ]
    if volume_threshold:
        specs.append(MonitorSpec(
            "volume",
            f"[rejected-flows {stack}] More than {volume_threshold} rejected-flow events in an hour",
            event_alert_query(rejections(stack), VOLUME_WINDOW, volume_threshold),
            pulumi.Output.format(
                "Stack `{0}` posted more than {1} rejected-flow events within an hour. Each event is one "
                "archived object, and Firehose writes one per buffer interval unless its size buffer "
                "fills first: a rise in events means a flood of rejected traffic (a scan, a "
                "misconfiguration at scale, or an attack) rather than the usual background.\n\n"
                "What to do: open the events for the top sources and ports, then query the hour.\n\n{2}",
                stack, volume_threshold, look,
            ),
            3,
        ))
    if settings.alert_on_new_targets:
        specs.append(new_targets_spec(stack, look))
    return [MonitorSpec(spec.key, spec.name, spec.query, with_handles(spec.message, settings.notify),
                        spec.priority) for spec in specs]


def dashboard_definition(stack: str) -> dict[str, Any]:
    """The stack's dashboard: the event stream of its events and their counts by kind."""

    def count(name: str, search: str) -> dict[str, Any]:
        return {"data_source": "events", "name": name, "search": {"query": search},
                "compute": {"aggregation": "count"}, "indexes": ["*"]}

    series = [("internal", "Rejected, internal sources", internal_rejections(stack)),
              ("new_internal", "Rejected, new internal pairs", new_internal_rejections(stack)),
              ("rejected", "Rejected-flow events", rejections(stack)),
              ("errors", "Processing errors", processing_errors(stack))]

    def value_widget(name: str, title: str, search: str) -> dict[str, Any]:
        return {"definition": {
            "type": "query_value", "title": f"{title} (24 h)", "autoscale": True, "precision": 0,
            "time": {"live_span": "1d"},
            "requests": [{"response_format": "scalar", "queries": [count(name, search)],
                          "formulas": [{"formula": name}]}],
        }}

    return {
        "title": f"Rejected flows · {stack}",
        "description": "Events posted by the rejected-flows notifier for this stack (managed by Pulumi).",
        "layout_type": "ordered",
        # What the dashboard API returns besides the computed fields the provider drops (id, author_*,
        # created_at, modified_at, url): without them `dashboard_json` differs from the API's answer on
        # every plan (DataDog/terraform-provider-datadog PR #2951, open, checked 2026-12). Confirm with
        # `pulumi preview --expect-no-changes` after the first deploy (README, Datadog monitors).
        "reflow_type": "auto",
        "notify_list": [],
        "template_variables": [],
        "widgets": [
            *(value_widget(name, title, search) for name, title, search in series),
            {"definition": {
                "type": "timeseries", "title": "Events per hour by kind", "show_legend": True,
                "requests": [{
                    "response_format": "timeseries", "display_type": "bars",
                    "queries": [count(name, search) for name, _, search in series],
                    "formulas": [{"formula": name, "alias": title} for name, title, _ in series],
                }],
            }},
            {"definition": {
                "type": "list_stream", "title": "Event stream",
                "requests": [{
                    "response_format": "event_list",
                    "query": {"data_source": "event_stream", "query_string": stack_events(stack),
                              "event_size": "l"},
                    "columns": [{"field": "details", "width": "auto"}],
                }],
            }},
        ],
    }


def api_url(site: str) -> str:
    """The Datadog provider's API URL for a site (`datadoghq.eu` -> `https://api.datadoghq.eu/`)."""
    return f"https://api.{site}/"


@dataclass
class MonitorsArgs:
    stack: str
    site: str
    api_key: pulumi.Input[str]
    app_key: pulumi.Input[str]
    where: Where
    volume_threshold: int
    tags: Sequence[str] = field(default_factory=tuple)
    """Tags of the monitors and dashboard (the stack's own and its datadogTags)."""
    settings: MonitorSettings = field(default_factory=MonitorSettings)
    """datadogNotify, alertOnInternal (as it applies), alertOnNewTargets."""


class Monitors(pulumi.ComponentResource):
    """A Datadog provider for the stack's site, its event monitors and its dashboard."""

    def __init__(self, name: str, args: MonitorsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("rejected-flows:monitors:Monitors", name, None, opts)
        # Explicit: never the ambient DATADOG_* environment of whoever runs `pulumi up`.
        self.provider = datadog.Provider(
            f"{name}-datadog", api_key=pulumi.Output.secret(args.api_key),
            app_key=pulumi.Output.secret(args.app_key), api_url=api_url(args.site),
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, provider=self.provider)
        tags = sorted({datadog_tag(tag) for tag in args.tags})
        self.monitors: Mapping[str, datadog.Monitor] = {
            spec.key: datadog.Monitor(
                f"{name}-{spec.key}",
                name=spec.name,
                type="event-v2 alert",
                query=spec.query,
                message=spec.message,
                priority=str(spec.priority),
                include_tags=True,
                tags=tags,
                opts=child,
            )
            for spec in monitor_specs(args.stack, args.where, args.volume_threshold, args.settings)
        }
        self.dashboard = datadog.DashboardJson(
            f"{name}-dashboard", dashboard=json.dumps(dashboard_definition(args.stack)), opts=child,
        )
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, pulumi.Input[object]]:
        return {
            "datadogMonitorIds": {key: monitor.id for key, monitor in self.monitors.items()},
            "datadogDashboardUrl": self.dashboard.url,
        }
