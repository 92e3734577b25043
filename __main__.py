"""rejected-flows: read the stack's config, build the pipeline from infra/, export its outputs."""

import pulumi

from contracts.settings import load_settings
from infra.config import config_getter, optional_secret
from infra.stack import build_packages, build_pipeline

config = pulumi.Config()
settings = load_settings(config_getter(config))
# Secret from the start: it only ever reaches the Secrets Manager secret version.
datadog_api_key = config.require_secret("datadogApiKey")
# Optional: with it, the stack also manages Datadog monitors and a dashboard.
datadog_app_key = optional_secret(config, "datadogAppKey")

# Built now (preview and up alike), never inside an apply: the engine sees plain file archives.
packages = build_packages(settings.lambda_architecture)
pipeline = build_pipeline(settings, pulumi.get_stack(), datadog_api_key, packages, datadog_app_key)

for output_name, value in pipeline.outputs().items():
    pulumi.export(output_name, value)
