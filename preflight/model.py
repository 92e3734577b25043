"""What a check says: a status, the check's name and one line of text that says what to do."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Status = Literal["ok", "warn", "FAIL"]
OK: Status = "ok"
WARN: Status = "warn"
FAIL: Status = "FAIL"

# Exit codes (docs/architecture.md, Preflight).
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


@dataclass(frozen=True)
class Finding:
    status: Status
    check: str
    message: str

    def line(self) -> str:
        """One line as the user sees it: `FAIL logGroupName: ...` (the message never breaks the line)."""
        text = " ".join(self.message.split())
        return f"{self.status:<4} {self.check}: {text}"


def ok(check: str, message: str) -> Finding:
    return Finding(OK, check, message)


def warn(check: str, message: str) -> Finding:
    return Finding(WARN, check, message)


def fail(check: str, message: str) -> Finding:
    return Finding(FAIL, check, message)


def exit_code(findings: Iterable[Finding]) -> int:
    return EXIT_FAILED if any(f.status == FAIL for f in findings) else EXIT_OK


def summary(findings: list[Finding]) -> str:
    counts = {status: sum(f.status == status for f in findings) for status in (OK, WARN, FAIL)}
    verdict = "fix the FAIL lines before `pulumi up`" if counts[FAIL] else "nothing failed"
    return f"preflight: {counts[OK]} ok, {counts[WARN]} warn, {counts[FAIL]} FAIL: {verdict}"
