"""`chargedesk work`: one turn worker (see bot/slack/ingress/workers.py), until SIGTERM or until its doorbell closes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal

from bot.config import Settings
from bot.slack.app import build_engine, build_services
from bot.slack.ingress.consumer import Consumer
from bot.slack.ingress.workers import report_ready
from portal.bootstrap import Portal

logger = logging.getLogger(__name__)
# Slack's acknowledgements have a 3-second deadline and turns do not: when both want the CPU, acks go first.
WORKER_NICENESS = 5


async def work(settings: Settings, portal: Portal, doorbell_fd: int | None, ready_fd: int | None = None) -> None:
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    engine = build_engine(settings, portal)
    services = build_services(settings, engine, portal)
    consumer = Consumer(services.inbox, services.turns)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)  # the parent is shutting down in order: finish what is queued

    def doorbell() -> None:
        assert doorbell_fd is not None
        try:
            rung = os.read(doorbell_fd, 4096)
        except BlockingIOError:
            return
        if rung:
            consumer.wake()
            return
        # The pipe closed: the parent died. Finish the turns running, and leave the queue to its replacement.
        loop.remove_reader(doorbell_fd)
        consumer.drain = False
        stop.set()

    if doorbell_fd is not None:
        os.set_blocking(doorbell_fd, False)
        loop.add_reader(doorbell_fd, doorbell)
    report_ready(ready_fd)
    try:
        await consumer.run(stop)
    finally:
        await engine.close()
