"""A stack's config as `pulumi up` would read it, without the Pulumi CLI or SDK.

Two sources: `Pulumi.<stack>.yaml` beside Pulumi.yaml (`--stack NAME`), or the JSON that
`pulumi config --json` prints (`--config FILE`): keys `<namespace>:<key>`, each
`{"value": ..., "secret": bool}` and, for structured values, `"objectValue"`. Values of this project's
namespace go through the program's own loader and validation (`contracts.settings.load_settings`);
`aws:*` values are kept for the region, profile and allowed accounts. A secret's value is not read:
only whether it is set. Without `--show-secrets`, `pulumi config --json` leaves a secret's `value` out
(pulumi/pulumi#2374, "the `value` property of the object for that configuration value will not be
set"); a stack file holds it as `{secure: <ciphertext>}` (pulumi/pulumi#3342); both checked 2026-12.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from contracts.settings import (
    PROJECT_FILE,
    SettingsError,
    StackSettings,
    declared_config,
    load_settings,
    project_name,
)

PROJECT_DIR = PROJECT_FILE.parent
AWS = "aws"
# `pulumi config --json` without --show-secrets prints a secret's value as this, or leaves it out.
HIDDEN_SECRET = "[secret]"


class ConfigFileError(ValueError):
    """The stack file or config JSON cannot be read; the message says which file and what to do."""


@dataclass(frozen=True)
class StackConfig:
    """The stack's settings and what preflight needs besides them."""

    source: str
    stack: str | None
    settings: StackSettings
    aws: dict[str, Any]
    secrets: frozenset[str]
    """Keys of this project set as secrets (their values are not read)."""
    plain: frozenset[str] = field(default_factory=frozenset)
    """Keys of this project set in plain text."""
    undeclared: tuple[str, ...] = ()
    unread_secrets: tuple[str, ...] = ()
    """Keys the loader reads that are secrets here: checked with their default."""

    @property
    def region(self) -> str | None:
        value = self.aws.get("region")
        return str(value).strip() or None if value is not None else None

    @property
    def profile(self) -> str | None:
        value = self.aws.get("profile")
        return str(value).strip() or None if value is not None else None

    @property
    def allowed_account_ids(self) -> tuple[str, ...]:
        value = self.aws.get("allowedAccountIds")
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        return tuple(str(item).strip() for item in items if str(item).strip())

    def is_set(self, key: str) -> bool:
        return key in self.secrets or key in self.plain


def decode(value: Any) -> Any:
    """A config value as the program gets it: JSON when it parses, else the string as it is.

    Same rule as `infra.config.config_getter` (`pulumi.Config.get_object`, falling back to `get` for a
    plain string such as `datadoghq.eu`); kept here so that preflight needs no Pulumi SDK.
    """
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def read_stack_file(stack: str, directory: Path | None = None) -> StackConfig:
    """`Pulumi.<stack>.yaml` beside Pulumi.yaml (or in `directory`)."""
    directory = directory or PROJECT_DIR
    path = directory / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise ConfigFileError(
            f"{path.name} not found in {directory}: pick an existing stack, or start one with "
            f"`cp Pulumi.dev.example.yaml {path.name}` (README, Deploy)"
        )
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ConfigFileError(f"{path.name} is not valid YAML: {error}") from error
    config = document.get("config") if isinstance(document, dict) else None
    entries: dict[str, tuple[Any, bool]] = {}
    for key, raw in (config or {}).items():
        if isinstance(raw, dict) and set(raw) == {"secure"}:
            entries[str(key)] = (None, True)
        else:
            entries[str(key)] = (raw, False)
    return _stack_config(path.name, stack, entries)


def read_config_json(path: Path, stack: str | None) -> StackConfig:
    try:
        document = json.loads(path.read_text())
    except OSError as error:
        raise ConfigFileError(f"cannot read {path}: {error.strerror}") from error
    except ValueError as error:
        raise ConfigFileError(
            f"{path} is not JSON ({error}): write it with `pulumi config --json > {path.name}`"
        ) from error
    if not isinstance(document, dict):
        raise ConfigFileError(f"{path} is not the object `pulumi config --json` prints")
    entries: dict[str, tuple[Any, bool]] = {}
    for key, entry in document.items():
        if not isinstance(entry, dict):
            raise ConfigFileError(f"{path}: {key} is not an object with a value, as `pulumi config --json` "
                                  "prints")
        secret = bool(entry.get("secret", False))
        value = entry.get("objectValue", entry.get("value"))
        if secret and (value is None or value == HIDDEN_SECRET):
            entries[key] = (None, True)
        else:
            entries[key] = (value, secret)
    return _stack_config(str(path), stack, entries)


def _stack_config(source: str, stack: str | None, entries: dict[str, tuple[Any, bool]]) -> StackConfig:
    project = project_name()
    declared = declared_config()
    ours: dict[str, Any] = {}
    aws: dict[str, Any] = {}
    secrets: set[str] = set()
    plain: set[str] = set()
    undeclared: list[str] = []
    unread: list[str] = []
    for full_key, (value, secret) in entries.items():
        namespace, _, key = full_key.partition(":")
        if namespace == AWS:
            aws[key] = decode(value)
        elif namespace == project:
            if key not in declared:
                undeclared.append(key)
                continue
            (secrets if secret else plain).add(key)
            if value is None:
                unread.append(key)
            else:
                ours[key] = decode(value)
    try:
        settings = load_settings(ours.get)
    except ValueError as error:  # SettingsError, and any parser's ValueError it did not wrap
        raise SettingsError(f"{source}: {error}") from error
    # datadogApiKey and datadogAppKey are read by the program itself, not by the loader.
    unread_by_loader = tuple(key for key in unread if key not in ("datadogApiKey", "datadogAppKey"))
    return StackConfig(
        source=source, stack=stack, settings=settings, aws=aws, secrets=frozenset(secrets),
        plain=frozenset(plain), undeclared=tuple(sorted(undeclared)), unread_secrets=unread_by_loader,
    )
