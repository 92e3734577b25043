"""The stack program as one function: config in, stack outputs out (docs/architecture.md, The stack).

`__main__.py` calls `run` and exports what it returns; the stack tests call the same function under
Pulumi's mocks, with stand-in zips through `package_builder`.
"""

from __future__ import annotations

from collections.abc import Callable

import pulumi

from contracts.settings import load_settings
from infra.config import config_getter, optional_secret
from infra.member import build_member
from infra.stack import Packages, build_packages, build_pipeline, resource_tags

PackageBuilder = Callable[[str], Packages]
StackOutputs = dict[str, pulumi.Input[object]]


def run(config: pulumi.Config, package_builder: PackageBuilder = build_packages) -> StackOutputs:
    """Read the stack config once, build every component, return the outputs to export (camelCase)."""
    settings = load_settings(config_getter(config))
    stack = pulumi.get_stack()
    if settings.is_member:
        # A member account ships to the central destination: no archive, functions or Datadog key here.
        return build_member(settings, stack, resource_tags(settings, stack)).outputs()
    # Secret from the start: it only ever reaches the Secrets Manager secret version.
    datadog_api_key = config.require_secret("datadogApiKey")
    # Optional: with it, the stack also manages Datadog monitors and a dashboard.
    datadog_app_key = optional_secret(config, "datadogAppKey")
    # Built now (preview and up alike), never inside an apply: the engine sees plain file archives.
    packages = package_builder(settings.lambda_architecture)
    pipeline = build_pipeline(settings, stack, datadog_api_key, packages, datadog_app_key)
    return pipeline.outputs()
