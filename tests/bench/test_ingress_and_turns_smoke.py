"""Seconds-long runs of the ingress and Slack-turn benchmarks (no timing assertions: figures live in BENCHMARKS.md)."""

from __future__ import annotations

import math

import pytest

from bench import ingress_bench, turns_bench
from tests.conftest import POSTGRES_ENV, postgres_url


def tried(rate: float, p99s: list[float]) -> list[ingress_bench.Step]:
    return [ingress_bench.Step(rate, 10, 10, 1.0, p99, 0.0, 0.0) for p99 in p99s]


async def test_a_rate_is_sustained_when_two_of_up_to_three_tries_meet_the_target() -> None:
    # The p99 each try of each rate will have (ms): a miss is tried again, and the median try decides.
    script = {50.0: [156.0, 30.0, 40.0], 100.0: [30.0, 35.0, 999.0], 200.0: [120.0, 40.0, 130.0], 400.0: [1.0]}
    measured: list[float] = []

    async def measure(rate: float) -> ingress_bench.Step:
        measured.append(rate)
        return tried(rate, [script[rate].pop(0)])[0]

    series = await ingress_bench.climb(measure, [50.0, 100.0, 200.0, 400.0])
    # 50: missed, met, met → sustained after 3 tries; 100: met twice → decided after 2; 200: 1 of 3 → not
    # sustained, and 400 is never tried.
    assert measured == [50.0] * 3 + [100.0] * 2 + [200.0] * 3
    assert [ingress_bench.verdict(tries) for tries in series] == [True, True, False]


def test_the_verdict_waits_for_a_deciding_try() -> None:
    verdict = ingress_bench.verdict
    assert verdict([]) is None
    assert verdict(tried(50, [10.0])) is None
    assert verdict(tried(50, [150.0])) is None  # one spike decides nothing
    assert verdict(tried(50, [150.0, 150.0])) is False
    assert verdict(tried(50, [10.0, 10.0])) is True
    assert verdict(tried(50, [150.0, 10.0])) is None
    assert verdict(tried(50, [150.0, 10.0, 99.9])) is True
    assert verdict(tried(50, [150.0, 10.0, 100.0])) is False
    unacknowledged = [ingress_bench.Step(50, 10, 9, 1.0, 5.0, 0.0, 0.0)] * 2
    assert verdict(unacknowledged) is False  # a request not acknowledged misses, whatever the latency


async def test_ingress_benchmark_runs_and_reports() -> None:
    rates = [20.0, 40.0]
    results = await ingress_bench.main_async(rates, seconds=0.5, users=10, warmup=0.3)
    for app in ("bare", "sqlite"):
        assert results[f"{app}_warmup_sent"] == round(20 * 0.3)  # warmed up at the first rate, not counted
        assert 0 < results[f"{app}_warmup_p50_ms"] <= results[f"{app}_warmup_p99_ms"]
        assert results[f"{app}_max_rate"] in (0.0, *rates)
        run = [rate for rate in rates if f"{app}_{rate:g}_tries" in results]
        assert run and run == rates[: len(run)]  # rising rates, stopping only after a rate that was not sustained
        for rate in run:
            k = f"{app}_{rate:g}"
            tries = int(results[f"{k}_tries"])
            assert 2 <= tries <= 3 and f"{k}_try{tries + 1}_sent" not in results
            steps = []
            for attempt in range(1, tries + 1):
                t = f"{k}_try{attempt}"
                assert results[f"{t}_sent"] == round(rate * 0.5)
                assert 0 <= results[f"{t}_ok"] <= results[f"{t}_sent"]
                assert 0 < results[f"{t}_p50_ms"] <= results[f"{t}_p99_ms"]
                assert results[f"{t}_drain_s"] >= 0
                steps.append(
                    ingress_bench.Step(
                        rate, int(results[f"{t}_sent"]), int(results[f"{t}_ok"]), 0, results[f"{t}_p99_ms"], 0, 0
                    )
                )
            assert results[f"{k}_met"] == sum(s.sustained for s in steps)
            assert results[f"{k}_sustained"] == float(bool(ingress_bench.verdict(steps)))
        sustained = [rate for rate in run if results[f"{app}_{rate:g}_sustained"]]
        assert results[f"{app}_max_rate"] == max(sustained, default=0.0)
        assert results[f"{app}_requests"] == sum(
            results[f"{app}_{rate:g}_try{attempt}_sent"]
            for rate in run
            for attempt in range(1, int(results[f"{app}_{rate:g}_tries"]) + 1)
        )
    assert results["bare_replies"] == 0  # bare bolt only acknowledges
    # every request chargedesk acknowledged after the warm-up became a turn whose reply reached the fake Slack
    assert results["sqlite_replies"] == sum(
        results[key] for key in results if key.startswith("sqlite_") and "_try" in key and key.endswith("_ok")
    )
    assert results["requests"] == sum(results[f"{app}_requests"] for app in ("bare", "sqlite"))
    assert "postgres_max_rate" not in results  # no PostgreSQL URL given
    assert math.isfinite(results["sqlite_ratio"]) and results["sqlite_ratio"] >= 0
    section = ingress_bench.report(results, "smoke", rates, 0.5, 0.3)
    assert section.startswith("## Slack ingress")
    assert "warm-up, 0.3 s at 20 req/s" in section and "2 of at most 3 tries" in section


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
