"""`make test-pythons`: which interpreters it finds, what it says of the missing ones, when it fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.pythons import find_python, run


def interpreter(path: Path, version: str | None) -> Path:
    """A stand-in `python`: answers the version check as `version` would, or fails like a bare shim."""
    path.parent.mkdir(parents=True, exist_ok=True)
    answer = f'echo "{version}"' if version else 'echo "pyenv: python: command not found" >&2; exit 127'
    path.write_text(f"#!/bin/sh\n{answer}\n")
    path.chmod(0o755)
    return path


def test_find_python_skips_a_shim_that_does_not_run_and_takes_pyenvs_newest_patch(tmp_path, monkeypatch):
    shims = tmp_path / "shims"
    interpreter(shims / "python3.12", None)
    root = tmp_path / "pyenv"
    interpreter(root / "versions" / "3.12.1" / "bin" / "python3.12", "3.12")
    newest = interpreter(root / "versions" / "3.12.10" / "bin" / "python3.12", "3.12")
    interpreter(root / "versions" / "3.12-dev" / "bin" / "python3.12", "3.12")
    monkeypatch.setenv("PATH", str(shims))

    assert find_python("3.12", root) == str(newest)
    assert find_python("3.13", root) is None


def test_find_python_takes_the_one_on_path_when_it_runs_and_is_that_version(tmp_path, monkeypatch):
    on_path = interpreter(tmp_path / "bin" / "python3.13", "3.13")
    interpreter(tmp_path / "bin" / "python3.11", "3.10")  # a misnamed interpreter is not taken
    monkeypatch.setenv("PATH", str(on_path.parent))

    assert find_python("3.13", None) == str(on_path)
    assert find_python("3.11", None) is None


@pytest.mark.parametrize(("statuses", "expected_status"), [({"3.12": 0}, 0), ({"3.12": 2}, 1)])
def test_run_tests_each_found_version_names_the_missing_and_fails_only_on_a_failure(statuses,
                                                                                  expected_status):
    tested: list[tuple[str, str]] = []

    def test(version: str, python: str) -> int:
        tested.append((version, python))
        return statuses[version]

    status, lines = run(["3.11", "3.12", "3.13"], current="3.11",
                        find=lambda version: f"/opt/python{version}" if version in statuses else None,
                        test=test)

    assert tested == [("3.12", "/opt/python3.12")]
    outcome = "passed" if expected_status == 0 else "FAILED (exit 2)"
    assert (status, lines) == (expected_status, [
        "Python 3.11: tested by `make test` (.venv)",
        f"Python 3.12 (/opt/python3.12): make test {outcome} in build/venv-3.12",
        "Python 3.13: not found on this machine, skipped",
    ])
