"""`/healthz` and `/readyz` over loopback, on the small server Socket Mode runs (HTTP mode: tests/slack).

Ready means the database answers and its schema is at the newest migration: false while the database is down or
behind, true again once it is back or upgraded.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import aiohttp

from bot.ops.health import start_ops_server
from bot.ops.metrics import Metrics
from portal.adapters.database import create_engine
from portal.bootstrap import Portal
from portal.migrations import upgrade_engine
from tests.actions.test_action_server import free_port
from tests.conftest import Database
from tests.support.outage import records_unreachable


async def get(url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


@asynccontextmanager
async def probes(portal: Portal) -> AsyncIterator[str]:
    """The probes' server (Socket Mode's) for `portal`'s database; yields its base URL."""
    port = free_port()
    runner = await start_ops_server(portal.engine, Metrics(), "127.0.0.1", port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_alive_and_ready(empty_portal: Portal) -> None:
    async with probes(empty_portal) as base:
        assert await get(f"{base}/healthz") == (200, {"ok": True})
        assert await get(f"{base}/readyz") == (200, {"ok": True})


async def test_not_ready_while_the_database_is_down_and_ready_once_it_is_back(empty_portal: Portal) -> None:
    async with probes(empty_portal) as base:
        assert (await get(f"{base}/readyz"))[0] == 200
        async with records_unreachable(empty_portal):
            status, body = await get(f"{base}/readyz")
            assert status == 503 and body["ok"] is False and body["reason"]
            assert await get(f"{base}/healthz") == (200, {"ok": True})  # alive all the same
        assert await get(f"{base}/readyz") == (200, {"ok": True})


class Forwarder:
    """A TCP port on loopback that forwards to PostgreSQL once opened: a database server stopped, then started."""

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        self.port, self.target = port, target
        self.server: asyncio.Server | None = None

    async def open(self) -> None:
        self.server = await asyncio.start_server(self._pipe_both, "127.0.0.1", self.port)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _pipe_both(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


async def test_not_ready_while_nothing_answers_at_the_database_address(database: Database, tmp_path: Path) -> None:
    """SQLite: a file in a folder that is not there yet; PostgreSQL: a port nobody listens on yet."""
    forwarder: Forwarder | None = None
    if database.name == "sqlite":
        path = tmp_path / "not-yet" / "chargedesk.db"
        url = f"sqlite+aiosqlite:///{path}"
    else:
        real = create_engine(database.url).url
        forwarder = Forwarder(free_port(), (real.host or "127.0.0.1", real.port or 5432))
        url = real.set(port=forwarder.port).render_as_string(hide_password=False)
    portal = Portal(create_engine(url, **database.engine_options))
    try:
        async with probes(portal) as base:
            status, body = await get(f"{base}/readyz")
            assert status == 503
            assert body["reason"].startswith("database unreachable")
            if forwarder is None:
                path.parent.mkdir()
                shutil.copy(Path(str(create_engine(database.url).url.database)), path)
            else:
                await forwarder.open()
            assert await get(f"{base}/readyz") == (200, {"ok": True})
    finally:
        await portal.close()
        if forwarder is not None:
            await forwarder.close()


async def test_not_ready_while_migrations_are_behind_and_ready_after_the_upgrade(tmp_path: Path) -> None:
    portal = Portal(create_engine(f"sqlite+aiosqlite:///{tmp_path / 'older.db'}"))
    try:
        await upgrade_engine(portal.engine, "0010")  # one migration short of the code's
        async with probes(portal) as base:
            status, body = await get(f"{base}/readyz")
            assert status == 503
            assert "newest migration" in body["reason"] and "chargedesk db upgrade" in body["reason"]
            await upgrade_engine(portal.engine)
            assert await get(f"{base}/readyz") == (200, {"ok": True})
    finally:
        await portal.close()
