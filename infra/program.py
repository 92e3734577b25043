"""The stack program as one function: config in, stack outputs out (docs/architecture.md, The stack).

`__main__.py` calls `run` and exports what it returns; the stack tests call the same function under
Pulumi's mocks, with stand-in zips through `package_builder`.
"""

from __future__ import annotations

from collections.abc import Callable

import pulumi

from contracts.settings import load_settings
from infra.config import config_getter
from infra.stack import Packages, build_packages, build_pipeline

PackageBuilder = Callable[[str], Packages]
StackOutputs = dict[str, pulumi.Input[object]]


def run(config: pulumi.Config, package_builder: PackageBuilder = build_packages) -> StackOutputs:
    """Read the stack config once, build every component, return the outputs to export (camelCase)."""
    settings = load_settings(config_getter(config))
    # Secret from the start: it only ever reaches the Secrets Manager secret version.
    datadog_api_key = config.require_secret("datadogApiKey")
    # Built now (preview and up alike), never inside an apply: the engine sees plain file archives.
    packages = package_builder(settings.lambda_architecture)
    pipeline = build_pipeline(settings, pulumi.get_stack(), datadog_api_key, packages)
    return pipeline.outputs()
