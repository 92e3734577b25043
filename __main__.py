"""rejected-flows: read the stack's config, build the pipeline (or a member's part), export its outputs."""

import pulumi

from contracts.settings import load_settings
from infra.config import config_getter, optional_secret
from infra.member import build_member
from infra.stack import build_packages, build_pipeline, resource_tags

config = pulumi.Config()
settings = load_settings(config_getter(config))

if settings.is_member:
    # A member account ships to the central destination: no archive, functions or Datadog key here.
    member = build_member(settings, pulumi.get_stack(), resource_tags(settings, pulumi.get_stack()))
    outputs = member.outputs()
else:
    # Secret from the start: it only ever reaches the Secrets Manager secret version.
    datadog_api_key = config.require_secret("datadogApiKey")
    # Optional: with it, the stack also manages Datadog monitors and a dashboard.
    datadog_app_key = optional_secret(config, "datadogAppKey")
    # Built now (preview and up alike), never inside an apply: the engine sees plain file archives.
    packages = build_packages(settings.lambda_architecture)
    pipeline = build_pipeline(settings, pulumi.get_stack(), datadog_api_key, packages, datadog_app_key)
    outputs = pipeline.outputs()

for output_name, value in outputs.items():
    pulumi.export(output_name, value)
