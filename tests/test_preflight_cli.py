"""The preflight command as a user runs it: `--help`, usage and settings errors (exit 2), the stack file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from preflight import config as preflight_config
from preflight.__main__ import main

# Runs the command and make in subprocesses.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def preflight(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "preflight", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=env)


def test_help_names_both_sources_and_the_exit_codes() -> None:
    result = preflight("--help")
    assert result.returncode == 0
    assert "usage: python -m preflight [-h] [--stack NAME] [--config FILE]" in result.stdout
    assert "pulumi config --json" in result.stdout and "AWS_ENDPOINT_URL" in result.stdout
    assert "exit status: 0 nothing failed, 1 a check failed, 2 usage or settings error" in result.stdout


def test_without_a_stack_or_config_is_a_usage_error() -> None:
    result = preflight()
    assert result.returncode == 2 and result.stdout == ""
    assert "give --stack NAME or --config FILE (e.g. `make preflight STACK=dev`)" in result.stderr


def test_an_unknown_option_is_a_usage_error() -> None:
    assert preflight("--stak", "dev").returncode == 2


def test_a_missing_stack_file_is_exit_2_with_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--stack", "no-such-stack"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("preflight: Pulumi.no-such-stack.yaml not found in ")
    assert "cp Pulumi.dev.example.yaml Pulumi.no-such-stack.yaml" in err


def test_a_settings_error_is_exit_2_with_the_loaders_message(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preflight_config, "PROJECT_DIR", tmp_path)
    (tmp_path / "Pulumi.bad.yaml").write_text(
        "config:\n  aws:region: eu-west-1\n  rejected-flows:keepActions:\n    - ACCEPT\n")
    assert main(["--stack", "bad"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("preflight: Pulumi.bad.yaml: config keepActions: this stack archives and alerts on "
                          "rejected traffic only")


def test_no_region_anywhere_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preflight_config, "PROJECT_DIR", tmp_path)
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    (tmp_path / "Pulumi.noregion.yaml").write_text("config:\n  rejected-flows:datadogSite: datadoghq.eu\n")
    assert main(["--stack", "noregion"]) == 2
    assert "no AWS region: `pulumi config set aws:region <region>`" in capsys.readouterr().err


def test_an_unknown_profile_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preflight_config, "PROJECT_DIR", tmp_path)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    (tmp_path / "Pulumi.p.yaml").write_text("config:\n  aws:region: eu-west-1\n  aws:profile: nobody\n")
    assert main(["--stack", "p"]) == 2
    assert "fix aws:profile or AWS_PROFILE" in capsys.readouterr().err


def test_make_preflight_runs_the_stacks_checks() -> None:
    # Nothing of a calling make (`make test-pythons` runs `make test VENV=... PYTHON=...`, whose variables
    # reach sub-makes through MAKEFLAGS): this is the user's own `make preflight`.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    dry = subprocess.run(["make", "-n", "preflight", "STACK=dev"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, env=env)
    assert dry.returncode == 0 and ".venv/bin/python -m preflight --stack dev" in dry.stdout
    missing = subprocess.run(["make", "preflight"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                             env=env)
    assert missing.returncode != 0 and "make preflight STACK=dev" in missing.stderr
