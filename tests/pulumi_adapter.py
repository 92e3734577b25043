"""The one place the stack tests touch Pulumi's runtime below its documented testing API.

Everything else in the tests uses `pulumi.runtime.set_mocks`, `pulumi.runtime.Mocks`,
`pulumi.runtime.set_all_config` and `pulumi.runtime.test`. What is not public, and why it is needed:

- `pulumi.runtime.mocks.MockMonitor` (passed to `set_mocks(monitor=...)`): `Mocks.new_resource` sees a
  resource's type, name and inputs, but not its parent or its `depends_on`; the wiring and security
  tests assert both, and only the monitor's `RegisterResource` request carries them.
- `pulumi.runtime.rpc.deserialize_properties`: that request holds the inputs as a protobuf Struct; this
  turns them back into Python values, exactly as the mock monitor does for outputs.

If a Pulumi upgrade breaks the stack tests at import or registration, look here first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor


@dataclass
class Registered:
    """One resource as the program registered it, with what the mocks answered."""

    type: str
    name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    dependencies: list[str]
    parent: str
    urn: str
    provider: str = ""
    """`<provider urn>::<id>` when the resource names an explicit provider, else empty."""


class RecordingMonitor(MockMonitor):
    """The mock monitor, also keeping each registration's inputs, parent and dependencies."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registered: list[Registered] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            inputs = rpc.deserialize_properties(request.object)
            state = self.resources[response.urn].state
            self.registered.append(Registered(
                type=request.type, name=request.name, inputs=dict(inputs), outputs=dict(state),
                dependencies=list(request.dependencies), parent=request.parent, urn=response.urn,
                provider=request.provider,
            ))
        return response


Program = Callable[[], Mapping[str, pulumi.Input[object]] | None]


def run_mocked(
    program: Program,
    mocks: pulumi.runtime.Mocks,
    *,
    project: str,
    stack: str,
    config: Mapping[str, str],
    secret_keys: list[str],
) -> tuple[list[Registered], dict[str, Any]]:
    """Run `program` under fresh mocks and config; return the registrations and its resolved outputs.

    `pulumi.runtime.test` runs the program to completion (waiting for every registration) and raises
    what it raised; the outputs the program returns are resolved inside that run.
    """
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(dict(config), secret_keys)
    resolved: dict[str, Any] = {}

    @pulumi.runtime.test
    def execute() -> pulumi.Output[None]:
        outputs = dict(program() or {})
        names = list(outputs)
        values = pulumi.Output.all(*(outputs[name] for name in names))
        return values.apply(lambda resolved_values: resolved.update(zip(names, resolved_values, strict=True)))

    execute()
    return monitor.registered, resolved


def resolved(value: pulumi.Input[Any]) -> tuple[Any, bool]:
    """An input's value once Pulumi resolved it, and whether it is a secret: through `pulumi.runtime.test`
    and the public `Output.is_secret()`, as a program's outputs are resolved above."""
    seen: dict[str, Any] = {}

    @pulumi.runtime.test
    def resolve() -> pulumi.Output[None]:
        output = pulumi.Output.from_input(value)
        secret: pulumi.Output[bool] = pulumi.Output.from_input(asyncio.ensure_future(output.is_secret()))
        return pulumi.Output.all(output, secret).apply(
            lambda both: seen.update(value=both[0], secret=both[1]))

    resolve()
    return seen["value"], seen["secret"]
