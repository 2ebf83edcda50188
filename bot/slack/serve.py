"""`chargedesk run`: the Slack app, over Socket Mode when SLACK_APP_TOKEN is set, else HTTP on PORT.

`/healthz`, `/readyz` and `/metrics` answer on PORT either way: beside `/slack/events` over HTTP, on a small server
of their own beside the socket client in Socket Mode.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import AsyncExitStack
from typing import Any

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.config import Settings
from bot.ops.health import start_ops_server
from bot.ops.metrics import Metrics
from bot.slack.app import build_app, build_engine, freeze_startup_heap, turns_running, web_app
from bot.slack.background import start_background
from bot.slack.ingress.workers import WorkerPool
from bot.slack.messages.home import home_view
from portal.bootstrap import Portal

logger = logging.getLogger(__name__)
SHUTDOWN_GRACE_SECONDS = 20.0


async def serve(settings: Settings, portal: Portal, host: str = "0.0.0.0") -> None:
    """Run until SIGTERM or SIGINT."""
    metrics = Metrics()  # this process's: the engine's turns, the sender's 429s and failures
    engine = build_engine(settings, portal, metrics)
    workers = WorkerPool(settings.turn_workers) if settings.turn_workers > 0 else None
    if workers is not None and portal.engine.dialect.name == "sqlite":
        # Processes writing one SQLite file wait for its lock with growing back-off: acknowledgements get slower.
        logger.warning("turn workers on SQLite slow Slack's acknowledgements; use PostgreSQL for them")
    app = build_app(settings, engine, portal, turns_in_process=workers is None)
    if workers is not None and app.inbox is not None:
        app.inbox.on_put(workers.ring)
        await workers.start()
    stop = asyncio.Event()

    async def home_of(user_id: str, team_id: str) -> dict[str, Any]:
        return await home_view(app.conversations, app.agents, user_id, team_id)

    background = start_background(
        settings,
        portal,
        app.bolt.client,
        app.conversations.people,
        home_of,
        stop,
        metrics=metrics,
        is_support=app.agents.is_agent,
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    freeze_startup_heap()  # full collections no longer stop acknowledgements for a fifth of a second
    try:
        if settings.slack_app_token:
            handler = AsyncSocketModeHandler(app.bolt, settings.slack_app_token.get_secret_value())
            async with AsyncExitStack() as stack:
                if app.consumer is not None:
                    await stack.enter_async_context(turns_running(app.consumer))
                ops = await start_ops_server(portal.engine, metrics, host, settings.port)
                stack.push_async_callback(ops.cleanup)
                await handler.connect_async()  # type: ignore[no-untyped-call]
                logger.info(
                    "chargedesk is connected to Slack (Socket Mode); /healthz, /readyz, /metrics on %s:%d",
                    host,
                    settings.port,
                )
                await stop.wait()
                await handler.close_async()  # type: ignore[no-untyped-call]
        else:
            runner = web.AppRunner(web_app(app), access_log=None)  # probes come every few seconds
            await runner.setup()
            await web.TCPSite(runner, host, settings.port).start()
            logger.info("chargedesk listens on %s:%d (/slack/events, /healthz, /readyz, /metrics)", host, settings.port)
            await stop.wait()
            await runner.cleanup()  # no new requests; those being answered are finished
    finally:
        # Listeners run after their acknowledgement, as tasks of their own: let the turns in flight finish.
        in_flight = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and t not in background]
        if in_flight:
            await asyncio.wait(in_flight, timeout=SHUTDOWN_GRACE_SECONDS)
        if workers is not None:
            await workers.stop()  # they finish the turns they hold and what is queued
        stop.set()
        await asyncio.gather(*background, return_exceptions=True)
        await engine.close()
