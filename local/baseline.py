"""The baseline's table in moto, as the stack creates it (`infra/baseline.py`): string partition key
`PARTITION_KEY`, on demand, TTL on `EXPIRY_ATTRIBUTE` (`contracts/baseline.py`). The notifier is told
about it as the stack tells it (`contracts/lambdas.py`, `local/pipeline.py`); with `baselineDays: 0`
there is no table.
"""

from __future__ import annotations

from typing import Any

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
