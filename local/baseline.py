"""The baseline's table in moto, and the notifier's BASELINE_* variables, as the stack makes them.

The table: string partition key `PARTITION_KEY`, on demand, TTL on `EXPIRY_ATTRIBUTE`
(`contracts/baseline.py`, as `infra/` creates it). The variables: the table's name and the stack's
defaults of `baselineDays`, `baselineLearningHours` and `baselineMaxKeys`. The stack's settings do not
carry those keys on this branch yet, so their defaults come from `contracts/environment.py` (the same
numbers `Pulumi.yaml` gives them); a stack with `baselineDays: 0` makes no table and sets none of them.
"""

from __future__ import annotations

from typing import Any

from contracts import environment as env
from contracts.baseline import EXPIRY_ATTRIBUTE, PARTITION_KEY


def create_table(dynamodb: Any, name: str) -> None:
    """The baseline's table as the stack creates it (deletion protection has no meaning in moto)."""
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": PARTITION_KEY, "AttributeType": "S"}],
        KeySchema=[{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={
        "Enabled": True, "AttributeName": EXPIRY_ATTRIBUTE})


def baseline_environment(table: str, days: int = env.DEFAULT_BASELINE_DAYS,
                         learning_hours: int = env.DEFAULT_BASELINE_LEARNING_HOURS,
                         max_keys: int = env.DEFAULT_BASELINE_MAX_KEYS) -> dict[str, str]:
    """The notifier's BASELINE_* variables, as the stack sets them when it creates the table."""
    return {
        env.BASELINE_TABLE: table,
        env.BASELINE_DAYS: str(days),
        env.BASELINE_LEARNING_HOURS: str(learning_hours),
        env.BASELINE_MAX_KEYS: str(max_keys),
    }
