"""Firehose's prefix expressions and object names, evaluated from the stack's layout."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from contracts.layout import FIREHOSE_DATA_PREFIX, FIREHOSE_ERROR_PREFIX, GZIP_EXTENSION, partition_of
from local.prefixes import PrefixExpressionError, evaluate_prefix, java_datetime, object_name

# 2026-03-04 05:06:07.890 UTC
MOMENT_MS = int(datetime(2026, 3, 4, 5, 6, 7, 890_000, tzinfo=UTC).timestamp() * 1000)


def test_data_prefix_uses_utc_hour_partitions():
    prefix = evaluate_prefix(FIREHOSE_DATA_PREFIX, MOMENT_MS)
    assert prefix == "rejected/year=2026/month=03/day=04/hour=05/"
    assert partition_of(prefix + "x.gz") == {"year": 2026, "month": 3, "day": 4, "hour": 5}


def test_error_prefix_names_the_error_output_type():
    prefix = evaluate_prefix(FIREHOSE_ERROR_PREFIX, MOMENT_MS, error_output_type="processing-failed")
    assert prefix == "errors/processing-failed/year=2026/month=03/day=04/hour=05/"


def test_error_output_type_outside_the_error_prefix_is_refused():
    with pytest.raises(PrefixExpressionError):
        evaluate_prefix(FIREHOSE_ERROR_PREFIX, MOMENT_MS)


def test_random_string_and_default_prefix():
    assert evaluate_prefix("a/!{firehose:random-string}/", 0, random=lambda: "R") == "a/R/"
    assert evaluate_prefix("", MOMENT_MS) == "2026/03/04/05/"


@pytest.mark.parametrize("template", ["!{timestamp:yyyy-QQ}", "!{unknown:x}", "!{firehose:nope}"])
def test_unknown_expressions_are_refused(template):
    with pytest.raises(PrefixExpressionError):
        evaluate_prefix(template, MOMENT_MS)


def test_java_datetime_patterns():
    moment = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert java_datetime("yyyy-MM-dd'T'HH:mm:ss", moment) == "2026-03-04T05:06:07"
    assert java_datetime("yy/MM/dd HH.mm.ss", moment) == "26/03/04 05.06.07"


def test_object_name_follows_firehose():
    name = object_name("rejected-flows-dev", 1, MOMENT_MS, GZIP_EXTENSION)
    assert re.fullmatch(
        r"rejected-flows-dev-1-2026-03-04-05-06-07-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.gz",
        name,
    )
