"""Error events (`alert_type: error`): Firehose's failed records under `errors/`; unreadable objects. Pure."""

from __future__ import annotations

from datetime import datetime

from contracts.events import KIND_ERRORS, SOURCE_TAG, UNREADABLE_OBJECT_TAG, stack_tag
from notifier.display import code, code_block, plain, prose, shell_quote, tag
from notifier.draft import EventBasis, error_basis, unreadable_basis
from notifier.errorbatch import ErrorSummary
from notifier.markdown import (
    OBJECT_URI_LIMIT,
    TITLE_LIMIT,
    Section,
    TextParts,
    fit_text,
    fit_title,
    fit_values,
    merge_tags,
    plural,
    time_window,
    was,
)
from notifier.model import EventContext, EventDraft, ObjectRef

ERROR = "error"


def _error_output_type(key: str) -> str | None:
    """`errors/processing-failed/year=...` -> `processing-failed` (Firehose's error-output-type)."""
    parts = key.split("/")
    return parts[1] if len(parts) > 2 and "=" not in parts[1] else None


def error_text_parts(summary: ErrorSummary, obj: ObjectRef, cap: int) -> TextParts:
    """The text with every value from data within `cap` characters (the fit lowers it); the object
    line is never cut."""
    first_s = summary.first_arrival_ms / 1000 if summary.first_arrival_ms is not None else None
    last_s = summary.last_arrival_ms / 1000 if summary.last_arrival_ms is not None else None
    output_type = _error_output_type(obj.key)
    head = [
        f"**Arrival window:** {time_window(first_s, last_s)}",
        f"**Object:** {code(obj.uri, OBJECT_URI_LIMIT)}",
    ]
    if output_type:
        head.append(f"**Error output type:** {code(output_type, cap)}")
    if summary.max_attempts:
        head.append(f"**Attempts made:** up to {summary.max_attempts}")
    if summary.lambda_arns:
        head.append("**Processor:** " + ", ".join(code(arn, cap) for arn in summary.lambda_arns))
    if summary.invalid_lines:
        head.append(f"**Warning:** {was(summary.invalid_lines, 'line')} not valid JSON (skipped)")
    if summary.not_replayable:
        verb = "has" if summary.not_replayable == 1 else "have"
        head.append(f"**Warning:** {plural(summary.not_replayable, 'record')} {verb} no usable `rawData` "
                    "(missing, not base64 or too big) and cannot be replayed; `python -m replay` names them "
                    "and puts back the others")
    intro = (f"**{was(summary.records, 'Firehose record')} not archived** and went to the error prefix "
             "instead of `rejected/`; their raw data (base64 CloudWatch Logs payloads) is kept there.")
    section = Section(
        "### Error codes",
        [f"- {code(error_code, cap)}: {plural(n, 'record')}"
         + (f" — e.g. {code(_one_line(sample), cap)}" if sample else "")
         for error_code, n, sample in summary.codes],
        "error code",
        len(summary.codes),
    )
    return intro + "\n\n" + "\n".join(f"- {line}" for line in head), [section], ""


def render_errors(summary: ErrorSummary, basis: EventBasis) -> EventDraft:
    """The failed-records event on its basis (hour, aggregation key, date: `notifier.draft`)."""
    ctx, output_type = basis.ctx, _error_output_type(basis.obj.key)
    return EventDraft(
        title=error_title(summary, basis.hour),
        text=fit_values(lambda cap: error_text_parts(summary, basis.obj, cap)),
        alert_type=ERROR,
        aggregation_key=basis.aggregation_key,
        date_happened=basis.date_happened,
        tags=merge_tags(ctx.tags, [SOURCE_TAG, stack_tag(ctx.stack), KIND_ERRORS],
                        [tag("error_output_type", output_type)] if output_type else []),
    )


def error_event(summary: ErrorSummary, obj: ObjectRef, ctx: EventContext, now_s: float) -> EventDraft:
    """The failed-records event of `obj`, its basis derived here (for callers with a summary in hand)."""
    return render_errors(summary, error_basis(obj, summary, ctx, now_s))


def error_title(summary: ErrorSummary, hour: datetime) -> str:
    """E.g. "4 records failed processing (Lambda.ProcessingFailedStatus +1) · 18:00 UTC"."""
    head = f"{plural(summary.records, 'record')} failed processing"
    codes = ""
    if summary.codes:
        first = plain(summary.codes[0][0], TITLE_LIMIT)
        codes = f" ({first}{f' +{len(summary.codes) - 1}' if len(summary.codes) > 1 else ''})"
    title = f"{head}{codes} · {hour:%H}:00 UTC"
    return fit_title(title if len(title) <= TITLE_LIMIT else f"{head} · {hour:%H}:00 UTC")


def render_unreadable(reason: str, basis: EventBasis) -> EventDraft:
    """One error event for an archived object that cannot be read: reading it again would not help."""
    obj, ctx = basis.obj, basis.ctx
    text = "\n".join([
        f"**The notifier could not read {code(obj.uri, OBJECT_URI_LIMIT)}**: {prose(_one_line(reason))}.",
        "",
        "Its flows (if any) are not summarised in any event. Retrying cannot help, so this is reported "
        "once and the object is left where it is; download it to look at it:",
        code_block(f"aws s3 cp {shell_quote(obj.uri)} -"),
    ])
    return EventDraft(
        title=fit_title(f"Unreadable object in the archive · {basis.hour:%H}:00 UTC · "
                        f"{plain(obj.key.rsplit('/')[-1], TITLE_LIMIT)}"),
        text=fit_text(text, []),
        alert_type=ERROR,
        aggregation_key=basis.aggregation_key,
        date_happened=basis.date_happened,  # now: always within Datadog's window
        tags=merge_tags(ctx.tags, [SOURCE_TAG, stack_tag(ctx.stack), KIND_ERRORS, UNREADABLE_OBJECT_TAG]),
    )


def unreadable_event(obj: ObjectRef, reason: str, ctx: EventContext, now_s: float) -> EventDraft:
    """The unreadable-object event of `obj`, its basis derived here."""
    return render_unreadable(reason, unreadable_basis(obj, ctx, now_s))


def _one_line(text: str) -> str:
    """A message on one line, its runs of spaces and line breaks made one space."""
    return " ".join(text.split())
