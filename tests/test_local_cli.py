"""`python -m local demo`: usage errors are one line and exit 2; the real command runs end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from local.__main__ import main

ROOT = Path(__file__).resolve().parent.parent


def test_missing_input_is_a_one_line_error(tmp_path, capsys):
    assert main(["demo", "--input", str(tmp_path / "nope.log"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope.log" in err and "does not exist" in err


@pytest.mark.parametrize("fmt", ["${version} ${nonsense}", "version action", "${srcaddr} ${dstaddr}"])
def test_bad_format_is_a_one_line_error(tmp_path, capsys, fmt):
    assert main(["demo", "--format", fmt, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_demo_command_runs_end_to_end(tmp_path):
    lines = tmp_path / "flows.log"
    eni, window = "eni-0a1b2c3d4e5f60718", "1795748400 1795748460"
    lines.write_text(
        f"2 123456789012 {eni} 198.51.100.7 10.0.0.5 51234 22 6 1 40 {window} REJECT OK\n"
        f"2 123456789012 {eni} 10.0.0.5 198.51.100.7 443 51234 6 9 900 {window} ACCEPT OK\n"
    )
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "local", "demo", "--input", str(lines), "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "REJECT kept   1 flow archived in 1 object" in done.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["flows_archived"] == 1 and summary["events_posted"] == 1
    assert (out / "datadog-events.jsonl").read_text().count("\n") == 1
    assert list((out / "s3").rglob("*.gz"))


def test_minutes_below_one_is_a_usage_error(tmp_path, capsys):
    assert main(["demo", "--minutes", "0", "--out", str(tmp_path)]) == 2
    assert "--minutes" in capsys.readouterr().err


def test_default_demo_shows_where_damaged_lines_go(tmp_path):
    out = tmp_path / "out"
    assert main(["demo", "--minutes", "3", "--out", str(out)]) == 0

    summary = json.loads((out / "summary.json").read_text())
    assert summary["not_shipped"] == 1
    assert (out / "not-shipped.log").read_text().count("\n") == 1
    assert list((out / "s3").rglob("errors/processing-failed/**/*.gz"))
    events = [json.loads(line) for line in (out / "datadog-events.jsonl").read_text().splitlines()]
    assert [e["alert_type"] for e in events].count("error") == 1


def test_negative_damaged_is_a_usage_error(tmp_path, capsys):
    assert main(["demo", "--damaged", "-1", "--out", str(tmp_path)]) == 2
    assert "--damaged" in capsys.readouterr().err
