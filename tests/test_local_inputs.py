"""Flow-log input as AWS hands it out: gzip, standard input, the S3 header line, a byte-order mark, CRLF;
inputs that fit nothing are refused with what their first line looked like; the counts add up."""

from __future__ import annotations

import gzip
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.flowlog import parse_format, subscription_filter_pattern
from local.__main__ import main
from local.inputs import HEAD_LINES, InputError, check_input, decoded_lines, header_fields, open_input
from local.subscription import FilterCounts, compile_pattern, filter_lines
from tests.local_support import V2_HEADER, archived_rows, flow_line, summary_of

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
FMT = parse_format(None)
LINES = [flow_line(), flow_line("ACCEPT"), flow_line(source="203.0.113.9", port=3389)]


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


def archived_sources(out: Path) -> list[str]:
    return sorted(str(row["srcaddr"]) for row in archived_rows(out / "s3" / summary_of(out)["bucket"]))


# --- end to end, through the command ------------------------------------------------------------------


def test_a_gzip_file_as_s3_delivers_it_is_read_header_and_all(tmp_path, capsys):
    path = tmp_path / "123456789012_vpcflowlogs_us-east-1_fl-0123_20261127T0300Z_abcd.log.gz"
    path.write_bytes(gzip.compress(("\n".join([V2_HEADER, *LINES]) + "\n").encode()))
    out = tmp_path / "out"

    assert main(["demo", "--input", str(path), "--out", str(out)]) == 0

    assert archived_sources(out) == ["198.51.100.7", "203.0.113.9"]
    summary = summary_of(out)
    assert (summary["lines_in"], summary["header_lines"], summary["shipped"], summary["filtered_out"]) == (
        4, 1, 2, 1)
    assert "4 lines read = 1 header + 0 blank + 2 shipped + 1 not matching the filter + 0 wrong field count" \
        in capsys.readouterr().out


def test_gzip_files_concatenated_are_read_member_after_member(tmp_path):
    """`cat a.log.gz b.log.gz > both.gz` is a valid gzip of two members, each with its header line."""
    path = tmp_path / "both.log.gz"
    path.write_bytes(gzip.compress(f"{V2_HEADER}\n{LINES[0]}\n".encode())
                     + gzip.compress(f"{V2_HEADER}\n{LINES[2]}\n".encode()))
    out = tmp_path / "out"
    assert main(["demo", "--input", str(path), "--out", str(out)]) == 0
    assert archived_sources(out) == ["198.51.100.7", "203.0.113.9"]
    assert summary_of(out)["header_lines"] == 2


def test_standard_input_is_read_with_a_dash(tmp_path):
    out = tmp_path / "out"
    stdin = io.BytesIO(("\n".join(LINES) + "\n").encode())
    assert main(["demo", "--input", "-", "--out", str(out)], stdin=stdin) == 0
    assert archived_sources(out) == ["198.51.100.7", "203.0.113.9"]
    assert summary_of(out)["source"] == "standard input"


def test_gzip_piped_into_the_real_command(tmp_path):
    """`zcat`-less: a .log.gz piped straight into `python -m local demo --input -`."""
    out = tmp_path / "out"
    data = gzip.compress(("\n".join([V2_HEADER, *LINES]) + "\n").encode())
    done = subprocess.run([sys.executable, "-m", "local", "demo", "--input", "-", "--out", str(out)],
                          input=data, cwd=ROOT, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert archived_sources(out) == ["198.51.100.7", "203.0.113.9"]
    assert b"from standard input" in done.stdout


def test_a_dash_with_a_terminal_on_standard_input_says_to_pipe_lines_in(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", type("Terminal", (), {"isatty": lambda self: True})())
    assert main(["demo", "--input", "-", "--out", str(tmp_path / "out")]) == 2
    assert "standard input, which is a terminal here; pipe the lines in" in one_line_error(capsys)


def test_a_byte_order_mark_and_crlf_do_not_spoil_the_first_line(tmp_path):
    path = tmp_path / "windows.log"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(LINES).encode() + b"\r\n")
    out = tmp_path / "out"
    assert main(["demo", "--input", str(path), "--out", str(out)]) == 0
    assert archived_sources(out) == ["198.51.100.7", "203.0.113.9"]
    assert summary_of(out)["not_shipped"] == 0 and not (out / "not-shipped.log").exists()


def test_concatenated_files_each_with_a_byte_order_mark_and_header(tmp_path):
    one_file = b"\xef\xbb\xbf" + (V2_HEADER + "\r\n" + LINES[0] + "\r\n").encode()
    path = tmp_path / "cat.log"
    path.write_bytes(one_file + one_file.replace(b"198.51.100.7", b"198.51.100.8"))
    out = tmp_path / "out"
    assert main(["demo", "--input", str(path), "--out", str(out)]) == 0
    assert archived_sources(out) == ["198.51.100.7", "198.51.100.8"]
    assert (summary_of(out)["header_lines"], summary_of(out)["not_shipped"]) == (2, 0)


def test_a_header_naming_other_fields_than_the_format_is_refused_naming_both(tmp_path, capsys):
    path = tmp_path / "v5.log"
    path.write_text(V2_HEADER + " vpc-id flow-direction\n" + LINES[0] + " vpc-0abc ingress\n")
    assert main(["demo", "--input", str(path), "--out", str(tmp_path / "out")]) == 2
    err = one_line_error(capsys)
    assert f"'{V2_HEADER} vpc-id flow-direction'" in err and "${version} ${account-id}" in err
    assert not (tmp_path / "out").exists()


def test_a_header_matching_the_format_passes(tmp_path):
    fmt = "${version} ${srcaddr} ${dstaddr} ${dstport} ${action} ${log-status}"
    path = tmp_path / "custom.log"
    path.write_text("version srcaddr dstaddr dstport action log-status\n"
                    "2 198.51.100.7 10.0.0.5 22 REJECT OK\n")
    out = tmp_path / "out"
    assert main(["demo", "--input", str(path), "--format", fmt, "--out", str(out)]) == 0
    assert archived_sources(out) == ["198.51.100.7"]


@pytest.mark.parametrize(("content", "expected"), [
    (b"", "holds no flow-log lines"),
    (b"\n\n  \n", "holds no flow-log lines"),
    (b"2026-11-27T03:00:00Z GET /index.html 200\nanother line\n",
     "nothing matched: no line of {path} has the 14 fields --format names; the first line has 4: "
     "'2026-11-27T03:00:00Z GET /index.html 200'"),
    (gzip.compress(b"x" * 300 + b"\n"), "the first line has 1: 'xxxxxxxx"),
    (bytes(range(256)) * 4, "nothing matched"),
])
def test_an_input_that_fits_nothing_is_refused_showing_its_first_line(tmp_path, capsys, content, expected):
    path = tmp_path / "input.log"
    path.write_bytes(content)
    assert main(["demo", "--input", str(path), "--out", str(tmp_path / "out")]) == 2
    err = one_line_error(capsys)
    assert expected.format(path=path) in err
    assert len(err) < 400, "the first line is trimmed"


def test_a_format_matching_none_of_the_lines_is_refused(tmp_path, capsys):
    path = tmp_path / "v2.log"
    path.write_text("\n".join(LINES) + "\n")
    rich = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${action} ${log-status} ${vpc-id}"
    assert main(["demo", "--input", str(path), "--format", rich, "--out", str(tmp_path / "out")]) == 2
    err = one_line_error(capsys)
    assert "nothing matched" in err and "has 14" in err and "'2 123456789012 eni-" in err


def test_a_truncated_gzip_is_one_line_and_writes_nothing(tmp_path, capsys):
    body = "\n".join(LINES * 2000).encode()
    path = tmp_path / "cut.log.gz"
    path.write_bytes(gzip.compress(body)[:-2000])
    out = tmp_path / "out"
    assert main(["demo", "--input", str(path), "--out", str(out)]) == 2
    err = one_line_error(capsys)
    assert f"cannot read {path}" in err and "nothing was written" in err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["cut.log.gz"]


# --- the pieces, directly -----------------------------------------------------------------------------


def test_header_fields_tell_a_header_from_a_flow_line():
    assert header_fields(V2_HEADER) == tuple(V2_HEADER.split())
    assert header_fields("version account-id some-field-aws-adds-later") is not None
    assert header_fields(flow_line()) is None
    assert header_fields("hello world") is None, "not a known field among them"


def test_only_the_head_is_read_before_the_run(tmp_path):
    path = tmp_path / "long.log"
    path.write_text("\n".join([flow_line()] * (HEAD_LINES + 500)) + "\n")
    with open_input(str(path)) as flow_input:
        assert len(flow_input.head) == HEAD_LINES and not flow_input.complete
        check_input(flow_input, FMT)
        assert sum(1 for _ in flow_input.lines()) == HEAD_LINES + 500


def test_a_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        open_input(str(tmp_path / "nope.log"))


LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r"])
TEXT_LINE = st.one_of(
    st.just(flow_line()), st.just(flow_line("ACCEPT")), st.just(V2_HEADER), st.just(""), st.just("   \t"),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=40),
    st.lists(st.sampled_from(["2", "REJECT", "-", "eni-1", "10.0.0.1", "OK"]), max_size=16).map(" ".join),
)


@given(lines=st.lists(st.tuples(TEXT_LINE, LINE_ENDS), max_size=30), bom=st.booleans(),
       compress=st.booleans(), last_end=st.booleans())
def test_any_text_is_framed_into_lines_whose_counts_add_up(lines, bom, compress, last_end):
    text = "".join(line + end for line, end in lines)
    if not last_end and lines:
        text = text[: -len(lines[-1][1])]
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    if compress:
        data = gzip.compress(data)
    # Independently of the reader: lines are what \r\n, \r or \n separate, less a leading BOM.
    expected = [line.lstrip("\ufeff") for line in re.split(r"\r\n|\r|\n", text)]
    if expected and expected[-1] == "":
        expected.pop()

    read = list(decoded_lines(io.BytesIO(data), "t"))
    counts = FilterCounts()
    shipped = list(filter_lines(read, compile_pattern(subscription_filter_pattern(FMT, {"REJECT"})), counts,
                                FMT.fields))

    assert read == expected
    assert counts.lines == len(expected) and counts.adds_up()
    assert counts.header == sum(line.split() == V2_HEADER.split() for line in expected)
    assert counts.blank == sum(not line.strip() for line in expected)
    # The filter `[version, ..., action = REJECT, log_status]`: the format's field count, action REJECT.
    action = FMT.fields.index("action")
    rejects = [line for line in expected
               if len(line.split()) == len(FMT.fields) and line.split()[action] == "REJECT"]
    assert [line for _, line, _ in shipped] == rejects
