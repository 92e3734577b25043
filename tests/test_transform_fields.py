"""Newer flow-log fields: typed as AWS documents them, and unknown ones archived as strings with a warning."""

from __future__ import annotations

from collections.abc import Iterator

import pulumi
import pytest

from contracts.flowlog import ALL_FIELDS, FIELDS_BY_VERSION, athena_type, parse_format
from infra.analytics import columns
from infra.delivery import warn_about_unknown_fields
from tests.transform_support import data_message, event_of, lambda_context, ok_lines, record
from transform.handler import handler, reset

NEWER_FORMAT = parse_format(
    "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} "
    "${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${resource-id} ${encryption-status} "
    "${interface-type} ${next-hop-vpc-id} ${instance-tag} ${flow-hash}"
)


def test_fields_after_version_8_are_catalogued_with_their_types() -> None:
    assert FIELDS_BY_VERSION[9] == ("resource-id",)
    assert FIELDS_BY_VERSION[10] == ("encryption-status",)
    assert {"instance-tag", "instance-tag-2", "interface-tag", "asg-tag", "interface-type",
            "next-hop-interface-id", "next-hop-subnet-id", "next-hop-az-id", "next-hop-vpc-id",
            "next-hop-interface-type"} <= set(FIELDS_BY_VERSION[11])
    assert athena_type("encryption-status") == "int"
    assert {athena_type(f) for f in FIELDS_BY_VERSION[9] + FIELDS_BY_VERSION[11]} == {"string"}


@pytest.fixture
def newer_format(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("FLOW_LOG_FORMAT", NEWER_FORMAT.text)
    monkeypatch.delenv("KEEP_ACTIONS", raising=False)
    reset()
    yield
    reset()


def test_newer_and_unknown_fields_are_archived_typed_and_as_strings(newer_format: None) -> None:
    line = ("11 123456789012 - 10.0.1.17 10.0.2.9 51234 443 6 3 180 1764201600 1764201660 REJECT OK "
            "nat-0123456789abcdef0 1 nat_gateway vpc-0f1e2d3c4b5a69788 team%3Dpayments 9f86d081")

    response = handler(event_of(record(data_message([line]), "r1")), lambda_context())

    [archived] = ok_lines(response["records"][0])
    assert {k: archived[k] for k in ("interface_id", "resource_id", "encryption_status", "interface_type",
                                     "next_hop_vpc_id", "instance_tag", "flow_hash")} == {
        "interface_id": None, "resource_id": "nat-0123456789abcdef0", "encryption_status": 1,
        "interface_type": "nat_gateway", "next_hop_vpc_id": "vpc-0f1e2d3c4b5a69788",
        "instance_tag": "team%3Dpayments", "flow_hash": "9f86d081",
    }


def test_unknown_fields_are_warned_about_at_deploy(monkeypatch: pytest.MonkeyPatch) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: warnings.append(message))

    warn_about_unknown_fields(NEWER_FORMAT.text)
    warn_about_unknown_fields(" ".join(f"${{{f}}}" for f in ALL_FIELDS))

    [warning] = warnings
    assert warning.startswith("flow-log format fields flow-hash are not in this stack's field catalogue")
    assert "archived as strings" in warning


def test_glue_table_has_a_string_column_for_each_unknown_field() -> None:
    table = [(c.name, c.type) for c in columns(("flow-hash", "path-mtu"))]

    assert table[-4:] == [("flow_hash", "string"), ("path_mtu", "string"), ("log_group", "string"),
                          ("log_stream", "string")]
    assert ("encryption_status", "int") in table and ("next_hop_vpc_id", "string") in table
