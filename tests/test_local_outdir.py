"""`--out` is safe on a user's disk: only an earlier demo's folder is replaced, refusals are one line
with exit code 2 before any work, and a failed run leaves nothing that looks like a result."""

from __future__ import annotations

import errno

import pytest

import local.outdir
import local.pipeline
from local.__main__ import main
from local.outdir import MARKER
from local.services import LocalServices
from tests.local_support import flow_line, run_files, summary_of

pytestmark = pytest.mark.slow


@pytest.fixture
def flows(tmp_path):
    path = tmp_path / "flows.log"
    path.write_text(flow_line() + "\n" + flow_line("ACCEPT") + "\n")
    return path


@pytest.fixture
def no_services(monkeypatch):
    """Fails the test if the run gets as far as starting the stand-ins."""
    def refuse(self):
        raise AssertionError("the local services were started although --out was refused")
    monkeypatch.setattr(LocalServices, "__init__", refuse)


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


def test_a_users_folder_is_refused_and_left_as_it_was(tmp_path, flows, capsys, no_services):
    out = tmp_path / "mine"
    (out / "queries").mkdir(parents=True)
    (out / "queries" / "important.sql").write_text("SELECT 1;\n")
    (out / "s3" / "mybucket").mkdir(parents=True)
    (out / "s3" / "mybucket" / "backup.txt").write_text("keep me\n")
    before = run_files(out)

    assert main(["demo", "--input", str(flows), "--out", str(out)]) == 2

    err = one_line_error(capsys)
    assert str(out) in err and "not made by this demo" in err and MARKER in err
    assert run_files(out) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["flows.log", "mine"], "no stray temp folder"


def test_an_earlier_demos_folder_is_replaced_as_a_whole(tmp_path, flows):
    out = tmp_path / "run"
    assert main(["demo", "--minutes", "2", "--out", str(out)]) == 0
    assert (out / MARKER).is_file() and (out / "not-shipped.log").is_file()

    assert main(["demo", "--input", str(flows), "--out", str(out)]) == 0

    assert (out / MARKER).is_file()
    assert not (out / "not-shipped.log").exists(), "nothing of the previous run is left behind"
    assert summary_of(out)["flows_archived"] == 1
    assert sorted(path.name for path in tmp_path.iterdir()) == ["flows.log", "run"]


def test_an_empty_folder_is_used(tmp_path, flows):
    out = tmp_path / "empty"
    out.mkdir()
    assert main(["demo", "--input", str(flows), "--out", str(out)]) == 0
    assert summary_of(out)["flows_archived"] == 1


@pytest.mark.parametrize(("make_out", "message"), [
    (lambda tmp: (tmp / "file.txt").write_text("x") and tmp / "file.txt", "is a file"),
    (lambda tmp: tmp / "missing" / "deeper" / "out", "does not exist"),
    (lambda tmp: (tmp / "plain").write_text("x") and tmp / "plain" / "out", "is not a folder"),
])
def test_an_impossible_out_is_one_line_before_any_work(tmp_path, flows, capsys, no_services, make_out,
                                                       message):
    out = make_out(tmp_path)
    assert main(["demo", "--input", str(flows), "--out", str(out)]) == 2
    err = one_line_error(capsys)
    assert message in err and "--out" in err


def test_a_full_disk_is_refused_before_any_work(tmp_path, flows, capsys, monkeypatch, no_services):
    class Usage:
        free = 3 * 1024 * 1024
    monkeypatch.setattr(local.outdir.shutil, "disk_usage", lambda path: Usage())
    assert main(["demo", "--input", str(flows), "--out", str(tmp_path / "out")]) == 2
    err = one_line_error(capsys)
    assert "only 3 MB free" in err and "100 MB" in err
    assert not (tmp_path / "out").exists()


def test_an_unwritable_parent_is_refused_before_any_work(tmp_path, flows, capsys, monkeypatch, no_services):
    def denied(**kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")
    monkeypatch.setattr(local.outdir.tempfile, "mkdtemp", denied)
    assert main(["demo", "--input", str(flows), "--out", str(tmp_path / "out")]) == 2
    err = one_line_error(capsys)
    assert "cannot write in" in err and "Permission denied" in err


def test_a_run_that_fails_midway_leaves_the_earlier_result_and_no_half_output(tmp_path, flows, capsys,
                                                                               monkeypatch):
    out = tmp_path / "run"
    assert main(["demo", "--input", str(flows), "--out", str(out)]) == 0
    before = run_files(out)
    capsys.readouterr()

    def disk_full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(local.pipeline, "_write_events", disk_full)
    assert main(["demo", "--minutes", "1", "--out", str(out)]) == 2

    err = one_line_error(capsys)
    assert "No space left on device" in err and f"nothing was written to {out}" in err
    assert run_files(out) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["flows.log", "run"], "temp folder removed"


def test_an_interrupted_run_leaves_the_earlier_result_and_says_so(tmp_path, flows, capsys, monkeypatch):
    out = tmp_path / "run"
    assert main(["demo", "--input", str(flows), "--out", str(out)]) == 0
    before = run_files(out)
    capsys.readouterr()

    def ctrl_c(*args):
        raise KeyboardInterrupt
    monkeypatch.setattr(local.pipeline, "_write_events", ctrl_c)
    assert main(["demo", "--minutes", "1", "--out", str(out)]) == 130

    assert capsys.readouterr().err == f"interrupted; nothing was written to {out}\n"
    assert run_files(out) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["flows.log", "run"]
