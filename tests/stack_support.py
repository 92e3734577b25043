"""Pulumi mocks for the stack tests: record every resource, answer the AWS lookups, run the program.

Not a conftest: the stack tests import it. Each `run_program` call sets fresh mocks and config, runs
the stack program (infra/program.py, the function `__main__.py` calls) under Pulumi's runtime, and
returns what was registered and the outputs the program returned. What needs Pulumi's internals is
in tests/pulumi_adapter.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from infra.packaging import LambdaPackage
from tests.pulumi_adapter import Program, Registered, run_mocked

PROJECT = "rejected-flows"
STACK = "test"
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"
FAKE_API_KEY = "fake-dd-api-key-for-tests"
CONFIG_SECRET_KEYS = [f"{PROJECT}:datadogApiKey", f"{PROJECT}:datadogAppKey"]
FAKE_APP_KEY = "fake-dd-app-key-for-tests"


def _arn(service: str, resource: str, region: str = REGION, account: str = ACCOUNT_ID) -> str:
    return f"arn:{PARTITION}:{service}:{region}:{account}:{resource}"


class RecordingMocks(pulumi.runtime.Mocks):
    """Outputs are the inputs plus what AWS would compute (ids, ARNs, names), with camelCase keys."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.provider_regions: dict[str, str] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        if args.typ == "pulumi:providers:aws":
            # Remember each explicit provider's region: resources through it get ARNs in that region.
            provider_id = f"{args.name}-id"
            self.provider_regions[provider_id] = inputs.get("region", REGION)
            return provider_id, inputs
        # pulumi-aws 7's per-resource `region`, else an explicit provider's (the program has none).
        region = inputs.get("region") or self.provider_regions.get(
            (args.provider or "").rsplit("::", 1)[-1], REGION)
        suffix = hashlib.sha1(args.name.encode()).hexdigest()[:7]
        name = inputs.get("name") or inputs.get("bucketPrefix", f"{args.name}-") + suffix
        computed = _computed(args.typ, name, inputs, region)
        resource_id = computed.pop("id", name)
        return resource_id, {**inputs, **computed}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        self.calls.append((args.token, dict(args.args)))
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT_ID, "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/test",
                    "userId": "AIDTEST", "id": ACCOUNT_ID}, []
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": REGION, "region": REGION, "id": REGION, "endpoint": f"ec2.{REGION}.amazonaws.com",
                    "description": "US East (N. Virginia)"}, []
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": PARTITION, "dnsSuffix": "amazonaws.com", "id": PARTITION,
                    "reverseDnsPrefix": "com.amazonaws"}, []
        raise NotImplementedError(f"unexpected call {args.token}")


def _monitor(name: str) -> dict[str, Any]:
    return {"id": str(int(hashlib.sha1(name.encode()).hexdigest()[:8], 16))}


def _dashboard(name: str) -> dict[str, Any]:
    dashboard_id = f"abc-{hashlib.sha1(name.encode()).hexdigest()[:3]}-xyz"
    return {"id": dashboard_id, "url": f"/dashboard/{dashboard_id}/rejected-flows"}


# The alarm topic and Datadog's resources: what their APIs compute.
_OPERATIONS: dict[str, Callable[[str], dict[str, Any]]] = {
    "aws:sns/topic:Topic": lambda name: {"arn": _arn("sns", name), "id": _arn("sns", name)},
    "aws:dynamodb/table:Table": lambda name: {"arn": _arn("dynamodb", f"table/{name}"), "id": name},
    "datadog:index/monitor:Monitor": _monitor,
    "datadog:index/dashboardJson:DashboardJson": _dashboard,
    "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter":
        lambda name: {"id": f"cwlsf-{hashlib.sha1(name.encode()).hexdigest()[:10]}"},
}


def _computed(typ: str, name: str, inputs: dict[str, Any], region: str = REGION) -> dict[str, Any]:
    if typ == "aws:cloudwatch/logDestination:LogDestination":
        arn = _arn("logs", f"destination:{name}", region)
        return {"arn": arn, "id": name}
    if typ == "aws:s3/bucket:Bucket":
        return {"bucket": name, "arn": f"arn:aws:s3:::{name}", "id": name}
    if typ == "aws:iam/role:Role":
        return {"name": name, "arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{name}", "id": name}
    if typ == "aws:lambda/function:Function":
        return {"arn": _arn("lambda", f"function:{name}"), "id": name,
                "invokeArn": f"arn:aws:apigateway:{REGION}:lambda:path/functions/{name}/invocations"}
    if typ == "aws:cloudwatch/logGroup:LogGroup":
        return {"arn": _arn("logs", f"log-group:{name}"), "id": name}
    if typ == "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream":
        arn = _arn("firehose", f"deliverystream/{name}")
        return {"arn": arn, "id": arn}
    if typ == "aws:secretsmanager/secret:Secret":
        arn = _arn("secretsmanager", f"secret:{name}-AbCdEf")
        return {"arn": arn, "id": arn}
    if typ == "aws:sqs/queue:Queue":
        return {"arn": _arn("sqs", name), "url": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{name}",
                "id": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{name}", "name": name}
    if typ == "aws:glue/catalogDatabase:CatalogDatabase":
        return {"arn": _arn("glue", f"database/{name}"), "id": f"{ACCOUNT_ID}:{name}"}
    if typ == "aws:glue/catalogTable:CatalogTable":
        return {"arn": _arn("glue", f"table/{inputs.get('databaseName')}/{name}"),
                "id": f"{ACCOUNT_ID}:{inputs.get('databaseName')}:{name}"}
    if typ == "aws:athena/workgroup:Workgroup":
        return {"arn": _arn("athena", f"workgroup/{name}"), "id": name}
    if typ == "aws:athena/namedQuery:NamedQuery":
        return {"id": hashlib.sha1(name.encode()).hexdigest()}
    if typ in _OPERATIONS:
        return _OPERATIONS[typ](name)
    if typ == "aws:ec2/flowLog:FlowLog":
        return {"id": f"fl-{hashlib.sha1(name.encode()).hexdigest()[:17]}",
                "arn": _arn("ec2", f"vpc-flow-log/fl-{name}")}
    return {"name": name} if "name" not in inputs else {}


@dataclass
class Run:
    resources: list[Registered]
    exports: dict[str, Any] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def of_type(self, typ: str) -> list[Registered]:
        return [r for r in self.resources if r.type == typ]

    def one(self, typ: str, name_part: str = "") -> Registered:
        found = [r for r in self.of_type(typ) if name_part in r.name]
        assert len(found) == 1, f"expected one {typ} named *{name_part}*, got {[r.name for r in found]}"
        return found[0]


def config_values(
    overrides: Mapping[str, Any] | None = None, api_key: str | None = FAKE_API_KEY,
) -> dict[str, str]:
    """Stack config as the CLI hands it to the program: `project:key` → string (JSON for lists)."""
    key: dict[str, Any] = {"datadogApiKey": api_key} if api_key is not None else {}
    values: dict[str, Any] = {**key, **(overrides or {})}
    return {f"{PROJECT}:{key}": value if isinstance(value, str) else json.dumps(value)
            for key, value in values.items()}


def run_program(
    program: Program, config: Mapping[str, Any] | None = None, api_key: str | None = FAKE_API_KEY,
    stack: str = STACK,
) -> Run:
    """Run `program` under fresh mocks and config (`api_key` None: no datadogApiKey set); return the
    registrations and its resolved outputs."""
    mocks = RecordingMocks()
    resources, exports = run_mocked(program, mocks, project=PROJECT, stack=stack,
                                    config=config_values(config, api_key), secret_keys=CONFIG_SECRET_KEYS)
    return Run(resources, exports, mocks.calls)


def fake_package(tmp: Path, name: str) -> LambdaPackage:
    """A tiny zip standing in for a built Lambda package (the packaging tests build the real ones)."""
    path = tmp / f"{name}.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}/handler.py", "def handler(event, context):\n    return None\n")
    data = path.read_bytes()
    return LambdaPackage(path, base64.b64encode(hashlib.sha256(data).digest()).decode(), len(data))


# Configurations every stack test runs: the defaults, flow logs for two VPCs, an existing group.
CONFIGS: dict[str, dict[str, Any]] = {
    "default": {},
    "vpcs": {
        "vpcIds": ["vpc-0123456789abcdef0", "vpc-0fedcba9876543210"],
        "datadogTags": ["env:test", "team:netsec"],
        "resourceTags": ["team=netsec", "cost-center=1234"],
        "datadogSite": "datadoghq.eu",
    },
    "existing": {
        "logGroupName": "/existing/flow-logs",
        "vpcIds": ["vpc-0123456789abcdef0"],
        "lambdaArchitecture": "x86_64",
        "notifierRetryAttempts": 0,
        "notifierMaxEventAgeSeconds": 3600,
    },
}
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"


def components_program(packages_dir: Path) -> Program:
    """The stack program with tiny stand-in zips (test_packaging and test_stack_main build real ones)."""

    def program() -> dict[str, pulumi.Input[object]]:
        from infra.program import run
        from infra.stack import Packages

        def stand_ins(_architecture: str) -> Packages:
            return Packages(fake_package(packages_dir, "transform"), fake_package(packages_dir, "notifier"))

        return run(pulumi.Config(), stand_ins)

    return program


_RUNS: dict[str, Run] = {}


def pipeline_run(config_name: str, packages_dir: Path) -> Run:
    """One mocked run per configuration per test session (~1 s each once pulumi_aws is imported)."""
    if config_name not in _RUNS:
        _RUNS[config_name] = run_program(components_program(packages_dir), CONFIGS[config_name])
    return _RUNS[config_name]


def settings_of(config_name: str) -> Any:
    from contracts.settings import settings_from

    return settings_from(CONFIGS[config_name])


def policy_documents(run: Run) -> list[tuple[str, str, dict[str, Any]]]:
    """Every IAM document the program emits: (resource name, kind, parsed document)."""
    documents = []
    for resource in run.resources:
        if resource.type == "aws:iam/role:Role":
            documents.append((resource.name, "trust", json.loads(resource.inputs["assumeRolePolicy"])))
        elif resource.type == "aws:iam/rolePolicy:RolePolicy":
            documents.append((resource.name, "identity", json.loads(resource.inputs["policy"])))
        elif resource.type == "aws:s3/bucketPolicy:BucketPolicy":
            documents.append((resource.name, "resource", json.loads(resource.inputs["policy"])))
        elif resource.type == "aws:cloudwatch/logDestinationPolicy:LogDestinationPolicy":
            documents.append((resource.name, "resource", json.loads(resource.inputs["accessPolicy"])))
    return documents


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
