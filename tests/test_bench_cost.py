"""The cost table: tiered prices, each path's parts from prices and measured ratios, the command line."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench import cost
from bench.cost import PRICES, TB, PathCost, Ratios, Tier, cost_table, tiered
from contracts.settings import defaults

# Round figures, so each expected cost below can be worked out by hand.
RATIOS = Ratios(compressed_gb=0.25, firehose_billed_gb=0.3, ndjson_gb=3.0, archive_gb=0.3,
                lambda_gb_seconds=40.0)
PATHS = ["existing group + subscription", "stack-created group (REJECT only)", "straight to Firehose",
         "central collection, same region", "central collection, other region"]


def by_path(rows: list[PathCost]) -> dict[str, PathCost]:
    return {row.path: row for row in rows}


def test_tiered_prices_charge_each_gb_at_its_tier() -> None:
    tiers = (Tier(10, 1.0), Tier(30, 0.5), Tier(None, 0.1))
    assert tiered(0, tiers) == 0
    assert tiered(4, tiers) == 4.0
    assert tiered(10, tiers) == 10.0
    assert tiered(20, tiers) == 10.0 + 10 * 0.5
    assert tiered(130, tiers) == pytest.approx(10.0 + 20 * 0.5 + 100 * 0.1)


def test_cloudwatch_ingestion_of_11_tb_crosses_into_the_second_tier() -> None:
    assert tiered(11 * TB, PRICES.cloudwatch_vended_ingestion) == pytest.approx(10 * TB * 0.50 + TB * 0.25)


def test_one_terabyte_at_ten_percent_reject_path_by_path() -> None:
    rows = by_path(cost_table(1000, 0.1, RATIOS, retention_days=30, processor_buffer_mb=0.25))
    assert list(rows) == PATHS
    kept = 100.0  # GB of REJECT flow-log text
    existing, created, direct = rows[PATHS[0]], rows[PATHS[1]], rows[PATHS[2]]
    assert existing.source == 0
    # The stack's own group ingests only the REJECT lines, and stores them compressed for 30 days.
    assert created.source == pytest.approx(kept * 0.50 + kept * 0.25 * 0.03)
    assert created.firehose == existing.firehose == pytest.approx(kept * 0.3 * 0.029)
    # 25 GB of compressed payloads in 0.25 MB batches: 102,400 invocations.
    assert created.transform == pytest.approx(kept * 40 * 0.0000133334 + 102_400 / 1e6 * 0.20)
    # Straight to Firehose: half the source price, plain text into Firehose and into the processor.
    assert direct.source == pytest.approx(kept * 0.25)
    assert direct.firehose == pytest.approx(kept * 0.029)
    assert direct.transform == pytest.approx(kept * 40 * 0.0000133334 + 409_600 / 1e6 * 0.20)
    # 30 GB archived: a month of storage, one object per 300 s (8,640) with 2 PUT- and 2 GET-class requests.
    objects = 30 * 24 * 3600 / defaults().buffers.archive_seconds
    assert created.s3 == direct.s3 == pytest.approx(30 * 0.023 + objects / 1000 * (2 * 0.005 + 2 * 0.0004))
    assert created.athena == pytest.approx(30 / 1024 * 5)
    assert created.total == pytest.approx(created.source + created.firehose + created.transform + created.s3
                                          + created.athena)


def test_central_collection_costs_what_a_stack_created_group_costs_plus_transfer_between_regions() -> None:
    rows = by_path(cost_table(2048, 0.2, RATIOS))
    same, other, created = rows[PATHS[3]], rows[PATHS[4]], rows[PATHS[1]]
    assert same.total == created.total
    assert other.total - same.total == pytest.approx(2048 * 0.2 * 0.25 * 0.02)


def test_straight_to_firehose_roughly_halves_the_source_cost() -> None:
    rows = by_path(cost_table(1024, 0.05, RATIOS))
    assert rows[PATHS[2]].source / rows[PATHS[1]].source == pytest.approx(0.5, rel=0.05)
    assert rows[PATHS[2]].total < rows[PATHS[1]].total


@given(st.floats(min_value=1, max_value=5000), st.floats(min_value=0.01, max_value=1))
def test_every_part_grows_with_the_rejected_volume(gb: float, share: float) -> None:
    low, high = cost_table(gb, share / 2, RATIOS), cost_table(gb, share, RATIOS)
    for small, large in zip(low, high, strict=True):
        assert small.path == large.path
        for part in ("source", "firehose", "transform", "s3", "athena"):
            assert getattr(small, part) <= getattr(large, part) + 1e-9, (small.path, part)
        assert large.total > 0


@pytest.mark.parametrize(("gb", "share"), [(-1, 0.1), (10, 1.5), (10, -0.1)])
def test_impossible_volumes_are_refused(gb: float, share: float) -> None:
    with pytest.raises(ValueError, match=r"reject_share within 0\.\.1"):
        cost_table(gb, share, RATIOS)


def test_command_prints_the_table_for_the_users_volume(capsys: pytest.CaptureFixture[str]) -> None:
    assert cost.main(["--gb-per-month", "500", "--reject-share", "0.1"], ratios=RATIOS) == 0
    out = capsys.readouterr().out
    assert "500 GB/month of flow logs, 10% REJECT (50 GB kept)" in out
    expected = cost_table(500, 0.1, RATIOS)
    for row in expected:
        assert f"| {row.path:<34} |" in out
        assert f"{row.total:>9,.2f}" in out


def test_command_takes_a_known_vended_logs_price(capsys: pytest.CaptureFixture[str]) -> None:
    cost.main(["--gb-per-month", "1000", "--reject-share", "0.1", "--vended-ingestion-price", "0.10"],
              ratios=RATIOS)
    line = next(line for line in capsys.readouterr().out.splitlines() if "straight to Firehose" in line)
    assert f"{100 * 0.10:>8,.2f}" in line


def test_command_refuses_a_share_above_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cost.main(["--gb-per-month", "10", "--reject-share", "5"], ratios=RATIOS)
    assert "--reject-share within 0..1" in capsys.readouterr().err


def test_measured_ratios_are_consistent() -> None:
    ratios = cost.measure_ratios(repeats=1)
    assert 0 < ratios.compressed_gb < 1  # gzip makes payloads smaller than the text
    assert ratios.compressed_gb <= ratios.firehose_billed_gb < ratios.compressed_gb * 1.5
    assert ratios.ndjson_gb > 1  # a JSON line with its keys is longer than the flow-log line
    assert ratios.archive_gb < ratios.ndjson_gb
    assert ratios.lambda_gb_seconds > 0


def test_cost_model_uses_the_stacks_transform_memory() -> None:
    from infra.delivery import TRANSFORM_MEMORY_MB

    assert cost.TRANSFORM_MEMORY_MB == TRANSFORM_MEMORY_MB
