"""A seconds-long run of bench.turn_cost, so it never rots (no cost assertions: figures live in BENCHMARKS.md)."""

from __future__ import annotations

import pytest

from bench.engine_bench import SCRIPT
from bench.turn_cost import measure


async def test_turn_cost_runs_and_counts_statements() -> None:
    results = await measure(conversations=1)
    assert results["turns"] == len(SCRIPT)
    assert results["cpu_ms_per_turn"] > 0
    # every turn stores its events and takes a lease: at least a write and its COMMIT
    assert results["by_kind"]["INSERT"] >= 1
    assert results["by_kind"]["COMMIT"] >= 1
    assert results["statements_per_turn"] == pytest.approx(sum(results["by_kind"].values()))
