"""The baseline's DynamoDB table (docs/architecture.md, The stack; contracts/baseline.py its key and TTL).

On demand (the notifier's reads and writes follow the traffic, from nothing to bursts), the items
expire through DynamoDB's TTL on `EXPIRY_ATTRIBUTE`, and deletion protection keeps a `pulumi destroy`
or a replacement from dropping what was learnt (turn it off with `pulumi config` first: README,
Clean up). Only the notifier's role is granted the table (infra/notifier.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from contracts.baseline import EXPIRY_ATTRIBUTE, PARTITION_KEY

# DynamoDB's attribute type of a string key.
STRING = "S"


@dataclass
class BaselineArgs:
    table_name: str
    tags: Mapping[str, str] = field(default_factory=dict)


class Baseline(pulumi.ComponentResource):
    """One table: partition key only, on demand, TTL, deletion protection, encrypted (AWS owned key)."""

    def __init__(self, name: str, args: BaselineArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("rejected-flows:baseline:Baseline", name, None, opts)
        self.table = aws.dynamodb.Table(
            f"{name}-table",
            name=args.table_name,
            billing_mode="PAY_PER_REQUEST",
            hash_key=PARTITION_KEY,
            attributes=[aws.dynamodb.TableAttributeArgs(name=PARTITION_KEY, type=STRING)],
            ttl=aws.dynamodb.TableTtlArgs(attribute_name=EXPIRY_ATTRIBUTE, enabled=True),
            deletion_protection_enabled=True,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, pulumi.Input[object]]:
        """This component's stack outputs (camelCase), registered with it and exported by the stack."""
        return {"baselineTableName": self.table.name}
