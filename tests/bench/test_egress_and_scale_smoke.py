"""Seconds-long runs of the egress and scale benchmarks, so they never rot (no timing assertions).

PostgreSQL parts run when CHARGEDESK_TEST_POSTGRES_URL is set; they create and drop databases of their own.
"""

from __future__ import annotations

import os

import pytest

from bench import egress_bench, scale_bench
from tests.conftest import POSTGRES_ENV, postgres_url

EGRESS_KEYS = {
    "notifications",
    "enqueued",
    "drain_s",
    "theoretical_min_s",
    "ratio",
    "calls",
    "accepted",
    "rate_limited",
    "lost",
    "duplicated",
    "pending",
}
needs_postgres = pytest.mark.skipif(postgres_url() is None, reason=f"needs {POSTGRES_ENV}")


def assert_each_delivered_once(results: dict[str, float], notifications: int, prefix: str = "") -> None:
    figures = {key: results[prefix + key] for key in ("enqueued", "accepted", "lost", "duplicated", "pending")}
    assert figures == {"enqueued": notifications, "accepted": notifications, "lost": 0, "duplicated": 0, "pending": 0}
    # every call was either accepted or answered 429
    assert results[prefix + "calls"] == notifications + results[prefix + "rate_limited"]


async def test_egress_benchmark_runs_and_reports() -> None:
    results = await egress_bench.main_async(8, rate=100.0, burst=3, interval=0.01, tuned_interval=0.01)
    assert EGRESS_KEYS | {f"tuned_{key}" for key in EGRESS_KEYS} <= results.keys()
    assert_each_delivered_once(results, 8)
    assert_each_delivered_once(results, 8, "tuned_")
    assert results["theoretical_min_s"] == pytest.approx(5 / 100)
    section = egress_bench.report(results, "smoke")
    assert section.startswith("## Slack egress: one channel at Slack's pace")
    assert "| lost (default) | 0 | 0 | met |" in section


async def test_egress_past_the_burst_is_answered_429_and_still_delivered_once() -> None:
    # No pause between calls: the second and third posts find the bucket empty and wait for Retry-After (1 s).
    results = await egress_bench.drain_once(3, rate=1.0, burst=1, interval=0.0)
    assert_each_delivered_once(results, 3)
    assert results["rate_limited"] >= 1


def test_rate_limited_fake_refills_its_bucket() -> None:
    fake = egress_bench.RateLimitedSlack(rate=2.0, burst=2)
    assert [fake.take("C1", 10.0), fake.take("C1", 10.0)] == [0.0, 0.0]
    assert fake.take("C1", 10.0) == pytest.approx(0.5)
    assert fake.take("C2", 10.0) == 0.0  # channels have buckets of their own
    assert fake.take("C1", 10.5) == 0.0


@needs_postgres
async def test_egress_benchmark_on_postgres() -> None:
    results = await egress_bench.main_async(4, rate=100.0, burst=3, interval=0.01, postgres_url=postgres_url())
    assert_each_delivered_once(results, 4)
    assert_each_delivered_once(results, 4, "tuned_")


async def test_scale_benchmark_runs_and_reports() -> None:
    results = await scale_bench.main_async(30, sample_every=10)
    assert results["conversations"] == 30
    assert results["turns"] == scale_bench.turns_of(30) == 75
    assert {"rss_mb_at_0", "rss_mb_at_10", "rss_mb_at_20", "rss_mb_at_30"} <= results.keys()
    assert results["rows_conversations_per_conversation"] == 1.0
    assert results["rows_conversation_events_per_conversation"] > 0
    assert results["bytes_per_conversation"] > 0
    assert results["rss_end_mb"] > 0
    assert "speedup" not in results
    section = scale_bench.report(results, "smoke")
    assert section.startswith("## Scale: conversations, memory, database, processes")
    assert "not run" in section


@needs_postgres
async def test_scale_benchmark_on_postgres_with_two_processes() -> None:
    url = postgres_url()
    assert url is not None
    results = await scale_bench.main_async(4, url, workers_conversations=4, sample_every=2, part_a_on_postgres=True)
    assert results["turns"] == scale_bench.turns_of(4)
    assert results["rows_conversations_per_conversation"] == 1.0
    assert results["bytes_per_conversation"] > 0
    assert results["one_process_turns"] == results["two_processes_turns"] == scale_bench.turns_of(4)
    assert results["speedup"] > 0
    assert 0 <= results["one_process_cores"] <= (os.cpu_count() or 1) + 0.01
    assert 0 <= results["two_processes_cores"] <= (os.cpu_count() or 1) + 0.01
    section = scale_bench.report(results, "smoke", "PostgreSQL")
    assert section.startswith("## Scale: conversations, memory, database, processes")
    assert "2 processes ÷ 1 process" in section
    assert "cores busy on the whole machine" in section


def test_cores_busy_reads_the_machine() -> None:
    before = scale_bench.busy_jiffies()
    sum(i * i for i in range(2_000_000))  # keep one core busy for a moment
    after = scale_bench.busy_jiffies()
    assert after[1] > before[1] and 0 < scale_bench.cores_busy(before, after) <= (os.cpu_count() or 1)


def test_slope_of_flat_and_growing_samples() -> None:
    assert scale_bench.slope([(0, 5.0), (1000, 5.0), (2000, 5.0)]) == 0.0
    assert scale_bench.slope([(0, 1.0), (1000, 2.0), (2000, 3.0)]) == pytest.approx(0.001)
