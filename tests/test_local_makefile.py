"""`make`'s set-up: the Python version is checked first with a one-line message naming PYTHON=, a .venv
made by the wrong Python is rebuilt, a good .venv is reused whatever `python3` is, and `make clean` says
what it keeps. Runs the real Makefile with stand-in interpreters (no network, no pip)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("make") is None, reason="needs make")]

# A stand-in interpreter: runs `-c` code as the real one would at version MAJOR.MINOR, makes a venv of
# itself, and logs pip calls instead of installing.
FAKE_PYTHON = """#!/bin/sh
case "$1" in
  -c) exec {real} -c "import sys; sys.version_info = ({major}, {minor}, 7, 'final', 0); \
exec(sys.argv[1])" "$2" ;;
  -V) echo "Python {major}.{minor}.7" ;;
  -m) if [ "$2" = venv ]; then mkdir -p "$3/bin"; cp "$0" "$3/bin/python"; \
      else echo "$0 $*" >> "$(dirname "$0")/../../pip.log"; fi ;;
esac
"""


def fake_python(directory: Path, name: str, version: str) -> Path:
    major, minor = version.split(".")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(FAKE_PYTHON.format(real=sys.executable, major=major, minor=minor))
    path.chmod(0o755)
    return path


@pytest.fixture
def project(tmp_path):
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    for name in ("requirements.txt", "requirements-dev.txt"):
        (tmp_path / name).write_text("")
    return tmp_path


def make(project: Path, *arguments: str, path_first: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ}
    # Nothing of the caller's make either (`make test-pythons` runs `make test VENV=... PYTHON=...`,
    # whose variables reach sub-makes through MAKEFLAGS).
    for name in ("PYTHON", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
        env.pop(name, None)
    if path_first is not None:
        env["PATH"] = f"{path_first}{os.pathsep}{env['PATH']}"
    return subprocess.run(["make", "--no-print-directory", *arguments], cwd=project, env=env,
                          capture_output=True, text=True, timeout=60)


def venv_version(project: Path) -> str:
    return subprocess.run([str(project / ".venv/bin/python"), "-V"], capture_output=True, text=True).stdout


def test_an_old_python_stops_make_first_with_a_line_naming_python(project, tmp_path):
    old = fake_python(tmp_path / "bin", "python3.10", "3.10")
    done = make(project, f"PYTHON={old}", "test")
    assert done.returncode != 0
    assert done.stderr.splitlines()[0] == ("make: Python 3.10 found; need 3.11+: "
                                           "run `make PYTHON=python3.12 test`")
    assert not (project / ".venv").exists() and done.stdout == ""


def test_a_missing_python_is_named(project):
    done = make(project, "PYTHON=python9.99-nowhere", "venv")
    assert done.stderr.splitlines()[0] == ("make: python9.99-nowhere not found; need 3.11+: "
                                           "run `make PYTHON=python3.12 venv`")


def test_a_venv_made_by_an_old_python_is_rebuilt_with_the_one_given(project, tmp_path):
    old = fake_python(tmp_path / "old", "python3.10", "3.10")
    subprocess.run([str(old), "-m", "venv", str(project / ".venv")], check=True)  # the broken first try
    new = fake_python(tmp_path / "new", "python3.12", "3.12")

    done = make(project, f"PYTHON={new}", "venv")

    assert done.returncode == 0, done.stderr
    assert "make: .venv was made by Python 3.10.7; rebuilding it with" in done.stdout
    assert venv_version(project) == "Python 3.12.7\n"
    assert (project / ".venv/.installed").exists()
    assert "-m pip install --quiet -r requirements-dev.txt" in (project / "pip.log").read_text()


def test_a_good_venv_is_kept_whatever_python3_is(project, tmp_path):
    good = fake_python(tmp_path / "good", "python3.12", "3.12")
    assert make(project, f"PYTHON={good}", "venv").returncode == 0
    (project / "requirements-dev.txt").write_text("# changed\n")
    os.utime(project / "requirements-dev.txt", (2e9, 2e9))
    old_python3 = fake_python(tmp_path / "path", "python3", "3.10")

    done = make(project, "venv", path_first=old_python3.parent)

    assert done.returncode == 0, done.stderr
    assert "rebuilding" not in done.stdout and "need 3.11+" not in done.stderr
    assert venv_version(project) == "Python 3.12.7\n"


def test_clean_says_what_it_removes_and_what_it_keeps(project):
    (project / "local-run").mkdir()
    (project / ".venv").mkdir()
    done = make(project, "clean")
    assert not (project / "local-run").exists() and (project / ".venv").exists()
    assert "removed the demo's output (local-run/)" in done.stdout and "kept .venv/" in done.stdout
