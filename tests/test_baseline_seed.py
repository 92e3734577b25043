"""`python -m baseline seed` against moto's S3 and DynamoDB: dry run, exact keys, idempotent, then known."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer

from baseline.__main__ import OBJECTS_LEFT, OK, USAGE_ERROR, main
from notifier.baseline.dynamo import LEARNING_PK
from notifier.baseline.keys import arrival_cap, collect_keys
from notifier.baseline.settings import BaselineOptions
from notifier.baseline.step import Baseline
from notifier.networks import InternalNetworks
from tests.baseline_support import TABLE, create_table, table_items
from tests.notifier_support import HOUR_START, fake_aws_credentials, flow, gz, ndjson

BUCKET = "rejected-flows-archive-seed"
NOW = datetime.fromtimestamp(HOUR_START + 2 * 3600, UTC)  # 2026-11-27 20:00 UTC


def key_at(hour_start: int, name: str) -> str:
    t = datetime.fromtimestamp(hour_start, UTC)
    return f"rejected/year={t:%Y}/month={t:%m}/day={t:%d}/hour={t:%H}/rejected-flows-1-{name}.gz"


# Two days of archive: a chronic internal reject, a scanner, NACL-rejected replies; one object too old.
OBJECTS = {
    key_at(HOUR_START - 86_400, "day-one"): [flow("10.20.40.77", 8080, start=HOUR_START - 86_000),
                                             flow("198.51.100.23", 22, start=HOUR_START - 86_000)],
    key_at(HOUR_START, "day-two"): [flow("10.20.40.77", 8080), flow("198.51.100.23", 23)]
    + [flow("10.0.3.9", 40000 + i, srcport=443) for i in range(50)],
    key_at(HOUR_START - 9 * 86_400, "too-old"): [flow("10.66.66.66", 9999, start=HOUR_START - 9 * 86_400)],
}


@pytest.fixture(name="archive")
def archive_fixture(monkeypatch):
    fake_aws_credentials(monkeypatch)
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        for key, flows in OBJECTS.items():
            s3.put_object(Bucket=BUCKET, Key=key, Body=gz(ndjson(flows)))
        dynamodb = boto3.client("dynamodb")
        create_table(dynamodb)
        yield s3, dynamodb


def run(*extra: str, environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["seed", "--bucket", BUCKET, "--table", TABLE, "--days", "2", *extra], out, err,
                environ={} if environ is None else environ, now=NOW)
    return code, out.getvalue(), err.getvalue()


def expected_pks() -> set[str]:
    """The keys the notifier's own rules give for the two days' objects."""
    pks = set()
    for key, flows in OBJECTS.items():
        if "too-old" not in key:
            hour = HOUR_START - 86_400 if "day-one" in key else HOUR_START
            keys = collect_keys(flows, InternalNetworks(), 2000, arrival_cap(hour + 3600))
            pks |= {s.key.pk for s in keys.sightings}
    return pks


def test_seed_dry_run_counts_and_writes_nothing(archive):
    _, dynamodb = archive
    code, out, err = run("--dry-run")
    assert (code, err) == (OK, "")
    # Day two sees again the chronic pair, its target port and the scanner: 3 known.
    assert out == (f"dry run: would seed {len(expected_pks())} new keys into {TABLE} (3 already known, "
                   "0 unchecked) from 2 objects (54 flows)\n")
    assert table_items(dynamodb) == {}


def test_seed_writes_exactly_the_notifier_s_keys_and_is_idempotent(archive):
    _, dynamodb = archive
    code, out, _ = run()
    assert code == OK and out.startswith(f"seeded {len(expected_pks())} new keys")
    items = table_items(dynamodb)
    assert set(items) == expected_pks() | {LEARNING_PK}
    # The NACL's rejected replies are one key, by the HTTPS server's side.
    assert '["internal","10.0.3.9",null,443,6,true]' in items  # a reply: its service side alone
    assert items[LEARNING_PK]["started"] == str(HOUR_START - 86_000 + 59)
    again = run()
    assert again[0] == OK and again[1].startswith("seeded 0 new keys")
    assert table_items(dynamodb) == items


def test_seed_then_the_notifier_finds_the_keys_known_and_no_learning(archive):
    _, dynamodb = archive
    run()
    settings = BaselineOptions(TABLE, days=14, learning_hours=24, max_keys=2000)
    later = HOUR_START + 3 * 3600
    keys = collect_keys([flow("10.20.40.77", 8080, start=later), flow("10.99.0.1", 5432, start=later)],
                        InternalNetworks(), 2000, arrival_cap(later + 3600))
    assessment = Baseline(settings, lambda: dynamodb).assess("s3://b/new-object", keys)
    verdicts = {(v.key.kind, v.key.source, v.key.port): v.verdict for v in assessment.verdicts}
    # Learning began with the earliest seeded flow, over 24 hours before: the baseline is active.
    assert assessment.state == "active"
    assert verdicts[("internal", "10.20.40.77", 8080)] == "known"
    assert verdicts[("internal", "10.99.0.1", 5432)] == "new"


def test_seed_names_an_unreadable_object_and_exits_1(archive):
    s3, dynamodb = archive
    broken = key_at(HOUR_START, "broken")
    s3.put_object(Bucket=BUCKET, Key=broken, Body=gz(b"{}\n" * 10)[:-8])
    code, out, err = run()
    assert code == OBJECTS_LEFT
    assert f"error: s3://{BUCKET}/{broken}: truncated or corrupt gzip" in err
    assert "2 objects" in out and "1 unreadable" in out
    assert expected_pks() <= set(table_items(dynamodb))


@pytest.mark.parametrize(("args", "message"), [
    (["--bucket", "s3://x"], "--bucket takes a bucket name"),
    (["--days", "0"], "--days takes 1 to 400 days"),
])
def test_seed_usage_errors_exit_2(archive, args, message):
    argv = ["seed", "--bucket", BUCKET, "--table", TABLE, "--days", "2"]
    for flag, value in zip(args[::2], args[1::2], strict=True):
        argv[argv.index(flag) + 1] = value
    err = io.StringIO()
    assert main(argv, io.StringIO(), err, environ={}, now=NOW) == USAGE_ERROR
    assert message in err.getvalue()


def test_seed_baseline_days_zero_is_a_usage_error(archive):
    code, _, err = run(environ={"BASELINE_DAYS": "0"})
    assert code == USAGE_ERROR and "nothing to seed" in err


def test_seed_missing_table_is_a_setup_error(archive):
    err = io.StringIO()
    code = main(["seed", "--bucket", BUCKET, "--table", "no-such-table", "--days", "2"], io.StringIO(), err,
                environ={}, now=NOW)
    assert code == USAGE_ERROR and "ResourceNotFoundException" in err.getvalue()


def test_seed_honours_the_service_endpoints(monkeypatch):
    """AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL_DYNAMODB point boto3 at a moto server on the loopback."""
    fake_aws_credentials(monkeypatch)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", url)
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", url)
        s3, dynamodb = boto3.client("s3"), boto3.client("dynamodb")
        assert s3.meta.endpoint_url == url and dynamodb.meta.endpoint_url == url
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        key = key_at(HOUR_START, "day-two")
        s3.put_object(Bucket=BUCKET, Key=key, Body=gz(ndjson(OBJECTS[key])))
        create_table(dynamodb)
        code, out, _ = run(environ=dict(os.environ))
        assert code == OK and "from 1 object (52 flows)" in out
        assert len(table_items(dynamodb)) > 1
    finally:
        server.stop()
