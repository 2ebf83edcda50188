"""Helpers for the process-level reliability proofs: a scratch PostgreSQL database per test, `chargedesk run`
processes started as an operator starts them, and a fake Slack that can be made slow.

Everything runs on loopback. Every wait here is bounded in time; nothing loops forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import IO, Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from tests.actions.test_action_server import free_port
from tests.conftest import POSTGRES_ENV, postgres_url
from tests.support.fake_slack import Call, FakeSlack
from tests.support.harness import SECRET
from tests.support.signing import SlackSender

ROOT = Path(__file__).resolve().parents[2]
AGENT = "U0AGENT"
TRIAGE = "C0TRIAGE"
# Settings a developer's shell or .env might carry that would take `chargedesk run` elsewhere.
FOREIGN_SETTINGS = ("SLACK_APP_TOKEN", "RASA_URL", "ACTION_ENDPOINT_URL", "CHARGEDESK_AGENT_USERGROUP")


def figure(line: str) -> None:
    """One figure for RELIABILITY.md, easy to find in `pytest -s` output."""
    print(f"\n[reliability] {line}", flush=True)


def require_postgres() -> str:
    url = postgres_url()
    if url is None:
        pytest.skip(
            f"process reliability tests run two processes on one PostgreSQL database: set {POSTGRES_ENV} "
            "(e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)"
        )
    return url


async def wait_until(
    condition: Callable[[], Awaitable[bool]],
    timeout: float,  # noqa: ASYNC109 - a deadline for a poll, not for one I/O call
    what: str,
    interval: float = 0.05,
) -> None:
    """Poll `condition` until it holds; AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if await condition():
            return
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        await asyncio.sleep(interval)


# ---------------------------------------------------------------------------------------------- the database


class ScratchDatabase:
    """A PostgreSQL database of this test's own, `chargedesk_rel_<random>`, migrated and seeded by the CLI."""

    def __init__(self, base_url: str, workdir: Path) -> None:
        self.name = f"chargedesk_rel_{uuid.uuid4().hex[:10]}"
        parsed = make_url(base_url)
        self.url = parsed.set(database=self.name).render_as_string(hide_password=False)
        self.admin_url = parsed.set(database="postgres").render_as_string(hide_password=False)
        self.workdir = workdir
        # NullPool: the test's own queries hold no connection between statements (the outage test cuts them).
        self.engine: AsyncEngine = create_async_engine(self.url, poolclass=NullPool, hide_parameters=True)

    async def admin(self, *statements: str) -> None:
        """As the superuser, on the `postgres` database, outside any transaction (CREATE/DROP DATABASE need that)."""
        engine = create_async_engine(
            self.admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT", hide_parameters=True
        )
        try:
            async with engine.connect() as conn:
                for statement in statements:
                    await conn.execute(text(statement))
        finally:
            await engine.dispose()

    async def create(self) -> None:
        await self.admin(f'CREATE DATABASE "{self.name}"')
        await run_cli(self.cli_env(), self.workdir, "db", "upgrade")
        await run_cli(self.cli_env(), self.workdir, "seed", "--demo")

    def cli_env(self) -> dict[str, str]:
        return {**os.environ, "DATABASE_URL": self.url, "LOG_LEVEL": "WARNING"}

    async def terminate_sessions(self) -> None:
        await self.admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{self.name}' AND pid <> pg_backend_pid()"
        )

    async def block_connections(self) -> None:
        """The database goes away for this database's clients: no new connections, existing ones cut."""
        await self.admin(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false')
        await self.terminate_sessions()

    async def allow_connections(self) -> None:
        await self.admin(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')

    async def drop(self) -> None:
        await self.engine.dispose()
        with contextlib.suppress(Exception):
            await self.allow_connections()
        await self.terminate_sessions()
        await self.admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.engine.connect() as conn:
            return await conn.scalar(text(sql), params)

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        async with self.engine.connect() as conn:
            return list(await conn.execute(text(sql), params))

    async def outbox_unsent(self) -> int:
        return int(await self.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))

    async def deliveries_pending(self) -> int:
        return int(
            await self.scalar("SELECT count(*) FROM slack_deliveries WHERE sent_at IS NULL AND failed_at IS NULL")
        )


async def run_cli(env: Mapping[str, str], workdir: Path, *args: str, timeout: float = 60.0) -> str:  # noqa: ASYNC109
    """`python -m bot.cli ARGS` to completion; its output, or AssertionError with it when it fails."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        cwd=workdir,
        env=dict(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout=timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"chargedesk {' '.join(args)} did not finish within {timeout:.0f} s") from None
    text_out = output.decode(errors="replace")
    assert process.returncode == 0, f"chargedesk {' '.join(args)} exited {process.returncode}:\n{text_out}"
    return text_out


# ---------------------------------------------------------------------------------------------- the fake Slack


class SlowSlack(FakeSlack):
    """The fake Slack, with a delay before answering some methods (Slack having a slow moment)."""

    def __init__(self, users: dict[str, dict[str, Any]], delays: dict[str, float] | None = None) -> None:
        super().__init__(users=users)
        self.delays: dict[str, float] = dict(delays or {})

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        delay = self.delays.get(request.match_info["method"], 0.0)
        if delay:
            await asyncio.sleep(delay)
        return await super()._handle_api(request)

    def posts_to(self, channel: str) -> list[Call]:
        return [c for c in self.calls_to("chat.postMessage") if c.ok and c.args.get("channel") == channel]


# ---------------------------------------------------------------------------------------------- `chargedesk run`


class ChargedeskProcess:
    """`python -m bot.cli run` in HTTP mode on its own port, its output in a log file."""

    def __init__(self, name: str, database_url: str, slack_api_url: str, workdir: Path, **settings: str) -> None:
        self.name = name
        self.port = free_port()
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        env = {key: value for key, value in os.environ.items() if key not in FOREIGN_SETTINGS}
        env.update(
            {
                "DATABASE_URL": database_url,
                "SLACK_BOT_TOKEN": "xoxb-test",
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": slack_api_url,
                "PORT": str(self.port),
                "LOG_LEVEL": "WARNING",
                "CHARGEDESK_TRIAGE_CHANNEL": TRIAGE,
                "CHARGEDESK_AGENT_USERS": AGENT,
            }
        )
        env.update(settings)
        self.env = env
        self.process: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None
        self.sender = SlackSender(f"http://127.0.0.1:{self.port}/slack/events", SECRET)

    @property
    def healthz(self) -> str:
        return f"http://127.0.0.1:{self.port}/healthz"

    # Generous: these tests prove what processes do, not how fast they start (a benchmark's matter); on a loaded
    # 2-core machine two processes training their classifiers at once took over 30 s.
    async def start(self, timeout: float = 90.0) -> None:  # noqa: ASYNC109
        self._log = self.log_path.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            cwd=self.workdir,
            env=self.env,
            stdout=self._log,
            stderr=self._log,
        )
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            while True:
                if self.process.returncode is not None:
                    raise AssertionError(f"{self.name} exited {self.process.returncode} at start:\n{self.log()}")
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(self.healthz) as response:
                        if response.status == 200 and await response.json() == {"ok": True}:
                            return
                if time.monotonic() >= deadline:
                    raise AssertionError(f"{self.name} did not answer /healthz within {timeout:.0f} s:\n{self.log()}")
                await asyncio.sleep(0.05)

    async def healthy(self) -> bool:
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as session,
                session.get(self.healthz) as response,
            ):
                return response.status == 200 and await response.json() == {"ok": True}
        except (aiohttp.ClientError, TimeoutError):
            return False

    def signal(self, sig: signal.Signals) -> None:
        assert self.process is not None and self.process.returncode is None, f"{self.name} is not running"
        self.process.send_signal(sig)

    async def wait(self, timeout: float) -> int:  # noqa: ASYNC109
        assert self.process is not None
        try:
            return await asyncio.wait_for(self.process.wait(), timeout=timeout)
        except TimeoutError:
            raise AssertionError(f"{self.name} still runs {timeout:.0f} s later:\n{self.log()}") from None

    async def kill(self) -> None:
        """SIGKILL: no cleanup of any kind, as when the machine or the OOM killer ends it."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        self._close_log()

    async def stop(self) -> None:
        """Whatever state it is in: SIGTERM, then SIGKILL after a few seconds (teardown only)."""
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), timeout=10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except FileNotFoundError:
            return ""


class Rig:
    """One test's world: its database, the fake Slack, and the processes it started (stopped at the end)."""

    def __init__(self, db: ScratchDatabase, slack: SlowSlack, workdir: Path) -> None:
        self.db = db
        self.slack = slack
        self.workdir = workdir
        self.processes: list[ChargedeskProcess] = []

    async def start_process(self, **settings: str) -> ChargedeskProcess:
        process = ChargedeskProcess(
            f"run{len(self.processes) + 1}", self.db.url, self.slack.base_url, self.workdir, **settings
        )
        self.processes.append(process)
        await process.start()
        return process

    async def import_accounts(self, rows: list[tuple[str, str, str]]) -> None:
        """`chargedesk import accounts` from a CSV of (email, registered_at, organization)."""
        path = self.workdir / "accounts.csv"
        path.write_text("email,registered_at,organization\n" + "".join(f"{e},{r},{o}\n" for e, r, o in rows))
        await run_cli(self.db.cli_env(), self.workdir, "import", "accounts", str(path))


@contextlib.asynccontextmanager
async def rig(
    workdir: Path, users: dict[str, dict[str, Any]], delays: dict[str, float] | None = None
) -> AsyncIterator[Rig]:
    base_url = require_postgres()
    db = ScratchDatabase(base_url, workdir)
    slack = SlowSlack(users, delays)
    await slack.start()
    world = Rig(db, slack, workdir)
    try:
        await db.create()
        yield world
    finally:
        for process in world.processes:
            await process.stop()
        await slack.stop()
        await db.drop()
