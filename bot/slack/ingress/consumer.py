"""Takes turns from the inbox and runs them, a bounded number at once, until told to stop.

It wakes when a turn is put (a bell rung by this process's ack path, or by the process that started this worker)
and otherwise looks every `sweep` seconds, which also picks up turns whose claimant died.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

from sqlalchemy.exc import SQLAlchemyError

from bot.slack.ingress.inbox import Claimed, Inbox
from bot.slack.ingress.turns import TurnRunner

logger = logging.getLogger(__name__)
CONCURRENCY = 16  # turns run at once by one consumer
SQLITE_CONCURRENCY = 3


class Consumer:
    def __init__(self, inbox: Inbox, runner: TurnRunner, *, concurrency: int | None = None, sweep: float = 0.5) -> None:
        self.inbox = inbox
        self.runner = runner
        # SQLite serves a process through one connection: more turns at once only lengthen the queue for it, in
        # which the acknowledgements' receipts wait too. PostgreSQL runs them side by side.
        sqlite = inbox.engine.dialect.name == "sqlite"
        self.concurrency = concurrency or (SQLITE_CONCURRENCY if sqlite else CONCURRENCY)
        self.sweep = sweep
        self.owner = f"consumer-{uuid.uuid4().hex[:12]}"
        self.drain = True  # when stopped, also run what is still queued (False: leave it to other processes)
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event, *, grace: float = 20.0) -> None:
        """Run turns until `stop`; then, within `grace` seconds, finish those running and (if `drain`) those queued.

        What is left after the grace period stays in the inbox: its claims run out and another process runs it.
        """
        heartbeat = asyncio.create_task(self._heartbeat(), name="inbox-heartbeat")
        stopping = asyncio.create_task(self._wake_on(stop), name="inbox-stop")
        try:
            while not stop.is_set():
                self._wake.clear()
                await self._fill()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.sweep):
                        await self._wake.wait()
            await self._finish(grace)
        finally:
            for task in (heartbeat, stopping, *self._running):
                task.cancel()
            await asyncio.gather(heartbeat, stopping, *self._running, return_exceptions=True)

    async def _finish(self, grace: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while loop.time() < deadline:
            claimed = await self._fill() if self.drain else 0
            if not claimed and not self._running:
                return
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(self.sweep, max(0.0, deadline - loop.time()))):
                    await self._wake.wait()
        if self._running:
            logger.warning("stopped with %d turn(s) running; another process will run them", len(self._running))

    async def _fill(self) -> int:
        room = self.concurrency - len(self._running)
        if room <= 0:
            return 0
        try:
            claimed = await self.inbox.claim(self.owner, room)
        except (SQLAlchemyError, OSError) as error:
            # The database is restarting: the turns wait in it, and the next sweep tries again.
            logger.error("taking turns from the inbox failed: %s", type(error).__name__)
            return 0
        for entry in claimed:
            task = asyncio.create_task(self._handle(entry), name="turn")
            self._running.add(task)
            task.add_done_callback(self._done)
        return len(claimed)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._wake.set()  # room for another turn, and the conversation's next turn may now be taken

    async def _handle(self, entry: Claimed) -> None:
        try:
            if entry.attempts > 1 and await self.runner.already_ran(entry.turn, entry.delivery):
                logger.info("turn of %s already ran before its claimant stopped", entry.delivery.split(":", 1)[0])
            else:
                await self.runner.run(entry.turn, delivery=entry.delivery, received_at=entry.received_at)
        except Exception as error:  # e.g. Slack refused the reply: the turn itself is stored, so it is done
            logger.error("turn failed: %s", type(error).__name__)
            logger.debug("turn failed", exc_info=error)
        try:
            await self.inbox.finish(entry.id, self.owner)
        except (SQLAlchemyError, OSError) as error:
            # The claim runs out and the turn is offered again; its delivery mark keeps it from running twice.
            logger.error("finishing a turn failed: %s", type(error).__name__)

    async def _heartbeat(self) -> None:
        interval = self.inbox.claim_ttl.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            if not self._running:
                continue
            try:
                await self.inbox.renew(self.owner)
            except (SQLAlchemyError, OSError) as error:
                logger.error("renewing inbox claims failed: %s", type(error).__name__)

    async def _wake_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._wake.set()
