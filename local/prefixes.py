"""Firehose's S3 prefix expressions and object names, evaluated as Firehose evaluates them.

`!{timestamp:<Java DateTimeFormatter>}` uses the arrival time of the oldest record in the object (UTC);
`!{firehose:error-output-type}` is the error kind (`processing-failed`); `!{firehose:random-string}` is
11 random characters. Object names are `<stream>-<version>-yyyy-MM-dd-HH-mm-ss-<uuid>` plus the
compression's extension.
"""

from __future__ import annotations

import re
import string
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

_EXPRESSION = re.compile(r"!\{(?P<namespace>[a-z]+):(?P<argument>[^}]*)\}")
# The DateTimeFormatter letters a Firehose prefix uses in practice, longest first.
_JAVA_TO_STRFTIME = (("yyyy", "%Y"), ("yy", "%y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"),
                     ("mm", "%M"), ("ss", "%S"))
DEFAULT_PREFIX = "!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/!{timestamp:HH}/"


class PrefixExpressionError(ValueError):
    """A prefix expression Firehose would reject or this stand-in does not know."""


def utc(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)


def java_datetime(pattern: str, moment: datetime) -> str:
    """Format `moment` with a DateTimeFormatter pattern of the letters Firehose prefixes use."""
    out: list[str] = []
    rest = pattern
    while rest:
        for java, directive in _JAVA_TO_STRFTIME:
            if rest.startswith(java):
                out.append(moment.strftime(directive))
                rest = rest[len(java):]
                break
        else:
            if rest[0] == "'":  # a quoted literal, as in 'T'
                literal, _, rest = rest[1:].partition("'")
                out.append(literal)
                continue
            if rest[0].isalpha():
                raise PrefixExpressionError(f"unsupported timestamp letter {rest[0]!r} in {pattern!r}")
            out.append(rest[0])
            rest = rest[1:]
    return "".join(out)


def random_string(length: int = 11) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(alphabet[b % len(alphabet)] for b in uuid.uuid4().bytes[:length])


def evaluate_prefix(
    template: str,
    oldest_arrival_ms: int,
    error_output_type: str | None = None,
    random: Callable[[], str] = random_string,
) -> str:
    """The S3 prefix of an object whose oldest record arrived at `oldest_arrival_ms`."""
    moment = utc(oldest_arrival_ms)

    def substitute(match: re.Match[str]) -> str:
        namespace, argument = match["namespace"], match["argument"]
        if namespace == "timestamp":
            return java_datetime(argument, moment)
        if namespace == "firehose" and argument == "error-output-type":
            if error_output_type is None:
                raise PrefixExpressionError("!{firehose:error-output-type} belongs in the error prefix only")
            return error_output_type
        if namespace == "firehose" and argument == "random-string":
            return random()
        raise PrefixExpressionError(f"unknown prefix expression {match[0]!r}")

    evaluated = _EXPRESSION.sub(substitute, template or DEFAULT_PREFIX)
    if "!{" in evaluated:
        raise PrefixExpressionError(f"malformed prefix expression in {template!r}")
    return evaluated


def object_name(stream: str, version: int, written_ms: int, extension: str, unique: str | None = None) -> str:
    """`<stream>-<version>-yyyy-MM-dd-HH-mm-ss-<uuid><extension>`."""
    stamp = utc(written_ms).strftime("%Y-%m-%d-%H-%M-%S")
    return f"{stream}-{version}-{stamp}-{unique or uuid.uuid4()}{extension}"
