"""`python -m local demo`: usage errors are one line and exit 2; the real command runs end to end and
tells the truth (counts, times, names, wall time)."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from contracts.flowlog import parse_format
from local.__main__ import MAX_MINUTES, main
from tests.local_support import archived_rows, flow_line, rejected_flows, summary_of

pytestmark = pytest.mark.slow

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


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize("option", [["--minutes", "3"], ["--seed", "1"], ["--damaged", "0"],
                                    ["--start", "2026-11-20T10:00Z"]])
def test_sample_options_are_refused_with_an_input(tmp_path, capsys, option):
    flows = tmp_path / "flows.log"
    flows.write_text(flow_line() + "\n")
    assert main(["demo", "--input", str(flows), *option, "--out", str(tmp_path / "out")]) == 2
    err = one_line_error(capsys)
    assert option[0] in err and "not apply to --input" in err


def test_every_sample_option_given_with_an_input_is_named(tmp_path, capsys):
    flows = tmp_path / "flows.log"
    flows.write_text(flow_line() + "\n")
    assert main(["demo", "--input", str(flows), "--minutes", "3", "--seed", "1",
                 "--out", str(tmp_path / "out")]) == 2
    assert "--minutes and --seed shape the generated sample and do not apply to --input; leave them out" \
        in one_line_error(capsys)


@pytest.mark.parametrize(("options", "expected"), [
    (["--damaged", "100000"], "--damaged 100,000 is more than the 750 REJECT lines 15 minutes"),
    (["--minutes", "2", "--damaged", "101"], "more than the 100 REJECT lines 2 minutes"),
    (["--minutes", "100000"], f"--minutes must be 1 to {MAX_MINUTES:,} (a day of traffic"),
    (["--start", "yesterday"], "--start 'yesterday' is not an ISO 8601 time"),
    (["--start", "2009-01-01T00:00Z"], "outside 2015-2099"),
])
def test_sample_options_are_bounded(tmp_path, capsys, options, expected):
    started = time.monotonic()
    assert main(["demo", *options, "--out", str(tmp_path / "out")]) == 2
    assert expected in one_line_error(capsys)
    assert time.monotonic() - started < 5, "refused before generating anything"
    assert not (tmp_path / "out").exists()


def test_the_same_seed_and_start_give_the_same_archive(tmp_path):
    runs = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert main(["demo", "--minutes", "3", "--seed", "5", "--start", "2026-11-20T10:00Z",
                     "--out", str(out)]) == 0
        summary = summary_of(out)
        rows = archived_rows(out / "s3" / summary["bucket"])
        # Object names end in a random UUID, as Firehose's do: everything before it is reproduced.
        keys = [re.sub(r"-[0-9a-f-]{36}\.gz$", "", obj["key"]) for obj in summary["data_objects"]]
        runs.append((sorted(json.dumps(row, sort_keys=True) for row in rows), keys, summary["queries"]))
    assert runs[0] == runs[1]
    assert runs[0][1][0].startswith("rejected/year=2026/month=11/day=20/hour=10/")


def test_an_old_flow_is_archived_in_its_own_time_not_when_the_next_arrives(tmp_path):
    """Flows of 2014, then of 2016: the 2014 object is named after 2014 + archiveBufferSeconds (300 s)."""
    flows = tmp_path / "flows.log"
    flows.write_text(flow_line(start=1_400_000_000) + "\n" + flow_line(start=1_460_000_000) + "\n")
    out = tmp_path / "out"
    assert main(["demo", "--input", str(flows), "--out", str(out)]) == 0
    keys = sorted(obj["key"] for obj in summary_of(out)["data_objects"])
    assert len(keys) == 2
    # Arrival: the end of the capture window (16:54:20) rounded up to CloudWatch's minute, + 5 s
    # (16:55:05); partitioned by that arrival, written when the 300 s archive interval ran out.
    assert keys[0].startswith("rejected/year=2014/month=05/day=13/hour=16/rejected-flows-local-flows-1-"
                              "2014-05-13-17-00-05-"), keys[0]
    assert keys[1].startswith("rejected/year=2016/month=04/day=07/hour=03/rejected-flows-local-flows-1-"
                              "2016-04-07-03-40-05-"), keys[1]


def test_results_show_utc_times_and_protocol_names_and_the_csv_keeps_raw_values(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["demo", "--minutes", "2", "--start", "2026-11-20T10:00Z", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| 22 | tcp |" in printed or "| 8080 | tcp |" in printed
    assert re.search(r"\| 2026-11-20 10:0\d:\d\dZ \|", printed), "first_seen/window_start as UTC times"
    assert not re.search(r"\| 17\d{8} \|", printed), "no epoch seconds on screen"
    with (out / "queries" / "port-scanners.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(row["first_seen"].isdigit() for row in rows), "CSV keeps epoch seconds"
    with (out / "queries" / "top-rejected-destination-ports.csv").open() as handle:
        assert {row["protocol"] for row in csv.DictReader(handle)} == {"6"}


def test_counts_add_up_and_words_agree_with_numbers(tmp_path, capsys):
    flows = tmp_path / "flows.log"
    flows.write_text("\n".join(["", flow_line(), "2 too short", flow_line("ACCEPT"), "  "]) + "\n")
    out = tmp_path / "out"
    assert main(["demo", "--input", str(flows), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "5 lines read = 0 header + 2 blank + 1 shipped + 1 not matching the filter + 1 wrong field count" \
        in printed
    assert "1 flow archived in 1 object" in printed and "(1 flow)" in printed
    assert "(1 flows)" not in printed and "1 flows" not in printed


def test_the_printed_filter_and_format_are_cut_between_words(tmp_path, capsys):
    rich = ("${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} "
            "${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} "
            "${subnet-id} ${instance-id}")
    assert main(["demo", "--minutes", "1", "--format", rich, "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    format_shown = re.search(r"format (.*)$", printed.splitlines()[0]).group(1)
    filter_shown = re.search(r"^CloudWatch +filter (.*)$", printed, re.M).group(1)
    for shown_text, full in ((format_shown, rich), (filter_shown, None)):
        assert shown_text.endswith(" …")
        words = shown_text.removesuffix(" …").split()
        assert all(word.strip(",[") in (full or printed) for word in words)
    assert format_shown.removesuffix(" …").split() == rich.split()[: len(format_shown.split()) - 1]
    assert filter_shown.removesuffix(" …").rstrip(",").endswith(("_id", "port", "addr", "version", "bytes",
                                                                  "packets", "protocol", "start", "end"))


def test_done_in_is_the_wall_time_of_the_whole_command(tmp_path):
    out = tmp_path / "out"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "local", "demo", "--minutes", "1", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    wall = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    reported = float(re.search(r"Done in ([\d.]+) s", done.stdout).group(1))
    # Everything but the interpreter's own start and exit is in the reported time.
    assert wall - max(1.5, 0.3 * wall) <= reported <= wall


def test_help_shows_placeholders_defaults_an_example_and_what_out_replaces(capsys):
    assert main(["demo", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for expected in ("--input FILE", "--out DIR", "--minutes N", "--start TIME", "(default: 15)",
                     "(default: 7)", "(default: local-run/)", "(default: cloudwatch)", "examples:",
                     "python -m local demo --input flows.log.gz", "replaced as a whole",
                     "- for standard input"):
        assert expected in text, expected


def test_a_wrong_option_under_demo_prints_the_demos_usage(capsys):
    assert main(["demo", "--minuts", "3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: python -m local demo ") and "--input FILE" in err
    assert "unrecognized arguments: --minuts 3" in err


def test_source_firehose_sends_every_line_as_plain_text_records(tmp_path, capsys):
    flows = tmp_path / "flows.log"
    lines = ["", flow_line(), flow_line("ACCEPT"), flow_line(source="203.0.113.9")]
    flows.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    assert main(["demo", "--source", "firehose", "--input", str(flows), "--out", str(out)]) == 0
    summary = summary_of(out)
    assert (summary["via"], summary["lines_in"], summary["blank_lines"], summary["shipped"]) == (
        "firehose", 4, 1, 3)
    assert summary["firehose"]["records_in"] == 1, "the three lines of one interface and minute: one record"
    assert "straight into Firehose: 3 lines" in capsys.readouterr().out
    assert not (out / "not-shipped.log").exists()


def test_source_firehose_archives_exactly_the_reject_flows(tmp_path):
    out = tmp_path / "out"
    assert main(["demo", "--source", "firehose", "--minutes", "3", "--damaged", "0",
                 "--start", "2026-11-20T10:00Z", "--out", str(out)]) == 0
    from datetime import UTC, datetime

    from local.__main__ import DEFAULT_DAYS
    from local.sample import stream_days
    fmt = parse_format(None)
    # The demo's default sample: the same minutes on each simulated day.
    lines = list(stream_days(fmt, 3, 7, datetime(2026, 11, 20, 10, 0, tzinfo=UTC), days=DEFAULT_DAYS))
    summary = summary_of(out)
    archived = archived_rows(out / "s3" / summary["bucket"])
    expected = rejected_flows(lines, fmt)
    key = lambda row: tuple(row.get(column) for column in fmt.columns)  # noqa: E731
    assert sorted(map(key, archived)) == sorted(map(key, expected))
    assert all(row["log_group"] is None and row["log_stream"] is None for row in archived)
    assert not summary["error_objects"]


def test_replay_with_the_fixed_format_recovers_every_flow_a_wrong_format_sent_to_errors(tmp_path, capsys):
    from datetime import UTC, datetime

    from local.sample import sample_lines
    right = parse_format(None)
    # The same field count, two fields swapped: the filter ships the lines, the transform cannot read them.
    wrong = right.text.replace("${interface-id}", "${swap}").replace("${packets}", "${interface-id}") \
        .replace("${swap}", "${packets}")
    lines = sample_lines(right, 3, 7, datetime(2026, 11, 20, 10, 0, tzinfo=UTC))
    given = tmp_path / "flows.log"
    given.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"

    assert main(["demo", "--input", str(given), "--format", wrong, "--replay-format", right.text,
                 "--out", str(out)]) == 0

    summary = summary_of(out)
    expected = rejected_flows(lines, right)
    key = lambda row: tuple(row.get(column) for column in right.columns)  # noqa: E731
    assert summary["failed_records"] > 0, "the wrong format sends every record to errors/ first"
    assert sorted(map(key, archived_rows(out / "s3" / summary["bucket"]))) == sorted(map(key, expected))
    assert summary["replay"][-1].startswith(f"put back {summary['failed_records']} records")
    assert "1 object replayed, 0 skipped (already replayed), 0 failed" in summary["replay"][-1]
    assert "Replay        errors/processing-failed/ put back into the stream" in capsys.readouterr().out


def test_a_bad_replay_format_is_a_one_line_error(tmp_path, capsys):
    assert main(["demo", "--replay-format", "${version} ${nonsense}", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
