"""Seconds-long runs of the ingress and Slack-turn benchmarks (no timing assertions: figures live in BENCHMARKS.md)."""

from __future__ import annotations

import math

import pytest

from bench import ingress_bench, turns_bench
from tests.conftest import POSTGRES_ENV, postgres_url


async def test_ingress_benchmark_runs_and_reports() -> None:
    rates = [20.0, 40.0]
    results = await ingress_bench.main_async(rates, seconds=0.5, users=10)
    for app in ("bare", "sqlite"):
        assert results[f"{app}_max_rate"] in (0.0, *rates)
        run = [rate for rate in rates if f"{app}_{rate:g}_sent" in results]
        assert run and run == rates[: len(run)]  # rising rates, stopping only after a rate that was not sustained
        for rate in run:
            k = f"{app}_{rate:g}"
            assert results[f"{k}_sent"] == round(rate * 0.5)
            assert 0 <= results[f"{k}_ok"] <= results[f"{k}_sent"]
            assert 0 < results[f"{k}_p50_ms"] <= results[f"{k}_p99_ms"]
            assert results[f"{k}_drain_s"] >= 0
        assert results[f"{app}_requests"] == sum(results[f"{app}_{rate:g}_sent"] for rate in run)
    assert results["bare_replies"] == 0  # bare bolt only acknowledges
    # every request chargedesk acknowledged became a turn whose reply reached the fake Slack
    for app in ("sqlite",):
        assert results[f"{app}_replies"] == sum(
            results[f"{app}_{rate:g}_ok"] for rate in rates if f"{app}_{rate:g}_ok" in results
        )
    assert results["requests"] == sum(results[f"{app}_requests"] for app in ("bare", "sqlite"))
    assert "postgres_max_rate" not in results  # no PostgreSQL URL given
    assert math.isfinite(results["sqlite_ratio"]) and results["sqlite_ratio"] >= 0
    section = ingress_bench.report(results, "smoke", rates, 0.5)
    assert section.startswith("## Slack ingress")


async def test_turns_benchmark_runs_and_reports_on_sqlite() -> None:
    results = await turns_bench.main_async(conversations=3, turns=3, pause=0.05)
    for load in ("paced", "saturated"):
        assert results[f"sqlite_{load}_turns"] == 9
        assert results[f"sqlite_{load}_replies"] + results[f"sqlite_{load}_missing"] == 9
        assert results[f"sqlite_{load}_unexpected"] == 0
        assert 0 < results[f"sqlite_{load}_p50_ms"] <= results[f"sqlite_{load}_p99_ms"]
        assert results[f"sqlite_{load}_turns_per_second"] > 0
    assert not any(key.startswith("postgres_") for key in results)
    section = turns_bench.report(results, "smoke", 3)
    assert section.startswith("## Slack turns end to end")
    assert "not run" in section  # the PostgreSQL rows


async def test_turns_benchmark_runs_on_postgres() -> None:
    url = postgres_url()
    if url is None:
        pytest.skip(f"PostgreSQL benchmarks need {POSTGRES_ENV}")
    results = await turns_bench.main_async(conversations=2, turns=2, postgres_url=url, pause=0.05)
    for name in turns_bench.DATABASES:
        for load in ("paced", "saturated"):
            assert results[f"{name}_{load}_turns"] == 4
            assert results[f"{name}_{load}_replies"] + results[f"{name}_{load}_missing"] == 4
            assert 0 < results[f"{name}_{load}_p50_ms"] <= results[f"{name}_{load}_p99_ms"]
    section = turns_bench.report(results, "smoke", 2)
    assert section.startswith("## Slack turns end to end")
    assert "PostgreSQL" in section and "not run" not in section
