"""Benchmark of the Slack ingress: acknowledgement latency of signed requests on loopback, against bare slack-bolt.

    python -m bench.ingress_bench                    # full run, prints a Markdown section
    python -m bench.ingress_bench --write BENCHMARKS.md
    python -m bench.ingress_bench --rates 20,40 --seconds 0.5 --warmup 0.3   # CI smoke size

An open-loop load generator in a child process (so that it does not share the server's event loop) posts
pre-signed requests at a fixed rate to `/slack/events`: three `message.im` events (distinct event ids) for every
`block_actions` click (distinct trigger ids), from many users. Latency is from the moment a request was due to
its HTTP response (the acknowledgement), so a generator that falls behind shows up as latency, not as a lower
rate. Each rate runs first against a bare slack-bolt AsyncApp whose listeners only acknowledge, then against
chargedesk's app (temporary SQLite with the demo data, fake Slack Web API on loopback), behind the same aiohttp
server. chargedesk's ack path verifies the signature and records the delivery's receipt (a database insert)
before acknowledging; its listeners then run the turn after the response, in the same process: that work is
drained before the next rate starts, and the time it took is reported.

The rule, the same for every system, bare bolt included:

* warm-up: before its series each system gets the same request mix at the first rate for `--warmup` seconds, not
  counted (first connections, bolt's auth.test, Python's caches, PostgreSQL's first plans, the inbox's first
  turns), and its turns are drained;
* a try of a rate is met when every request was acknowledged (HTTP 200) and the p99 is below 100 ms;
* a rate is sustained when 2 of up to 3 tries meet it (a third try runs only after one met and one missed), so
  the verdict is the median try's, and one stall of the machine neither makes nor breaks it;
* rates stop rising for a system after the first one it does not sustain; every try's figures are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bench.common import command_line, fresh_postgres_database, machine, markdown_table, percentile, publish
from bot.config import DESIGN_ROOT, Settings
from bot.engine.actions import InProcessActions
from bot.engine.engine import Engine, prepare
from bot.engine.store import TrackerStore
from bot.slack.app import SlackApp, build_app, freeze_startup_heap, web_app
from bot.slack.ingress.inbox import Inbox
from bot.slack.ingress.workers import WorkerPool
from portal.bootstrap import Portal
from portal.demo import seed_demo
from tests.support.fake_slack import HOME_TEAM_ID, FakeSlack, start_local_server
from tests.support.payloads import block_actions, message_im, next_ts
from tests.support.signing import FORM, JSON, SLACK_USER_AGENT, SlackSender, signature_headers

SECRET = "bench-signing-secret"
CARLA_EMAIL = "carla@citycharge.example"
TARGET_P99_MS = 100.0
TARGET_RATIO = 0.9
TRIES = 3  # at most, per rate
NEEDED = 2  # tries that must meet the target for the rate to count as sustained
MAX_IN_FLIGHT = 2000  # client connections; beyond this, requests wait in the client (and count as latency)
REQUEST_TIMEOUT_S = 10.0
DRAIN_LIMIT_S = 300.0  # the longest wait for chargedesk's turns of one rate to finish before the next rate
# chargedesk on SQLite running turns itself (the default set-up), and on PostgreSQL with turn workers (production)
APPS = ("bare", "sqlite", "postgres")
WORKERS = {"bare": 0, "sqlite": 0, "postgres": 1}


def bench_users(count: int, prefix: str) -> dict[str, dict[str, Any]]:
    """`count` Slack users (ids differ, so conversations differ) who are all carla's demo account by e-mail."""
    return {
        f"U0{prefix}{i:04d}": {"team_id": HOME_TEAM_ID, "email": CARLA_EMAIL, "name": f"{prefix.lower()}{i}"}
        for i in range(count)
    }


# ---------------------------------------------------------------------- the servers


@dataclass(frozen=True)
class Served:
    url: str  # the /slack/events URL
    engine: Engine | None  # chargedesk's engine (None for the bare app)
    inbox: Inbox | None = None  # chargedesk's queued turns

    async def drained(self) -> bool:
        """Whether every turn the requests queued has run."""
        return self.inbox is None or await self.inbox.waiting() == 0


@asynccontextmanager
async def serve_chargedesk(database_url: str, fake: FakeSlack, workers: int = 0) -> AsyncIterator[Served]:
    """chargedesk's Slack app over HTTP on loopback, on `database_url` (migrated and seeded here).

    With `workers`, turns run in that many `chargedesk work` processes, as `chargedesk run` starts them with
    CHARGEDESK_TURN_WORKERS; without, in this process.
    """
    portal = Portal.connect(database_url)
    await portal.upgrade()
    await seed_demo(portal.uow())
    design, interpreter = prepare(DESIGN_ROOT)
    engine = Engine(design, interpreter, TrackerStore(portal.engine), InProcessActions(portal=portal))
    settings = Settings(
        database_url=database_url,
        slack_bot_token="xoxb-bench",
        slack_signing_secret=SECRET,
        slack_api_url=fake.base_url,
        triage_channel="C0TRIAGE",
        agent_users=frozenset({"U0AGENT"}),
    )
    app = build_app(settings, engine, portal, turns_in_process=workers == 0)
    pool = WorkerPool(workers) if workers else None
    saved = dict(os.environ)
    try:
        if pool is not None and app.inbox is not None:
            # The workers read their settings from the environment, as under `chargedesk run`.
            os.environ.update(
                DATABASE_URL=database_url,
                SLACK_BOT_TOKEN="xoxb-bench",
                SLACK_API_URL=fake.base_url,
                CHARGEDESK_TRIAGE_CHANNEL="C0TRIAGE",
                LOG_LEVEL="WARNING",
            )
            app.inbox.on_put(pool.ring)
            await pool.start()
        runner, port = await start_local_server(web_app(app))
        freeze_startup_heap()  # as `chargedesk run` does before serving
        try:
            yield Served(f"http://127.0.0.1:{port}/slack/events", engine, app.inbox)
        finally:
            await runner.cleanup()
    finally:
        gc.unfreeze()  # the next system starts from an ordinary heap
        if pool is not None:
            await pool.stop()
        os.environ.clear()
        os.environ.update(saved)
        await engine.close()
        await portal.close()


def bare_bolt(fake: FakeSlack) -> AsyncApp:
    """A slack-bolt AsyncApp whose listeners only acknowledge: the floor any bolt app stands on."""
    bolt = AsyncApp(
        client=AsyncWebClient(token="xoxb-bench", base_url=fake.base_url),
        signing_secret=SECRET,
        process_before_response=False,
    )

    @bolt.event("message")
    async def message(ack: AsyncAck) -> None:
        await ack()

    @bolt.action(re.compile(".*"))
    async def action(ack: AsyncAck) -> None:
        await ack()

    return bolt


@asynccontextmanager
async def serve_bare(fake: FakeSlack) -> AsyncIterator[Served]:
    # The same aiohttp application as chargedesk's (`web_app` only uses the bolt app).
    bare = SlackApp(bare_bolt(fake), cast(Any, None), cast(Any, None), signing_secret=SECRET)
    runner, port = await start_local_server(web_app(bare))
    # This process also holds chargedesk's modules, which a bare bolt app's own process would not: frozen, like
    # chargedesk's start-up heap, they cost bare bolt no collection either.
    freeze_startup_heap()
    try:
        yield Served(f"http://127.0.0.1:{port}/slack/events", None)
    finally:
        await runner.cleanup()
        gc.unfreeze()


# ---------------------------------------------------------------------- the load generator (child process)


@dataclass(frozen=True)
class Load:
    url: str
    rate: float  # requests per second
    count: int
    users: tuple[str, ...]
    secret: str = SECRET


@dataclass(frozen=True)
class LoadResult:
    latencies_ms: list[float]  # answered with HTTP 200, from when the request was due
    lags_ms: list[float]  # how late the generator sent each request
    failures: int  # other statuses, timeouts, connection errors
    seconds: float  # from the first request due to the last response


def signed_requests(load: Load) -> list[tuple[bytes, dict[str, str]]]:
    """Bodies and headers, signed now: three message.im events for every block_actions click."""
    sender = SlackSender(load.url, load.secret)
    requests: list[tuple[bytes, dict[str, str]]] = []
    for i in range(load.count):
        user = load.users[i % len(load.users)]
        channel = f"D{user}"
        if i % 4 == 3:
            payload = block_actions(
                user, HOME_TEAM_ID, channel, next_ts(), "chargedesk_press_0", value="/have_question"
            )
            body, content_type = urlencode({"payload": json.dumps(payload)}).encode(), FORM
        else:
            envelope = sender.envelope(message_im(user, "hello", channel, next_ts()))
            body, content_type = json.dumps(envelope).encode(), JSON
        headers = {"Content-Type": content_type, "User-Agent": SLACK_USER_AGENT}
        headers.update(signature_headers(load.secret, body))
        requests.append((body, headers))
    return requests


async def generate(load: Load) -> LoadResult:
    requests = signed_requests(load)
    latencies: list[float] = []
    lags: list[float] = []
    failures = 0
    connector = aiohttp.TCPConnector(limit=MAX_IN_FLIGHT)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.1

        async def send(i: int, body: bytes, headers: dict[str, str]) -> None:
            nonlocal failures
            due = start + i / load.rate
            await asyncio.sleep(max(0.0, due - loop.time()))
            lags.append((loop.time() - due) * 1000)
            try:
                async with session.post(load.url, data=body, headers=headers) as response:
                    await response.read()
                    ok = response.status == 200
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            if ok:
                latencies.append((loop.time() - due) * 1000)
            else:
                failures += 1

        await asyncio.gather(*(send(i, body, headers) for i, (body, headers) in enumerate(requests)))
        seconds = loop.time() - start
    return LoadResult(latencies, lags, failures, seconds)


def run_load(load: Load) -> LoadResult:
    """The child process's entry point."""
    return asyncio.run(generate(load))


# ---------------------------------------------------------------------- measuring


@dataclass(frozen=True)
class Step:
    rate: float
    sent: int
    ok: int
    p50_ms: float
    p99_ms: float
    lag_p99_ms: float
    drain_s: float

    @property
    def sustained(self) -> bool:
        return self.ok == self.sent and self.p99_ms < TARGET_P99_MS


async def drain(served: Served, before: set[asyncio.Task[Any]], limit: float) -> float:
    """Wait until the turns the requests caused have run (inbox empty, listener tasks done); returns the seconds."""
    started = time.perf_counter()
    while limit - (time.perf_counter() - started) > 0:
        pending = asyncio.all_tasks() - before
        if not pending and await served.drained():
            break
        await asyncio.sleep(0.02)
    return time.perf_counter() - started


async def step(pool: ProcessPoolExecutor, served: Served, users: tuple[str, ...], rate: float, seconds: float) -> Step:
    count = max(1, round(rate * seconds))
    before = asyncio.all_tasks()
    loop = asyncio.get_running_loop()
    result = await loop.run_in_executor(pool, run_load, Load(served.url, rate, count, users))
    drained = await drain(served, before, DRAIN_LIMIT_S)
    return Step(
        rate=rate,
        sent=count,
        ok=len(result.latencies_ms),
        p50_ms=percentile(result.latencies_ms, 50),
        p99_ms=percentile(result.latencies_ms, 99),
        lag_p99_ms=percentile(result.lags_ms, 99),
        drain_s=drained,
    )


def verdict(tries: list[Step], needed: int = NEEDED, most: int = TRIES) -> bool | None:
    """Whether a rate is sustained after `tries`: True once `needed` met it, False once that can no longer happen
    within `most` tries, None while another try could decide."""
    met = sum(t.sustained for t in tries)
    if met >= needed:
        return True
    if met + (most - len(tries)) < needed:
        return False
    return None


async def climb(
    measure: Callable[[float], Awaitable[Step]], rates: list[float], needed: int = NEEDED, most: int = TRIES
) -> list[list[Step]]:
    """Each rate's tries (`measure` runs one), rising until a rate is not sustained (see `verdict`)."""
    series: list[list[Step]] = []
    for rate in rates:
        tries: list[Step] = []
        while (sustained := verdict(tries, needed, most)) is None:
            tries.append(await measure(rate))
        series.append(tries)
        if not sustained:
            break
    return series


def key(app: str, rate: float, attempt: int | None = None) -> str:
    """The results' prefix of `app` at `rate` (its verdict), or of one try of it (numbered from 1)."""
    return f"{app}_{rate:g}" if attempt is None else f"{app}_{rate:g}_try{attempt}"


def record(results: dict[str, float], prefix: str, s: Step) -> None:
    results[f"{prefix}_sent"] = s.sent
    results[f"{prefix}_ok"] = s.ok
    results[f"{prefix}_p50_ms"] = s.p50_ms
    results[f"{prefix}_p99_ms"] = s.p99_ms
    results[f"{prefix}_lag_p99_ms"] = s.lag_p99_ms
    results[f"{prefix}_drain_s"] = s.drain_s


async def main_async(
    rates: list[float],
    seconds: float,
    users: int = 200,
    workers: int = 1,
    postgres_url: str | None = None,
    warmup: float | None = None,
) -> dict[str, float]:
    """Every system's warm-up and series; `warmup` seconds at the first rate (default: `seconds`)."""
    people = bench_users(users, "ING")
    ids = tuple(people)
    fake = FakeSlack(users=people)
    await fake.start()
    results: dict[str, float] = {}
    try:
        with (
            ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool,
            tempfile.TemporaryDirectory() as directory,
        ):
            for app in APPS:
                if app == "postgres" and not postgres_url:
                    continue
                async with contextlib.AsyncExitStack() as stack:
                    if app == "postgres":
                        assert postgres_url is not None
                        database_url = await stack.enter_async_context(fresh_postgres_database(postgres_url))
                    else:
                        database_url = f"sqlite+aiosqlite:///{Path(directory) / f'{app}.db'}"
                    count = workers if WORKERS[app] else 0
                    server = serve_bare(fake) if app == "bare" else serve_chargedesk(database_url, fake, count)
                    served = await stack.enter_async_context(server)
                    # Not counted: the first requests pay for bolt's auth.test, the first connections, queries
                    # and turns. Its turns are drained like any try's.
                    record(results, f"{app}_warmup", await step(pool, served, ids, rates[0], warmup or seconds))
                    before = len(fake.calls_to("chat.postMessage"))
                    series = await climb(partial(step, pool, served, ids, seconds=seconds), rates)
                # chargedesk answers every request with a message once its turn ran; bare bolt answers none
                results[f"{app}_replies"] = len(fake.calls_to("chat.postMessage")) - before
                for tries in series:
                    rate = tries[0].rate
                    for attempt, s in enumerate(tries, start=1):
                        record(results, key(app, rate, attempt), s)
                    results[f"{key(app, rate)}_tries"] = len(tries)
                    results[f"{key(app, rate)}_met"] = sum(s.sustained for s in tries)
                    results[f"{key(app, rate)}_sustained"] = float(bool(verdict(tries)))
                results[f"{app}_max_rate"] = max((tries[0].rate for tries in series if verdict(tries)), default=0.0)
                results[f"{app}_requests"] = sum(s.sent for tries in series for s in tries)
    finally:
        await fake.stop()
    bare = results["bare_max_rate"]
    ran = [app for app in APPS if f"{app}_max_rate" in results]
    for app in ran:
        results[f"{app}_ratio"] = results[f"{app}_max_rate"] / bare if bare else 0.0
    results["workers"] = workers
    results["requests"] = sum(results[f"{app}_requests"] for app in ran)
    return results


COLUMNS = {
    "sqlite": "chargedesk, SQLite, turns in the Slack process",
    "postgres": "chargedesk, PostgreSQL, {workers} turn worker(s)",
    "bare": "bare slack-bolt",
}


def report(
    results: dict[str, float], command: str, rates: list[float], seconds: float, warmup: float | None = None
) -> str:
    def verdict_text(ok: bool) -> str:
        return "met" if ok else "**missed**"

    r = results
    apps = [app for app in COLUMNS if f"{app}_max_rate" in r]

    def one_try(app: str, prefix: str) -> str:
        met = r[f"{prefix}_ok"] == r[f"{prefix}_sent"] and r[f"{prefix}_p99_ms"] < TARGET_P99_MS
        p99 = f"{r[f'{prefix}_p99_ms']:.1f}"
        text = f"{r[f'{prefix}_p50_ms']:.1f} / {p99 if met else f'**{p99}**'} ms"
        if r[f"{prefix}_ok"] < r[f"{prefix}_sent"]:
            text += f", **{int(r[f'{prefix}_sent'] - r[f'{prefix}_ok'])} of {int(r[f'{prefix}_sent'])} not acked**"
        if app != "bare":
            text += f" (drained {r[f'{prefix}_drain_s']:.1f} s)"
        return text

    def cell(app: str, rate: float) -> str:
        k = key(app, rate)
        if f"{k}_tries" not in r:
            return "not run (a lower rate was not sustained)"
        tries = int(r[f"{k}_tries"])
        shown = "; ".join(one_try(app, key(app, rate, attempt)) for attempt in range(1, tries + 1))
        outcome = "sustained" if r[f"{k}_sustained"] else "**not sustained**"
        return f"{shown} → {outcome} ({int(r[f'{k}_met'])} of {tries} met)"

    def ratio(app: str) -> str:
        value = r[f"{app}_ratio"]
        return "1" if app == "bare" else f"{value:.2f}, {verdict_text(value >= TARGET_RATIO)}"

    warm = warmup or seconds
    rows = [[f"warm-up, {warm:g} s at {rates[0]:g} req/s (not counted)", *(one_try(a, f"{a}_warmup") for a in apps)]]
    rows += [
        [f"ack latency p50 / p99, each try, at {rate:g} req/s", *(cell(app, rate) for app in apps)] for rate in rates
    ]
    rows.append(
        [
            f"highest rate sustained with p99 < {TARGET_P99_MS:.0f} ms ({NEEDED} of {TRIES} tries)",
            *(f"{r[f'{app}_max_rate']:g} req/s" for app in apps),
        ]
    )
    rows.append([f"ratio to bare bolt (target ≥ {TARGET_RATIO})", *(ratio(app) for app in apps)])
    lags = [r[k] for k in r if k.endswith("_lag_p99_ms")]
    header = ["measure", *(COLUMNS[app].format(workers=int(r["workers"])) for app in apps)]
    warmed = sum(int(r[f"{app}_warmup_sent"]) for app in apps)
    lines = [
        "## Slack ingress (acknowledgement latency)",
        "",
        f"Command: `{command}` — {int(r['requests'])} signed requests counted (and {warmed} to warm up) on "
        f"loopback, {seconds:g} s per try, 3 message.im events per block_actions click; machine: {machine()}.",
        "",
        *markdown_table(header, rows),
        "",
        "The same rule for every system, bare bolt included: first a warm-up with the same request mix, not "
        "counted (first connections, bolt's auth.test, Python's caches, PostgreSQL's first plans, the inbox's "
        "first turns); then each rate is tried until decided: a try meets the target when every request was "
        f"acknowledged with p99 < {TARGET_P99_MS:.0f} ms, and the rate is sustained when {NEEDED} of at most "
        f"{TRIES} tries meet it (a third runs only after one met and one missed), i.e. the median try decides. "
        "Rates stop rising after the first one not sustained. Every try is shown, a missed p99 in bold. "
        "Latency runs from when the open-loop generator (a separate process) was due to send a request to its HTTP "
        "response. chargedesk acknowledges after verifying the signature and storing the delivery's receipt and "
        "its turn in the inbox (one transaction); the turn runs after the response, in `chargedesk work` "
        "processes (CHARGEDESK_TURN_WORKERS) or in the Slack process itself, where it competes with later "
        "acknowledgements. Each try's turns are drained before the next try starts (the time it took is shown). "
        "Every app runs with its start-up heap frozen (`gc.freeze()`), as `chargedesk run` does, so that full "
        "collections skip the ~220,000 objects start-up built (bare bolt too: this process holds chargedesk's "
        "modules, which a bare bolt app's own would not). The fake Slack Web API "
        "answering the replies runs in the benchmark's (and the Slack app's) process, so it takes CPU from the "
        "acknowledgements that Slack's servers would not. The generator's own lag (p99 over all tries: "
        f"{max(lags, default=0.0):.1f} ms) is included in the figures. Turn workers on SQLite are not measured "
        "here: two processes writing one SQLite file wait for its lock in SQLite's busy handler, which sleeps with "
        "growing back-off (in a trial run the acknowledgements' p99 at 50 req/s was 108 ms); with SQLite, run "
        "turns in the Slack process.",
        "",
    ]
    return "\n".join(lines)


def parse_rates(text: str) -> list[float]:
    return [float(part) for part in text.split(",") if part.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rates", type=parse_rates, default=[50.0, 100.0, 200.0, 400.0, 800.0])
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds of load per try of a rate")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up at the first rate (default: --seconds)")
    parser.add_argument("--users", type=int, default=200, help="distinct Slack users sending")
    parser.add_argument("--workers", type=int, default=1, help="turn worker processes for chargedesk")
    parser.add_argument("--postgres-url", help="a PostgreSQL server (any database on it) to also run on")
    parser.add_argument("--write", type=Path, help="update this Markdown file's section")
    args = parser.parse_args()
    results = asyncio.run(
        main_async(args.rates, args.seconds, args.users, args.workers, args.postgres_url, args.warmup)
    )
    command = command_line("bench.ingress_bench", sys.argv[1:], args.postgres_url)
    section = report(results, command, args.rates, args.seconds, args.warmup)
    publish(section, args.write)


if __name__ == "__main__":
    main()
