"""Under Pulumi's mocks: every role's trust and grants, encryption, public access, the secret, IAM lint."""

from __future__ import annotations

import json
from typing import Any

import pytest
from parliament import analyze_policy_string

from contracts.baseline import NOTIFIER_TABLE_ACTIONS
from contracts.layout import DATA_PREFIX, ERROR_PREFIX
from tests.stack_support import (
    ACCOUNT_ID,
    CONFIGS,
    FAKE_API_KEY,
    REGION,
    SECRET_SIG_KEY,
    Registered,
    Run,
    as_list,
    pipeline_run,
    policy_documents,
    settings_of,
)

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Run]:
    directory = tmp_path_factory.getbasetemp() / "packages"
    directory.mkdir(exist_ok=True)
    return request.param, pipeline_run(request.param, directory)


def role_named(run: Run, part: str) -> Registered:
    return run.one(ROLE, part)


def trust(role: Registered) -> dict[str, Any]:
    document = json.loads(role.inputs["assumeRolePolicy"])
    assert len(document["Statement"]) == 1
    return document["Statement"][0]


def grants(run: Run, role: Registered) -> dict[str, set[str]]:
    """Action -> resources of the role's inline policy (the only policy any role has)."""
    policies = [p for p in run.of_type(ROLE_POLICY) if p.inputs["role"] == role.outputs["name"]]
    assert len(policies) == 1, role.name
    granted: dict[str, set[str]] = {}
    for statement in json.loads(policies[0].inputs["policy"])["Statement"]:
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            granted.setdefault(action, set()).update(as_list(statement["Resource"]))
    return granted


def arn_of(run: Run, typ: str, part: str = "") -> str:
    return run.one(typ, part).outputs["arn"]


def test_lambda_roles_trust_only_lambda_of_this_account_and_serve_one_function(run) -> None:
    _, result = run
    functions = result.of_type("aws:lambda/function:Function")
    for function in functions:
        role = next(r for r in result.of_type(ROLE) if r.outputs["arn"] == function.inputs["role"])
        statement = trust(role)
        assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
        assert statement["Action"] == "sts:AssumeRole"
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}
    assert len({f.inputs["role"] for f in functions}) == len(functions) == 2


def test_transform_role_writes_its_logs_and_reingests_into_its_stream(run) -> None:
    _, result = run
    role = role_named(result, "transform-role")
    logs = arn_of(result, "aws:cloudwatch/logGroup:LogGroup", "delivery-transform-logs")
    stream = arn_of(result, "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
    assert grants(result, role) == {
        "logs:CreateLogStream": {f"{logs}:log-stream:*"},
        "logs:PutLogEvents": {f"{logs}:log-stream:*"},
        "firehose:PutRecordBatch": {stream},
    }


def test_notifier_role_reads_and_marks_only_its_prefixes(run) -> None:
    _, result = run
    role = role_named(result, "notifier-role")
    bucket = arn_of(result, "aws:s3/bucket:Bucket")
    logs = arn_of(result, "aws:cloudwatch/logGroup:LogGroup", "notifier-notifier-logs")
    objects = {f"{bucket}/{DATA_PREFIX}*", f"{bucket}/{ERROR_PREFIX}*"}
    assert grants(result, role) == {
        "logs:CreateLogStream": {f"{logs}:log-stream:*"},
        "logs:PutLogEvents": {f"{logs}:log-stream:*"},
        "s3:GetObject": objects,
        "s3:GetObjectTagging": objects,
        "s3:PutObjectTagging": objects,
        "s3:ListBucket": {bucket},
        "secretsmanager:GetSecretValue": {arn_of(result, "aws:secretsmanager/secret:Secret")},
        "sqs:SendMessage": {arn_of(result, "aws:sqs/queue:Queue")},
        # The baseline (on by default): exactly the notifier's item actions, on its one table.
        **{action: {arn_of(result, "aws:dynamodb/table:Table")} for action in NOTIFIER_TABLE_ACTIONS},
    }


def test_firehose_role_trust_and_grants(run) -> None:
    _, result = run
    role = role_named(result, "delivery-role")
    statement = trust(role)
    assert statement["Principal"] == {"Service": "firehose.amazonaws.com"}
    # Firehose's documented confused-deputy guard: it passes the account id as the external id.
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": ACCOUNT_ID}}
    bucket = arn_of(result, "aws:s3/bucket:Bucket")
    transform = arn_of(result, "aws:lambda/function:Function", "transform")
    errors = arn_of(result, "aws:cloudwatch/logGroup:LogGroup", "delivery-errors")
    assert grants(result, role) == {
        "s3:AbortMultipartUpload": {f"{bucket}/*"},
        "s3:GetObject": {f"{bucket}/*"},
        "s3:PutObject": {f"{bucket}/*"},
        "s3:GetBucketLocation": {bucket},
        "s3:ListBucket": {bucket},
        "s3:ListBucketMultipartUploads": {bucket},
        "lambda:GetFunctionConfiguration": {transform, f"{transform}:*"},
        "lambda:InvokeFunction": {transform, f"{transform}:*"},
        "logs:PutLogEvents": {f"{errors}:log-stream:DestinationDelivery"},
    }


def test_subscription_role_trusts_logs_of_this_account_only(run) -> None:
    _, result = run
    role = role_named(result, "subscription-role")
    statement = trust(role)
    assert statement["Principal"] == {"Service": "logs.amazonaws.com"}
    source = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:*"
    assert statement["Condition"] == {"StringLike": {"aws:SourceArn": source}}
    stream = arn_of(result, "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
    assert grants(result, role) == {"firehose:PutRecord": {stream}, "firehose:PutRecordBatch": {stream}}


def test_flow_log_role_trusts_vpc_flow_logs_of_this_account_only(run) -> None:
    name, result = run
    roles = [r for r in result.of_type(ROLE) if "flow-log-role" in r.name]
    if not settings_of(name).flow_logs.vpc_ids:
        assert roles == []
        return
    (role,) = roles
    statement = trust(role)
    assert statement["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
        "ArnLike": {"aws:SourceArn": f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:vpc-flow-log/*"},
    }
    group = result.of_type("aws:ec2/flowLog:FlowLog")[0].inputs["logDestination"]
    streams = {group, f"{group}:log-stream:*"}
    assert grants(result, role) == {
        "logs:CreateLogStream": streams, "logs:DescribeLogStreams": streams, "logs:PutLogEvents": streams,
    }


def test_no_allow_statement_has_a_wildcard_action_or_resource(run) -> None:
    _, result = run
    for name, kind, document in policy_documents(result):
        for statement in document["Statement"]:
            if statement["Effect"] != "Allow" or kind == "trust":
                continue
            for action in as_list(statement["Action"]):
                assert "*" not in action, f"{name}: {action}"
            for resource in as_list(statement["Resource"]):
                assert resource != "*" and not resource.endswith(":*:*"), f"{name}: {resource}"
                assert f":{ACCOUNT_ID}:" in resource or resource.startswith("arn:aws:s3:::"), resource


def test_bucket_is_encrypted_private_owner_enforced_and_tls_only(run) -> None:
    _, result = run
    bucket = result.one("aws:s3/bucket:Bucket").outputs
    encryption = result.one("aws:s3/bucketServerSideEncryptionConfiguration:"
                            "BucketServerSideEncryptionConfiguration").inputs
    assert encryption["bucket"] == bucket["bucket"]
    assert encryption["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    block = result.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert block["bucket"] == bucket["bucket"]
    for key in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        assert block[key] is True, key
    ownership = result.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs
    assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    policy = json.loads(result.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    (deny,) = policy["Statement"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert set(deny["Resource"]) == {bucket["arn"], f"{bucket['arn']}/*"}
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_lifecycle_covers_archive_errors_and_multipart_uploads(run) -> None:
    name, result = run
    settings = settings_of(name)
    rules = {r["id"]: r for r in result.one("aws:s3/bucketLifecycleConfiguration:"
                                           "BucketLifecycleConfiguration").inputs["rules"]}
    assert rules["archive"]["filter"]["prefix"] == DATA_PREFIX
    assert rules["archive"]["expiration"]["days"] == settings.retention.archive_expiration_days
    assert rules["archive"]["transitions"] == [{"days": settings.retention.archive_transition_days,
                                                "storageClass": "STANDARD_IA"}]
    assert rules["errors"]["filter"]["prefix"] == ERROR_PREFIX
    assert rules["errors"]["expiration"]["days"] == settings.retention.error_expiration_days
    abort = rules["abort-incomplete-multipart-uploads"]
    assert abort["filter"]["prefix"] == ""
    assert abort["abortIncompleteMultipartUpload"]["daysAfterInitiation"] > 0
    assert all(rule["status"] == "Enabled" for rule in rules.values())


def test_firehose_encrypts_at_rest(run) -> None:
    _, result = run
    stream = result.one("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream").inputs
    assert stream["serverSideEncryption"] == {"enabled": True, "keyType": "AWS_OWNED_CMK"}
    assert stream["destination"] == "extended_s3"


def test_dead_letter_queue_is_encrypted_and_wired(run) -> None:
    _, result = run
    queue = result.one("aws:sqs/queue:Queue")
    assert queue.inputs["sqsManagedSseEnabled"] is True
    config = result.one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
    assert config.inputs["destinationConfig"]["onFailure"]["destination"] == queue.outputs["arn"]
    assert result.one(ROLE_POLICY, "notifier-role").urn in config.dependencies


def _paths_with(value: Any, needle: str, path: str = "") -> list[str]:
    """Where `needle` appears in plain text (a secret-wrapped value is not plain text)."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG_KEY) is not None:
            return []
        return [p for k, v in value.items() for p in _paths_with(v, needle, f"{path}.{k}")]
    if isinstance(value, list | tuple):
        return [p for i, v in enumerate(value) for p in _paths_with(v, needle, f"{path}[{i}]")]
    return [path] if isinstance(value, str) and needle in value else []


def test_the_api_key_is_only_in_the_secret_version_and_marked_secret(run) -> None:
    _, result = run
    version = result.one("aws:secretsmanager/secretVersion:SecretVersion")
    wrapped = version.inputs["secretString"]
    assert wrapped[SECRET_SIG_KEY] and wrapped["value"] == FAKE_API_KEY
    assert version.inputs["secretId"] == result.one("aws:secretsmanager/secret:Secret").outputs["arn"]
    for resource in result.resources:
        assert _paths_with(resource.inputs, FAKE_API_KEY) == [], resource.name
    assert FAKE_API_KEY not in json.dumps(result.exports, default=str)


def _lint(name: str, kind: str, document: dict[str, Any]) -> list[str]:
    document = json.loads(json.dumps(document))
    if kind == "trust":
        # parliament lints identity policies: it wants a Resource and has no Principal. A trust
        # statement is linted as the grant it is (sts:AssumeRole on this role), conditions included.
        for statement in document["Statement"]:
            statement.pop("Principal")
            statement["Resource"] = f"arn:aws:iam::{ACCOUNT_ID}:role/{name}"
    policy = analyze_policy_string(json.dumps(document), include_community_auditors=True)
    findings = []
    for finding in policy.findings:
        # CREDENTIALS_EXPOSURE flags sts:AssumeRole as an action returning credentials: true of
        # any trust policy, and exactly its purpose here.
        if kind == "trust" and finding.issue == "CREDENTIALS_EXPOSURE":
            continue
        findings.append(f"{name} ({kind}): {finding.issue} {finding.detail}")
    return findings


def test_parliament_finds_nothing_in_any_iam_document(run) -> None:
    _, result = run
    documents = policy_documents(result)
    kinds = {kind for _, kind, _ in documents}
    assert kinds == {"trust", "identity", "resource"}
    findings = [f for name, kind, document in documents for f in _lint(name, kind, document)]
    assert findings == []


def test_parliament_would_catch_an_unknown_action_and_a_resource_mismatch() -> None:
    bad = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["firehose:PutRecords"], "Resource": ["arn:aws:s3:::bucket"]},
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::bucket"]},
    ]}
    issues = {f.split(": ")[1].split()[0] for f in _lint("bad", "identity", bad)}
    assert {"UNKNOWN_ACTION", "RESOURCE_MISMATCH"} <= issues

