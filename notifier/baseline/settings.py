"""The baseline's settings, from the notifier's environment (docs/architecture.md, The notifier)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from contracts import environment as env
from notifier.baseline.verdicts import Rules


class BaselineSettingsError(ValueError):
    """A BASELINE_* variable is wrong; the message names it."""


@dataclass(frozen=True)
class BaselineOptions:
    table: str
    days: int = env.DEFAULT_BASELINE_DAYS
    learning_hours: int = env.DEFAULT_BASELINE_LEARNING_HOURS
    max_keys: int = env.DEFAULT_BASELINE_MAX_KEYS

    @property
    def rules(self) -> Rules:
        return Rules(self.days, self.learning_hours)


def _int(environ: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise BaselineSettingsError(f"{name}={text!r} must be a whole number of at least {minimum} "
                                    f"(stack config baseline*; default {default})")
    return value


def load_baseline_settings(environ: Mapping[str, str]) -> BaselineOptions | None:
    """None without BASELINE_TABLE (or with BASELINE_DAYS=0): no baseline, today's events."""
    table = environ.get(env.BASELINE_TABLE, "").strip()
    days = _int(environ, env.BASELINE_DAYS, env.DEFAULT_BASELINE_DAYS, 0)
    if not table or days == 0:
        return None
    return BaselineOptions(
        table=table,
        days=days,
        learning_hours=_int(environ, env.BASELINE_LEARNING_HOURS, env.DEFAULT_BASELINE_LEARNING_HOURS, 0),
        max_keys=_int(environ, env.BASELINE_MAX_KEYS, env.DEFAULT_BASELINE_MAX_KEYS, 1),
    )
