"""The Prometheus metrics of one app instance, on a registry of its own (tests and processes never share one).

Events are counted where they happen, in memory (`Metrics.turn`, `fell_back`, `rate_limited`,
`delivery_failed`). What lives in the database (inbox depth, delivery queue depth, requests by kind and state) is
read when Prometheus scrapes, by `Metrics.scrape`: nothing is written to the database for the sake of a metric.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Turns take tens of milliseconds when the database is near, seconds when they wait for a lease or Slack.
RateLimitedVia = Literal["queue", "reply"]  # the delivery sender, or the reply client (bot/slack/egress/retries.py)
RATE_LIMITED_VIA: tuple[RateLimitedVia, ...] = ("queue", "reply")
TURN_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class DatabaseReadings:
    """How to read, at scrape time, what the gauges show (each an async function of no arguments)."""

    inbox_depth: Callable[[], Awaitable[int]]
    delivery_queue_depth: Callable[[], Awaitable[int]]
    requests_by_kind_and_state: Callable[[], Awaitable[Mapping[tuple[str, str], int]]]


class _DatabaseGauges(Collector):
    """The last readings, as gauges; none at all when the database could not be read (rather than stale ones)."""

    def __init__(self) -> None:
        self.inbox: int | None = None
        self.deliveries: int | None = None
        self.requests: Mapping[tuple[str, str], int] | None = None

    def collect(self) -> Iterable[Metric]:
        if self.inbox is not None:
            yield GaugeMetricFamily("chargedesk_inbox_depth", "Conversation turns waiting in the inbox", self.inbox)
        if self.deliveries is not None:
            yield GaugeMetricFamily(
                "chargedesk_delivery_queue_depth", "Slack deliveries neither sent nor failed", self.deliveries
            )
        if self.requests is not None:
            family = GaugeMetricFamily(
                "chargedesk_requests", "Support requests by kind and state", labels=["kind", "state"]
            )
            for (kind, state), count in sorted(self.requests.items()):
                family.add_metric([kind, state], count)
            yield family

    def describe(self) -> Iterable[Metric]:
        return []  # the families vary with what could be read; the registry must not check them up front


class Metrics:
    def __init__(self, readings: DatabaseReadings | None = None) -> None:
        self.registry = CollectorRegistry()
        self.readings = readings
        self.turns = Counter("chargedesk_turns", "Conversation turns run by the engine", registry=self.registry)
        self.turn_seconds = Histogram(
            "chargedesk_turn_seconds",
            "How long a turn took, waiting included",
            buckets=TURN_BUCKETS,
            registry=self.registry,
        )
        self.nlu_fallbacks = Counter(
            "chargedesk_nlu_fallbacks",
            "User messages the classifier was unsure of (nlu_fallback)",
            registry=self.registry,
        )
        self.slack_rate_limited = Counter(
            "chargedesk_slack_rate_limited",
            "Slack calls answered 429 (rate limited), by the durable queue or by a reply someone waits for",
            ["via"],
            registry=self.registry,
        )
        for via in RATE_LIMITED_VIA:
            self.slack_rate_limited.labels(via)  # shown as 0 before the first 429
        self.deliveries_failed = Counter(
            "chargedesk_deliveries_failed", "Slack deliveries given up for good", registry=self.registry
        )
        self._gauges = _DatabaseGauges()
        self.registry.register(self._gauges)

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Around one turn: counted and timed, whether it ended well or not."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.turns.inc()
            self.turn_seconds.observe(time.perf_counter() - started)

    def fell_back(self) -> None:
        self.nlu_fallbacks.inc()

    def rate_limited(self, via: RateLimitedVia) -> None:
        self.slack_rate_limited.labels(via).inc()

    def delivery_failed(self) -> None:
        self.deliveries_failed.inc()

    async def scrape(self) -> bytes:
        """The text Prometheus reads: the counters, and the gauges read from the database now."""
        if self.readings is not None:
            await self._read(self.readings)
        return generate_latest(self.registry)

    async def _read(self, readings: DatabaseReadings) -> None:
        gauges = self._gauges
        try:
            gauges.inbox = await readings.inbox_depth()
            gauges.deliveries = await readings.delivery_queue_depth()
            gauges.requests = await readings.requests_by_kind_and_state()
        except Exception as error:  # the database is down: /readyz says so; the counters are still worth reading
            logger.warning("reading the metrics' gauges failed: %s", type(error).__name__)
            gauges.inbox = gauges.deliveries = gauges.requests = None
