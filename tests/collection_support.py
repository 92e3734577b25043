"""Stack configs of each collection mode, shared by the pure settings tests and the stack tests."""

from __future__ import annotations

from typing import Any

from tests.stack_support import REGION

SOURCE_ACCOUNTS = ["111111111111", "222222222222"]
ORGANIZATION = "o-a1b2c3d4e5"
CENTRAL_ACCOUNT = "999999999999"
CENTRAL_DESTINATION = f"arn:aws:logs:{REGION}:{CENTRAL_ACCOUNT}:destination:rejected-flows-central-flows"
VPCS = ["vpc-0123456789abcdef0", "vpc-0fedcba9876543210"]

CENTRAL_CONFIGS: dict[str, dict[str, Any]] = {
    "accounts": {"sourceAccountIds": SOURCE_ACCOUNTS, "vpcIds": VPCS[:1]},
    "organization": {"organizationId": ORGANIZATION, "sourceRegions": ["eu-west-1"]},
    "regions": {"sourceAccountIds": SOURCE_ACCOUNTS[:1], "sourceRegions": ["us-west-2", "eu-west-1"]},
    "direct": {"flowLogDestination": "firehose", "vpcIds": VPCS},
    "direct-existing": {"flowLogDestination": "firehose", "vpcIds": VPCS[:1],
                        "logGroupName": "/existing/flow-logs"},
}
MEMBER_CONFIGS: dict[str, dict[str, Any]] = {
    "member": {"centralDestinationArn": CENTRAL_DESTINATION, "vpcIds": VPCS},
    "member-existing": {"centralDestinationArn": CENTRAL_DESTINATION, "logGroupName": "/existing/flow-logs"},
}
