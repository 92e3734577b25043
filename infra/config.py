"""The Pulumi side of stack configuration: `pulumi.Config` read through the pure schema in contracts."""

from __future__ import annotations

from typing import Any

from pulumi import Config, ConfigTypeError, Output

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



def optional_secret(config: Config, key: str) -> Output[str] | None:
    """A secret that may be left unset: None when unset or empty (its Pulumi.yaml default is ""),
    otherwise the value as a secret Output, so that it never shows in plain text."""
    secret = config.get_secret(key)
    # `get_secret` wraps the value at once; an empty one (the declared default) means "not configured".
    plain = config.get(key)
    return secret if plain is not None and plain.strip() else None
