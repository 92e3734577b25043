"""The baseline's settings from the notifier's environment (docs/architecture.md, The notifier)."""

from __future__ import annotations

import pytest

from contracts import environment as env
from notifier.baseline.settings import BaselineOptions, load_baseline_settings
from notifier.settings import NotifierSettingsError, load_settings

BASE = {env.DD_API_KEY: "fake-dd-api-key-for-tests"}


def test_settings_without_baseline_table_no_baseline():
    assert load_settings(BASE).baseline is None
    assert load_baseline_settings({env.BASELINE_DAYS: "14"}) is None


def test_settings_defaults_and_values():
    assert load_settings({**BASE, env.BASELINE_TABLE: "t"}).baseline == BaselineOptions(
        "t", env.DEFAULT_BASELINE_DAYS, env.DEFAULT_BASELINE_LEARNING_HOURS, env.DEFAULT_BASELINE_MAX_KEYS)
    assert load_baseline_settings({env.BASELINE_TABLE: " t ", env.BASELINE_DAYS: "30",
                                   env.BASELINE_LEARNING_HOURS: "0", env.BASELINE_MAX_KEYS: "50"}) == \
        BaselineOptions("t", 30, 0, 50)


def test_settings_zero_days_is_no_baseline():
    assert load_baseline_settings({env.BASELINE_TABLE: "t", env.BASELINE_DAYS: "0"}) is None


@pytest.mark.parametrize(("name", "value"), [
    (env.BASELINE_DAYS, "-1"), (env.BASELINE_DAYS, "fourteen"), (env.BASELINE_LEARNING_HOURS, "1.5"),
    (env.BASELINE_MAX_KEYS, "0"),
])
def test_settings_bad_value_names_the_variable(name, value):
    with pytest.raises(NotifierSettingsError, match=f"{name}='{value}' must be a whole number"):
        load_settings({**BASE, env.BASELINE_TABLE: "t", name: value})
