"""The notifier's whole outcome per object, recorded from the code before its path was straightened.

Temporary (issue 21 item 7): every case puts one object in moto's S3, invokes the handler against a
loopback Datadog and compares what a user would check, byte for byte, with `tests/golden/notifier.json`:
the answer, every request body posted (a 413's smaller resend too), the object's tags afterwards, the
metrics and the notifier's log lines (without time, place in the code or cold start). Regenerate only
on purpose: `NOTIFIER_GOLDEN_WRITE=1 .venv/bin/python -m pytest tests/test_notifier_golden.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3
import pytest

from notifier import handler as notifier
from tests.baseline_support import TABLE, create_table
from tests.notifier_support import (  # noqa: F401 (the *_fixture names register pytest fixtures)
    ACCEPTED,
    BUCKET,
    DATA_KEY,
    ERROR_KEY,
    EVENTS,
    HOUR_START,
    aws_fixture,
    clock_fixture,
    emf_metrics,
    env_fixture,
    error_line,
    flow,
    gz,
    invoke,
    ndjson,
    posted,
    put,
    s3_event,
    scanner_batch,
    tags_of,
)

GOLDEN = Path(__file__).parent / "golden" / "notifier.json"
VOLATILE_LOG_KEYS = {"timestamp", "location", "cold_start", "xray_trace_id", "sampling_rate"}
HOSTILE = "[click](https://evil.example/x) ![i](http://e/i.png) <script>x</script> @here `tick`` \u202e"
NO_PARTITION_KEY = "rejected/by-hand/flows.json.gz"


def _hostile_flows() -> list[dict]:
    return [flow("10.1.2.3", 22, log_group=HOSTILE, vpc_id=HOSTILE, region="eu-west-1"),
            flow("fd00::1%eth0", 443, interface_id=f"eni-{HOSTILE}", account_id=HOSTILE),
            flow(f"198.51.100.9{HOSTILE}", 80)]


def _long_flows() -> list[dict]:
    flows = [flow(f"203.0.113.{i}", 1000 + i, log_group="/vpc/" + chr(97 + i % 5) * 512,
                  interface_id=f"eni-{i:017x}") for i in range(60)]
    flows += [flow(f"10.9.{i // 250}.{i % 250}", 22, start=HOUR_START + i) for i in range(80)]
    return flows


CASES: dict[str, dict[str, Any]] = {
    "rejected-scanners": {"key": DATA_KEY, "body": gz(ndjson(scanner_batch())), "tagging": "owner=netsec"},
    "rejected-internal-hostile": {"key": DATA_KEY, "body": gz(ndjson(_hostile_flows()))},
    "rejected-invalid-lines": {"key": DATA_KEY, "body": gz(ndjson(
        [flow("10.0.0.9", 3306), flow("203.0.113.4", 0, protocol=1)],
        [b"not json\n", b"\xff\xfe\n", b'{"srcaddr": 5, "dstport": "x"}\n', b'{"start": 1795802400000}\n']))},
    "rejected-no-partition": {"key": NO_PARTITION_KEY,
                              "body": gz(ndjson([flow("203.0.113.8", 25, start=HOUR_START - 5 * 3600)]))},
    "rejected-old-flows": {"key": DATA_KEY,
                           "body": gz(ndjson([flow("203.0.113.8", 25, start=HOUR_START - 30 * 3600)]))},
    "rejected-no-times": {"key": DATA_KEY, "body": gz(ndjson([{**flow("203.0.113.8", 25), "start": None,
                                                          "end": None, "bytes": None, "packets": None}]))},
    "rejected-long-values-fit": {"key": DATA_KEY, "body": gz(ndjson(_long_flows()))},
    "rejected-413-shrink": {"key": DATA_KEY, "body": gz(ndjson(_long_flows())), "answers": [413, 202]},
    "rejected-413-twice": {"key": DATA_KEY, "body": gz(ndjson(scanner_batch())), "answers": [413, 413]},
    "rejected-400-refused": {"key": DATA_KEY, "body": gz(ndjson(scanner_batch())), "answers": [400]},
    "rejected-empty": {"key": DATA_KEY, "body": gz(b"")},
    "rejected-baseline-new": {"key": DATA_KEY, "baseline": "0",
                              "body": gz(ndjson([flow("10.20.40.77", 8080), flow("203.0.113.5", 22)]))},
    "rejected-baseline-learning": {"key": DATA_KEY, "baseline": "24",
                                   "body": gz(ndjson([flow("10.20.40.77", 8080, dstaddr="10.0.1.25")]))},
    "rejected-baseline-no-partition": {"key": NO_PARTITION_KEY, "baseline": "0",
                                       "body": gz(ndjson([flow("10.20.40.77", 8080,
                                                               start=HOUR_START - 3 * 3600)]))},
    "errors-records": {"key": ERROR_KEY, "body": gz(
        error_line() + b"\n" + error_line("S3.AccessDenied", "Access `denied` <b>@team</b>") + b"\n"
        + b"{broken\n")},
    "errors-empty": {"key": ERROR_KEY, "body": gz(b"")},
    "errors-no-partition": {"key": "errors/manual.gz", "body": gz(error_line() + b"\n")},
    "unreadable-not-gzip": {"key": DATA_KEY, "body": b"plain text, not gzip"},
    "unreadable-truncated": {"key": DATA_KEY, "body": gz(ndjson(scanner_batch()))[:-20]},
    "unreadable-no-flow": {"key": DATA_KEY, "body": gz(b"hello\n" + b'{"a": 1}\n')},
    "unreadable-errors": {"key": ERROR_KEY, "body": gz(b"not json at all\n")},
    "unreadable-hostile-key": {"key": f"rejected/year=2026/month=11/day=27/hour=18/{HOSTILE}.gz",
                               "body": b"\x1f\x8bbroken"},
    "ignored": {"key": "elsewhere/x.gz", "body": gz(b"")},
}


def _answer(httpserver: Any, statuses: list[int]) -> None:
    for status in statuses:
        body = ACCEPTED if status < 300 else {"errors": [f"refused with {status} <b>@here</b>"]}
        httpserver.expect_ordered_request(EVENTS, method="POST").respond_with_json(body, status=status)


def _log_lines(caplog: Any) -> list[dict[str, Any]]:
    lines = []
    for record in caplog.records:
        if record.name != notifier.logger.name:
            continue
        line = json.loads(notifier.logger.registered_formatter.format(record))
        lines.append({k: v for k, v in line.items() if k not in VOLATILE_LOG_KEYS})
    return lines


def _outcome(case: dict[str, Any], aws: Any, env: Any, httpserver: Any, clock: Any, caplog: Any,
             capsys: Any, monkeypatch: Any) -> dict[str, Any]:
    if "baseline" in case:
        create_table(boto3.client("dynamodb"))
        for name, value in {"BASELINE_TABLE": TABLE, "BASELINE_DAYS": "14",
                            "BASELINE_LEARNING_HOURS": case["baseline"], "BASELINE_MAX_KEYS": "2000"}.items():
            monkeypatch.setenv(name, value)
        env()
    _answer(httpserver, case.get("answers", [202]))
    put(aws, case["key"], case["body"], case.get("tagging"))
    capsys.readouterr()
    caplog.clear()
    answer = invoke(s3_event(BUCKET, case["key"]), clock)
    out = capsys.readouterr().out
    return {
        "answer": answer,
        "posted": posted(httpserver),
        "tags": tags_of(aws, case["key"]),
        "metrics": sorted((m["name"], m["value"]) for m in emf_metrics(out)),
        "logs": _log_lines(caplog),
    }


@pytest.mark.parametrize("name", sorted(CASES))
def test_notifier_outcome_is_unchanged(name, aws, env, httpserver, clock, caplog, capsys, monkeypatch):
    caplog.set_level("DEBUG")
    got = json.loads(json.dumps(_outcome(CASES[name], aws, env, httpserver, clock, caplog, capsys,
                                         monkeypatch)))
    recorded = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
    if os.environ.get("NOTIFIER_GOLDEN_WRITE"):
        recorded[name] = got
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(recorded, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    assert got == recorded[name]


def test_golden_cases_cover_every_outcome():
    recorded = json.loads(GOLDEN.read_text())
    assert set(recorded) == set(CASES)
    outcomes = {o for case in recorded.values() for o in case["answer"]["objects"].values()}
    assert outcomes == {"posted", "unreadable", "refused", "empty", "ignored"}
    assert any(len(case["posted"]) == 2 for case in recorded.values())  # a 413's smaller resend
