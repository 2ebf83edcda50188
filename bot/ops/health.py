"""`/healthz`, `/readyz` and `/metrics`: on the Slack app's own server in HTTP mode, on a small one in Socket Mode.

* `/healthz`: the process is alive and its event loop answers (200, always).
* `/readyz`: the database answers and its schema is at the newest migration (200); otherwise 503 with the reason
  in JSON. A load balancer or Kubernetes sends Slack's requests only to a ready process, and holds a new version
  back until `chargedesk db upgrade` ran.
* `/metrics`: Prometheus' text format (see `metrics`).
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ops.metrics import CONTENT_TYPE, Metrics
from portal.migrations import current_revisions, head_revisions

logger = logging.getLogger(__name__)
READY_TIMEOUT_SECONDS = 3.0  # a probe must answer in time even when the database hangs rather than refuses


async def not_ready(database: AsyncEngine) -> str | None:
    """Why the process cannot serve yet (None: it can): the database is unreachable, or its schema is behind."""
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS), database.connect() as connection:
            current = await connection.run_sync(current_revisions)
    except Exception as error:  # whatever the driver raises, the answer is the same: not ready
        return f"database unreachable ({type(error).__name__})"
    if current != head_revisions():  # both read without Alembic: a probe stays cheap
        return "database schema is not at the newest migration; run `chargedesk db upgrade`"
    return None


def ops_routes(database: AsyncEngine, metrics: Metrics) -> list[web.RouteDef]:
    async def alive(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    last: list[str | None] = ["(not asked yet)"]  # probes come every few seconds: log changes only

    async def ready(_: web.Request) -> web.Response:
        reason = await not_ready(database)
        if reason != last[0]:
            logger.log(
                logging.INFO if reason is None else logging.WARNING,
                "ready" if reason is None else f"not ready: {reason}",
            )
            last[0] = reason
        if reason is not None:
            return web.json_response({"ok": False, "reason": reason}, status=503)
        return web.json_response({"ok": True})

    async def scrape(_: web.Request) -> web.Response:
        return web.Response(body=await metrics.scrape(), headers={"Content-Type": CONTENT_TYPE})

    return [web.get("/healthz", alive), web.get("/readyz", ready), web.get("/metrics", scrape)]


async def start_ops_server(database: AsyncEngine, metrics: Metrics, host: str, port: int) -> web.AppRunner:
    """The probes and metrics on their own (Socket Mode has no HTTP server of its own); `cleanup()` stops it."""
    server = web.Application()
    server.add_routes(ops_routes(database, metrics))
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
