"""Benchmark of whole Slack turns: a signed message.im in → the reply posted at the (fake) Slack Web API.

    python -m bench.turns_bench                    # full run on SQLite, prints a Markdown section
    python -m bench.turns_bench --write BENCHMARKS.md \\
        --postgres-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
    python -m bench.turns_bench --conversations 3 --turns 2   # CI smoke size

`--conversations` Slack users (distinct user ids and DM channels; all carla's demo account by e-mail) talk to
chargedesk's app over HTTP on loopback at the same time, each sending its next message as soon as the previous
reply arrived (plus `--pause` seconds), for `--turns` messages each: carla's service-ticket script of the engine
benchmark, repeated. A turn's latency runs from just before its event is posted to the moment the fake Slack
receives the `chat.postMessage` into that conversation's DM. SQLite is a temporary file; PostgreSQL, with
`--postgres-url`, is a fresh database (`chargedesk_bench_<hex>`) created through that server's `postgres`
database and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import (
    TARGET_COLUMNS,
    command_line,
    fresh_postgres_database,
    machine,
    markdown_table,
    percentile,
    publish,
)
from bench.engine_bench import SCRIPT
from bench.ingress_bench import SECRET, bench_users, serve_chargedesk
from tests.support.fake_slack import FakeSlack
from tests.support.payloads import message_im, next_ts
from tests.support.signing import JSON, SLACK_USER_AGENT, SlackSender, signature_headers

TARGET_P99_MS = 100.0
PAUSE_S = 2.0  # a person reading a reply and typing the next message takes longer than this
REPLY_TIMEOUT_S = 30.0
DATABASES = ("sqlite", "postgres")


class TimedSlack(FakeSlack):
    """The fake Slack, also telling whoever waits on a DM channel when a message was posted into it."""

    def __init__(self, users: dict[str, dict[str, Any]]) -> None:
        super().__init__(users=users)
        self.waiting: dict[str, asyncio.Future[float]] = {}
        self.unexpected = 0  # messages posted into a conversation that was not waiting for one

    def expect(self, channel: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[channel] = future
        return future

    def _chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        answer = super()._chat_post_message(args)
        if answer.get("ok"):
            future = self.waiting.pop(str(answer["channel"]), None)
            if future is not None and not future.done():
                future.set_result(time.perf_counter())
            else:
                self.unexpected += 1
        return answer


async def converse(
    session: aiohttp.ClientSession,
    url: str,
    fake: TimedSlack,
    user: str,
    turns: int,
    pause: float,
    latencies: list[float],
) -> int:
    """One user's conversation; returns how many turns got no reply in time.

    With a `pause`, the user starts at a random moment within one pause and waits between half and one and a half
    pauses after each reply (people reading and typing do not move in step).
    """
    sender = SlackSender(url, SECRET)
    channel = f"D{user}"
    missing = 0
    jitter = random.Random(user)
    if pause:
        await asyncio.sleep(jitter.uniform(0, pause))
    for i in range(turns):
        body = json.dumps(sender.envelope(message_im(user, SCRIPT[i % len(SCRIPT)], channel, next_ts()))).encode()
        headers = {"Content-Type": JSON, "User-Agent": SLACK_USER_AGENT, **signature_headers(SECRET, body)}
        replied = fake.expect(channel)
        start = time.perf_counter()
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            acknowledged = response.status == 200
        try:
            if not acknowledged:
                raise TimeoutError
            latencies.append((await asyncio.wait_for(replied, REPLY_TIMEOUT_S) - start) * 1000)
        except TimeoutError:
            missing += 1
            fake.waiting.pop(channel, None)
        if pause:
            await asyncio.sleep(jitter.uniform(0.5, 1.5) * pause)  # the user reads the answer and types
    return missing


async def measure(database_url: str, conversations: int, turns: int, pause: float, workers: int) -> dict[str, float]:
    """Both loads on one server: `conversations` people pausing like people, then as many sending back to back."""
    people = bench_users(2 * conversations + 1, "TRN")
    users = list(people)
    fake = TimedSlack(people)
    await fake.start()
    results: dict[str, float] = {}
    try:
        async with serve_chargedesk(database_url, fake, workers) as served, aiohttp.ClientSession() as session:
            # Warm-up: bolt's auth.test, the first connections and queries, the first turn of the design.
            await converse(session, served.url, fake, users[-1], 2, 0.0, [])
            for load, group, wait in (
                ("paced", users[:conversations], pause),
                ("saturated", users[conversations : 2 * conversations], 0.0),
            ):
                latencies: list[float] = []
                unexpected = fake.unexpected
                started = time.perf_counter()
                missing = await asyncio.gather(
                    *(converse(session, served.url, fake, user, turns, wait, latencies) for user in group)
                )
                seconds = time.perf_counter() - started
                results.update(
                    {
                        f"{load}_turns": conversations * turns,
                        f"{load}_replies": len(latencies),
                        f"{load}_missing": sum(missing),
                        f"{load}_unexpected": fake.unexpected - unexpected,
                        f"{load}_p50_ms": percentile(latencies, 50),
                        f"{load}_p99_ms": percentile(latencies, 99),
                        f"{load}_turns_per_second": len(latencies) / seconds,
                    }
                )
    finally:
        await fake.stop()
    return results


async def main_async(
    conversations: int, turns: int, postgres_url: str | None = None, pause: float = PAUSE_S, workers: int = 1
) -> dict[str, float]:
    results: dict[str, float] = {"workers": workers, "pause": pause}
    with tempfile.TemporaryDirectory() as directory:
        database = f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
        sqlite = await measure(database, conversations, turns, pause, 0)  # SQLite: turns in the Slack process
    results.update({f"sqlite_{k}": v for k, v in sqlite.items()})
    if postgres_url:
        async with fresh_postgres_database(postgres_url) as url:
            postgres = await measure(url, conversations, turns, pause, workers)
        results.update({f"postgres_{k}": v for k, v in postgres.items()})
    return results


def report(results: dict[str, float], command: str, conversations: int) -> str:
    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    r = results
    loads = (
        ("paced", f"{conversations} conversations, people's pace ({r['pause']:g} s ± 50 % after each reply)", True),
        ("saturated", f"{conversations} conversations sending back to back (saturation)", False),
    )
    rows: list[tuple[str, str, str, str]] = []
    for name, label in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
        for load, how, targeted in loads:
            key = f"{name}_{load}"
            target = f"p99 ≤ {TARGET_P99_MS:.0f} ms" if targeted else ""
            if f"{key}_turns" not in r:
                rows.append((f"turn latency p50 / p99, {label}, {how}", "not run (no `--postgres-url`)", target, ""))
                continue
            latency = f"{r[f'{key}_p50_ms']:.1f} / {r[f'{key}_p99_ms']:.1f} ms"
            latency += f" at {r[f'{key}_turns_per_second']:.0f} turns/s"
            if r[f"{key}_missing"]:
                latency += f", {int(r[f'{key}_missing'])} of {int(r[f'{key}_turns'])} turns without a reply"
            ok = r[f"{key}_p99_ms"] <= TARGET_P99_MS and not r[f"{key}_missing"]
            rows.append((f"turn latency p50 / p99, {label}, {how}", latency, target, verdict(ok) if targeted else ""))
    lines = [
        "## Slack turns end to end",
        "",
        f"Command: `{command}` — per database and load, {int(r['sqlite_paced_turns'])} turns; "
        f"SQLite runs turns in the Slack process, PostgreSQL in {int(r['workers'])} turn worker process(es) "
        f"(CHARGEDESK_TURN_WORKERS); machine: {machine()}.",
        "",
        *markdown_table(TARGET_COLUMNS, rows),
        "",
        "A turn runs from posting the signed `message.im` event to `/slack/events` to the `chat.postMessage` of its "
        "reply arriving at the fake Slack Web API on loopback: signature check, receipt and inbox, acknowledgement, "
        "a consumer taking it, the user's e-mail (`users.info`, cached), the engine's turn with its database "
        "work, and the Web API call. The target is read as 50 people in conversation at once; the saturated load "
        "shows what the same machine does when 50 clients send as fast as they are answered (latency is then the "
        "queue: 50 ÷ throughput).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--turns", type=int, default=14, help="messages per conversation")
    parser.add_argument("--pause", type=float, default=PAUSE_S, help="seconds a user waits after each reply")
    parser.add_argument("--workers", type=int, default=1, help="turn worker processes")
    parser.add_argument("--postgres-url", help="a PostgreSQL server (any database on it) to also run on")
    parser.add_argument("--write", type=Path, help="update this Markdown file's section")
    args = parser.parse_args()
    results = asyncio.run(main_async(args.conversations, args.turns, args.postgres_url, args.pause, args.workers))
    section = report(results, command_line("bench.turns_bench", sys.argv[1:], args.postgres_url), args.conversations)
    publish(section, args.write)


if __name__ == "__main__":
    main()
