"""The Pulumi side of stack configuration: `pulumi.Config` read through the pure schema in contracts."""

from __future__ import annotations

from typing import Any

from pulumi import Config, ConfigTypeError, Output
from pulumi.runtime.config import is_config_secret

from contracts.settings import Getter


def config_getter(config: Config) -> Getter:
    """A getter over `pulumi.Config` for `load_settings`.

    `Config.get_object` parses every value as JSON: lists and numbers come back typed, but a plain
    string such as `pulumi config set datadogSite datadoghq.eu` is not JSON and raises. Such values
    are read back as the string they are.
    """

    def get(key: str) -> Any:
        try:
            return config.get_object(key)
        except ConfigTypeError:  # a plain string
            return config.get(key)

    return get



class PlainSecretError(ValueError):
    """A key that must be a secret was set in plain text in the stack's config file."""


def optional_secret(config: Config, key: str) -> Output[str] | None:
    """A secret that may be left unset: None when unset or empty, else the value as a secret Output.

    Pulumi.yaml declares such a key with `default: ""` and without `secret: true`: a declared key
    without a default is required, and since Pulumi 3.202 a `secret: true` key with a default fails
    validation when left unset ("must be encrypted as it's secret", pulumi/pulumi#21865, checked
    2026-11). So the program checks what the schema cannot: a value that is set must be encrypted.
    """
    plain = config.get(key)
    if plain is None or not plain.strip():
        return None
    if not is_config_secret(config.full_key(key)):
        raise PlainSecretError(
            f"config {key} is stored in plain text in the stack's config file: remove it and set it "
            f"with `pulumi config set --secret {key} <value>`"
        )
    return config.require_secret(key)
