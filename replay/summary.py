"""What a replay did, per object and in total, as plain data and as the lines the command prints."""

from __future__ import annotations

from dataclasses import dataclass, field

from replay.records import name_lines


@dataclass(frozen=True)
class ObjectOutcome:
    key: str
    status: str  # "replayed" | "would replay" | "skipped" | "busy" | "failed"
    records: int = 0  # put back (or, in a dry run, to be put back) by this run
    bytes: int = 0
    calls: int = 0  # PutRecordBatch calls planned (dry run) or made
    reason: str = ""  # why it failed, or (busy) who holds it
    resumed_after: int = 0  # records an interrupted run had already put back (not counted again)
    # Records an earlier run was sending when it stopped: sent again, so they may be in the stream twice.
    sent_again: int = 0
    # Lines that cannot be put back (line number, why): named, left in the object.
    skipped_lines: tuple[tuple[int, str], ...] = ()
    took_over: str = ""  # the stale lock this run took over, described


REPLAYED, WOULD_REPLAY, SKIPPED, BUSY, FAILED = "replayed", "would replay", "skipped", "busy", "failed"


@dataclass
class Summary:
    bucket: str
    prefix: str
    dry_run: bool
    outcomes: list[ObjectOutcome] = field(default_factory=list)

    def of(self, status: str) -> list[ObjectOutcome]:
        return [outcome for outcome in self.outcomes if outcome.status == status]

    @property
    def put(self) -> list[ObjectOutcome]:
        """The objects whose records were all (or, in a dry run, would be) put back."""
        return self.of(WOULD_REPLAY if self.dry_run else REPLAYED)

    @property
    def records(self) -> int:
        """Records put back by this run, those of objects that failed half-way included."""
        return sum(outcome.records for outcome in self.outcomes)

    @property
    def bytes(self) -> int:
        return sum(outcome.bytes for outcome in self.outcomes)

    @property
    def failed(self) -> list[ObjectOutcome]:
        return self.of(FAILED)

    @property
    def skipped_lines(self) -> int:
        return sum(len(outcome.skipped_lines) for outcome in self.outcomes)


def object_line(bucket: str, outcome: ObjectOutcome) -> str:
    """One line per object: what happened to it and where it is."""
    where = f"s3://{bucket}/{outcome.key}"
    if outcome.status == FAILED:
        return f"failed: {where}: {outcome.reason}"
    if outcome.status == SKIPPED:
        return f"skipped (already replayed): {where}"
    if outcome.status == BUSY:
        return f"skipped (busy): {where}: {outcome.reason}; it is left to that run"
    notes = []
    if outcome.resumed_after:
        notes.append(f"resumed after the {counted(outcome.resumed_after, 'record')} an earlier run put back")
    if outcome.sent_again:
        after = "after them" if outcome.resumed_after else "at its start"
        notes.append(f"the {counted(outcome.sent_again, 'record')} {after}, which a stopped run was sending, "
                     "went again and may be in the stream twice")
    if outcome.took_over:
        notes.append(f"took over the stale lock of {outcome.took_over}")
    resumed = f" ({'; '.join(notes)})" if notes else ""
    return (f"{outcome.status}: {where}: {counted(outcome.records, 'record')}, "
            f"{counted(outcome.bytes, 'byte')}, {counted(outcome.calls, 'PutRecordBatch call')}{resumed}")


def skipped_lines_line(bucket: str, outcome: ObjectOutcome) -> str:
    """The warning for an object some lines of which cannot be put back (they stay in the object)."""
    return (f"warning: s3://{bucket}/{outcome.key}: {counted(len(outcome.skipped_lines), 'line')} cannot be "
            f"put back and stay in the object: {name_lines(list(outcome.skipped_lines))}")


def counted(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def summary_line(summary: Summary) -> str:
    """The final line: objects replayed/skipped/failed, records, bytes."""
    verb, done = ("dry run: would put back", "to replay") if summary.dry_run else ("put back", "replayed")
    line = (f"{verb} {counted(summary.records, 'record')} ({counted(summary.bytes, 'byte')}): "
            f"{counted(len(summary.put), 'object')} {done}, {len(summary.of(SKIPPED)):,} skipped (already "
            f"replayed), {len(summary.failed):,} failed")
    if summary.of(BUSY):
        line += f", {len(summary.of(BUSY)):,} left to another run replaying them"
    if summary.skipped_lines:
        line += f", {counted(summary.skipped_lines, 'line')} that cannot be put back (named above)"
    return line + ("" if summary.outcomes else f" (nothing under s3://{summary.bucket}/{summary.prefix})")


def failure_advice(summary: Summary) -> str:
    """After failures: which objects stay untagged, so a re-run retries exactly those."""
    keys = ", ".join(outcome.key for outcome in summary.failed)
    return (f"left untagged (a re-run retries exactly these once the cause is fixed): {keys}")
