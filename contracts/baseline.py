"""The baseline's DynamoDB table, as the stack creates it and the notifier and `python -m baseline` use it.

docs/architecture.md (The notifier, the baseline) describes its items. One table per stack: the stack
names it (output `baselineTableName`) and hands it to the notifier as BASELINE_TABLE.
"""

from __future__ import annotations

# The table's only key: a string partition key (no sort key).
PARTITION_KEY = "pk"
# DynamoDB's TTL attribute: epoch seconds after which an item may be deleted.
EXPIRY_ATTRIBUTE = "expires"
# The item actions the notifier's role is granted on the table, and no others.
NOTIFIER_TABLE_ACTIONS: tuple[str, ...] = ("dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:UpdateItem")
