"""Benchmark of Slack egress: one channel's notifications against Slack's per-channel rate limit (issue's targets).

    python -m bench.egress_bench                    # full run (600 notifications, about 20 minutes), prints Markdown
    python -m bench.egress_bench --write BENCHMARKS.md
    python -m bench.egress_bench --notifications 8 --rate 100 --interval 0.01 --tuned-interval 0.01   # smoke size

`--notifications` deliveries are enqueued into one channel and one `SlackSender` works the queue until it is empty,
against a fake Slack that refills each channel's token bucket at `--rate` messages per second up to `--burst` and
answers HTTP 429 with ``Retry-After`` (whole seconds, rounded up) when the bucket is empty. The least time any
sender can take is ``(notifications - burst) / rate``: the burst goes at once, the rest at the refill rate. The run
is made twice, with the sender's `--interval` and with `--tuned-interval`, each on a fresh database.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from bench.common import TARGET_COLUMNS, command_line, machine, markdown_table, migrated_portal, publish
from bot.slack.egress.delivery import Delivery, SlackSender, enqueue
from tests.support.fake_slack import Call, FakeSlack

CHANNEL = "C0EGRESS"
TOKEN = "xoxb-bench"
TARGET_RATIO = 1.05


class RateLimitedSlack(FakeSlack):
    """FakeSlack with Slack's per-channel limit on chat.postMessage: a token bucket, HTTP 429 beyond it."""

    def __init__(self, rate: float, burst: int) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("need rate > 0 and burst >= 1")
        super().__init__()
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}  # channel -> (tokens, time.monotonic() of that count)

    def take(self, channel: str, now: float) -> float:
        """Take a token from `channel`'s bucket: 0.0 when there was one, else the seconds until there is one."""
        tokens, then = self._buckets.get(channel, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self.rate)
        if tokens >= 1.0:
            self._buckets[channel] = (tokens - 1.0, now)
            return 0.0
        self._buckets[channel] = (tokens, now)
        return (1.0 - tokens) / self.rate

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if method != "chat.postMessage":
            return await super()._handle_api(request)
        args = await self._read_args(request)  # aiohttp keeps the body, so the base class can read it again
        wait = self.take(self._channel_for(args.get("channel", "")), time.monotonic())
        if not wait:
            return await super()._handle_api(request)
        body = {"ok": False, "error": "ratelimited"}
        self.calls.append(Call(method, args, self._bearer(request), 429, body, request.path))
        headers = {"Retry-After": str(max(1, math.ceil(wait)))}
        return web.json_response(body, status=429, headers=headers)


async def drain_once(
    notifications: int, rate: float, burst: int, interval: float, postgres_url: str | None = None
) -> dict[str, float]:
    """Enqueue `notifications` posts into one channel, drain them with one sender; the figures of that run."""
    texts = [f"notification {index:05d}" for index in range(notifications)]
    minimum = max(0, notifications - burst) / rate
    async with migrated_portal(postgres_url, "egress") as portal, RateLimitedSlack(rate, burst) as fake:
        deliveries = [
            Delivery(CHANNEL, "chat.postMessage", {"channel": CHANNEL, "text": body}, key=f"egress-{index}")
            for index, body in enumerate(texts)
        ]
        async with portal.engine.begin() as conn:
            added = await enqueue(conn, deliveries, datetime.now(UTC))
        sender = SlackSender(portal.engine, AsyncWebClient(token=TOKEN, base_url=fake.base_url), interval=interval)
        budget = 3 * minimum + 60 + 3 * notifications * max(interval, 1 / rate)
        started = time.perf_counter()
        await sender.drain(timeout=budget)
        drain_s = time.perf_counter() - started
        pending = await sender.pending()
        posts = fake.calls_to("chat.postMessage")
    accepted = Counter(str(call.args.get("text")) for call in posts if call.ok)
    return {
        "notifications": float(notifications),
        "enqueued": float(added),
        "rate": rate,
        "burst": float(burst),
        "interval_s": interval,
        "drain_s": drain_s,
        "theoretical_min_s": minimum,
        "ratio": drain_s / minimum if minimum else math.inf,
        "calls": float(len(posts)),
        "accepted": float(sum(accepted.values())),
        "rate_limited": float(sum(1 for call in posts if call.http_status == 429)),
        "lost": float(sum(1 for body in texts if accepted[body] == 0)),
        "duplicated": float(sum(count - 1 for count in accepted.values() if count > 1)),
        "pending": float(pending),
    }


async def main_async(
    notifications: int,
    rate: float = 1.0,
    burst: int = 3,
    interval: float = 1.0,
    tuned_interval: float | None = None,
    postgres_url: str | None = None,
) -> dict[str, float]:
    """The run with `interval`, then with `tuned_interval` (figures prefixed ``tuned_``); default 0.98 / rate."""
    tuned = 0.98 / rate if tuned_interval is None else tuned_interval
    results = await drain_once(notifications, rate, burst, interval, postgres_url)
    tuned_results = await drain_once(notifications, rate, burst, tuned, postgres_url)
    results.update({f"tuned_{key}": value for key, value in tuned_results.items()})
    return results


def report(results: dict[str, float], command: str, database: str = "SQLite") -> str:
    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    r = results
    rows: list[tuple[str, str, str, str]] = []
    for prefix, label in (("", "default"), ("tuned_", "tuned")):
        rows += [
            (
                f"drain time ÷ theoretical minimum, sender interval {r[prefix + 'interval_s']:g} s ({label})",
                f"{r[prefix + 'drain_s']:.2f} s ÷ {r[prefix + 'theoretical_min_s']:.2f} s = {r[prefix + 'ratio']:.3f}",
                f"≤ {TARGET_RATIO}",
                verdict(r[prefix + "ratio"] <= TARGET_RATIO),
            ),
            (
                f"HTTP 429 answers / calls ({label})",
                f"{r[prefix + 'rate_limited']:.0f} / {r[prefix + 'calls']:.0f}",
                "",
                "",
            ),
            (f"lost ({label})", f"{r[prefix + 'lost']:.0f}", "0", verdict(r[prefix + "lost"] == 0)),
            (
                f"duplicated ({label})",
                f"{r[prefix + 'duplicated']:.0f}",
                "0",
                verdict(r[prefix + "duplicated"] == 0),
            ),
        ]
    lines = [
        "## Slack egress: one channel at Slack's pace",
        "",
        f"Command: `{command}` — {int(r['notifications'])} notifications into one channel, one sender; fake Slack "
        f"allows {r['rate']:g} message/s per channel with bursts of {int(r['burst'])} and answers 429 with "
        f"Retry-After (whole seconds) beyond; theoretical minimum = (notifications - burst) ÷ rate; machine: "
        f"{machine()}, {database}.",
        "",
        *markdown_table(TARGET_COLUMNS, rows),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--notifications", type=int, default=600)
    parser.add_argument("--rate", type=float, default=1.0, help="messages per second per channel the fake allows")
    parser.add_argument("--burst", type=int, default=3, help="messages the fake allows at once")
    parser.add_argument("--interval", type=float, default=1.0, help="the sender's pause per lane (seconds)")
    parser.add_argument("--tuned-interval", type=float, help="the second run's interval (default 0.98 / rate)")
    parser.add_argument("--postgres-url", help="create (and drop) fresh databases next to this one instead of SQLite")
    parser.add_argument("--write", type=Path, help="update this Markdown file's section")
    args = parser.parse_args()
    results = asyncio.run(
        main_async(args.notifications, args.rate, args.burst, args.interval, args.tuned_interval, args.postgres_url)
    )
    command = command_line("bench.egress_bench", sys.argv[1:], args.postgres_url)
    section = report(results, command, "PostgreSQL" if args.postgres_url else "SQLite")
    publish(section, args.write)


if __name__ == "__main__":
    main()
