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
import os
import platform
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.engine_bench import SCRIPT, write_section
from bench.ingress_bench import SECRET, bench_users, percentile, serve_chargedesk
from tests.slack.fake_slack import FakeSlack
from tests.slack.payloads import message_im, next_ts
from tests.slack.signing import JSON, SLACK_USER_AGENT, SlackSender, signature_headers

TARGET_P99_MS = 100.0
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


@asynccontextmanager
async def fresh_postgres(url: str) -> AsyncIterator[str]:
    """A new, empty database on the server of `url`; dropped afterwards. Yields its URL."""
    base = make_url(url)
    name = f"chargedesk_bench_{secrets.token_hex(5)}"
    admin = create_async_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        await admin.dispose()


async def converse(
    session: aiohttp.ClientSession,
    url: str,
    fake: TimedSlack,
    user: str,
    turns: int,
    pause: float,
    latencies: list[float],
) -> int:
    """One user's conversation; returns how many turns got no reply in time."""
    sender = SlackSender(url, SECRET)
    channel = f"D{user}"
    missing = 0
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
            await asyncio.sleep(pause)  # the user reads the answer and types the next message
    return missing


async def measure(database_url: str, conversations: int, turns: int, pause: float) -> dict[str, float]:
    people = bench_users(conversations + 1, "TRN")
    users = list(people)
    fake = TimedSlack(people)
    await fake.start()
    try:
        async with serve_chargedesk(database_url, fake) as served, aiohttp.ClientSession() as session:
            # Warm-up: bolt's auth.test, the first connections and queries, the first turn of the design.
            await converse(session, served.url, fake, users[-1], 2, 0.0, [])
            latencies: list[float] = []
            started = time.perf_counter()
            missing = await asyncio.gather(
                *(converse(session, served.url, fake, user, turns, pause, latencies) for user in users[:-1])
            )
            seconds = time.perf_counter() - started
    finally:
        await fake.stop()
    return {
        "turns": conversations * turns,
        "replies": len(latencies),
        "missing": sum(missing),
        "unexpected": fake.unexpected,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "turns_per_second": len(latencies) / seconds,
    }


async def main_async(
    conversations: int, turns: int, postgres_url: str | None = None, pause: float = 0.0
) -> dict[str, float]:
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as directory:
        sqlite = await measure(f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}", conversations, turns, pause)
    results.update({f"sqlite_{k}": v for k, v in sqlite.items()})
    if postgres_url:
        async with fresh_postgres(postgres_url) as url:
            postgres = await measure(url, conversations, turns, pause)
        results.update({f"postgres_{k}": v for k, v in postgres.items()})
    return results


def report(results: dict[str, float], command: str, conversations: int, pause: float = 0.0) -> str:
    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    r = results
    how = "back to back" if not pause else f"{pause:g} s between a reply and the next message"
    rows: list[tuple[str, str, str, str]] = []
    for name, label in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
        if f"{name}_turns" not in r:
            rows.append((f"turn latency p50 / p99, {label}", "not run (no `--postgres-url`)", "p99 ≤ 100 ms", ""))
            continue
        latency = f"{r[f'{name}_p50_ms']:.1f} / {r[f'{name}_p99_ms']:.1f} ms"
        if r[f"{name}_missing"]:
            latency += f", {int(r[f'{name}_missing'])} of {int(r[f'{name}_turns'])} turns without a reply"
        rows.append(
            (
                f"turn latency p50 / p99, {label}",
                latency,
                f"p99 ≤ {TARGET_P99_MS:.0f} ms",
                verdict(r[f"{name}_p99_ms"] <= TARGET_P99_MS and not r[f"{name}_missing"]),
            )
        )
        rows.append((f"turns per second, {label}", f"{r[f'{name}_turns_per_second']:.0f}", "", ""))
    lines = [
        "## Slack turns end to end",
        "",
        f"Command: `{command}` — {conversations} conversations at once, each sending {how}, "
        f"{int(r['sqlite_turns'])} turns per database; machine: {os.cpu_count()} cores, "
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}.",
        "",
        "| measure | result | target | |",
        "|---|---|---|---|",
        *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows),
        "",
        "A turn runs from posting the signed `message.im` event to `/slack/events` to the `chat.postMessage` of its "
        "reply arriving at the fake Slack Web API on loopback: signature check, receipt, acknowledgement, the "
        "user's e-mail (`users.info`, cached), the engine's turn with its database work, and the Web API call.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--turns", type=int, default=14, help="messages per conversation")
    parser.add_argument("--pause", type=float, default=0.0, help="seconds a user waits after each reply")
    parser.add_argument("--postgres-url", help="a PostgreSQL server (any database on it) to also run on")
    parser.add_argument("--write", type=Path, help="update this Markdown file's section")
    args = parser.parse_args()
    results = asyncio.run(main_async(args.conversations, args.turns, args.postgres_url, args.pause))
    argv = sys.argv[1:]
    if args.postgres_url:  # no password in the report
        hidden = make_url(args.postgres_url).render_as_string(hide_password=True)
        argv = [hidden if a == args.postgres_url else a.replace(args.postgres_url, hidden) for a in argv]
    command = "python -m bench.turns_bench " + " ".join(argv)
    section = report(results, command.strip(), args.conversations, args.pause)
    print(section)
    if args.write:
        write_section(args.write, section)


if __name__ == "__main__":
    main()
