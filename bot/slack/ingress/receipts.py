"""Slack redelivers events it thinks were missed (X-Slack-Retry-Num) and clients can send an interaction twice:
each is handled once, whichever process gets it, by recording its key in the database first.

A request that is a conversation turn goes into the inbox in the same transaction as its receipt, before Slack is
answered: the acknowledgement never waits for a turn, and an acknowledged turn survives a crash.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.slack.ingress.inbox import Inbox
from bot.slack.ingress.intake import QueuedTurn, turn_of
from bot.slack.tables import slack_receipts

logger = logging.getLogger(__name__)
KEEP = timedelta(hours=2)  # Slack retries within minutes; after this a key may be forgotten
QUEUED = "chargedesk_turn_queued"  # set in the request's context when its turn is in the inbox


def receipt_key(body: dict[str, Any]) -> str | None:
    """What identifies one delivery of a request: the event id, or the interaction's trigger (unique per click)."""
    if body.get("type") == "event_callback" and body.get("event_id"):
        return f"event:{body['event_id']}"
    trigger = body.get("trigger_id")
    if trigger and body.get("type") in ("block_actions", "view_submission", "shortcut", "message_action"):
        return f"{body['type']}:{trigger}"
    if body.get("command") and trigger:
        return f"command:{trigger}"
    return None  # options requests and url_verification only read: answering twice is harmless


def worth_a_receipt(body: dict[str, Any]) -> bool:
    """Whether handling `body` twice could matter. A `message` event that is no turn and no addition (most of the
    messages of the channels the assistant is in: top-level chatter, bots, edits) is ignored however often it
    comes, so it costs no write at all."""
    event = body.get("event") if body.get("type") == "event_callback" else None
    if isinstance(event, dict) and event.get("type") == "message":
        return turn_of(body) is not None
    return True


@dataclass
class _Pending:
    key: str
    turn: QueuedTurn | None
    answer: asyncio.Future[tuple[bool, bool]]


class Receipts:
    """Records receipts (and queues turns) for many requests at once: group commit.

    A writer first waits for a database connection and only then takes every request that arrived meanwhile, so
    that none of them waits for a second turn in the pool's queue. While it writes, the next request starts the
    next writer, which takes its place in that queue at once (on SQLite, one connection shared with the turns this
    process runs: behind the transactions queued before it, ahead of those queued after). So at most `WRITERS`
    transactions are under way at once; at rest each request gets its own transaction at once, and under load the
    number of transactions stays near the database's own pace instead of one per request.
    """

    WRITERS = 2  # one writing, the next waiting for its connection (or, on PostgreSQL, writing beside it)

    def __init__(
        self,
        engine: AsyncEngine,
        inbox: Inbox | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.inbox = inbox
        self.now = now
        self._writes = 0
        self._pending: list[_Pending] = []
        self._waiting = False  # a writer is waiting for a connection: new requests join its batch
        self._writers: set[asyncio.Task[None]] = set()

    async def first_time(self, key: str, body: dict[str, Any] | None = None) -> tuple[bool, bool]:
        """Record `key`: (first time, turn queued). Not the first time when it was already recorded (by this or any
        other process); when it is and `body` asks for a conversation turn, the turn is put in the inbox."""
        turn = turn_of(body) if body is not None and self.inbox is not None else None
        pending = _Pending(key, turn, asyncio.get_running_loop().create_future())
        self._pending.append(pending)
        self._start_writer()
        return await pending.answer

    def _start_writer(self) -> None:
        if self._pending and not self._waiting and len(self._writers) < self.WRITERS:
            self._waiting = True
            writer = asyncio.create_task(self._write_batch(), name="receipts")
            self._writers.add(writer)
            writer.add_done_callback(self._finished)

    def _finished(self, writer: asyncio.Task[None]) -> None:
        self._writers.discard(writer)
        self._start_writer()  # requests that arrived while `WRITERS` were busy

    async def _write_batch(self) -> None:
        batch: list[_Pending] = []
        taken = False
        try:
            async with self.engine.begin() as conn:
                # The connection is ours: everything that arrived while waiting for it goes in this transaction.
                batch, self._pending, self._waiting, taken = self._pending, [], False, True
                answers = await self._write(conn, batch)
        except Exception as error:  # the database is down: every request of the batch learns it
            if not taken:  # this was the waiting writer: the requests that joined it wait no longer
                batch, self._pending, self._waiting = self._pending, [], False
            for pending in batch:
                if not pending.answer.done():
                    pending.answer.set_exception(error)
            return
        # Answered once committed: an acknowledged turn is in the inbox for good.
        for pending, answer in zip(batch, answers, strict=True):
            if not pending.answer.done():
                pending.answer.set_result(answer)
        if self.inbox is not None and any(queued for _, queued in answers):
            self.inbox.ring()

    async def _write(self, conn: AsyncConnection, batch: list[_Pending]) -> list[tuple[bool, bool]]:
        now = self.now()
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        # A retry may arrive while its original is pending, even in the other writer's batch: keys in one order,
        # so that two PostgreSQL transactions inserting the same two keys wait for each other, never deadlock.
        keys = sorted({p.key for p in batch})
        statement = (
            insert(slack_receipts)
            .values([{"key": key, "received_at": now} for key in keys])
            .on_conflict_do_nothing()
            .returning(slack_receipts.c.key)
        )
        new = set((await conn.execute(statement)).scalars())
        answers: list[tuple[bool, bool]] = []
        turns: list[tuple[str, QueuedTurn]] = []
        for pending in batch:
            first = pending.key in new
            new.discard(pending.key)  # the same key again in this batch is a redelivery
            if first and pending.turn is not None:
                turns.append((pending.key, pending.turn))
            answers.append((first, first and pending.turn is not None))
        if turns and self.inbox is not None:
            await self.inbox.put_many(conn, turns)
        self._writes += len(batch)
        if self._writes >= 500:  # now and then, forget keys Slack can no longer retry
            self._writes = 0
            await conn.execute(delete(slack_receipts).where(slack_receipts.c.received_at < now - KEEP))
        return answers


def deduplicate(receipts: Receipts) -> Callable[..., Awaitable[BoltResponse | None]]:
    """A bolt middleware: a redelivered request is acknowledged and goes no further."""

    async def middleware(
        req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        key = receipt_key(req.body) if worth_a_receipt(req.body) else None
        first, queued = True, False
        try:
            if key is not None:
                first, queued = await receipts.first_time(key, req.body)
        except (SQLAlchemyError, OSError) as error:
            # The database is down: handle the request anyway, so the user hears "try again" from the listener
            # rather than nothing at all (a redelivery during the outage may then be answered twice).
            logger.error("recording a receipt failed: %s", type(error).__name__)
        if not first:
            logger.info("redelivery of %s ignored", (key or "").split(":", 1)[0])
            return BoltResponse(status=200, body="")
        # The listener still runs (bolt answers a request no listener matched with 404, and Slack would retry it);
        # it runs the turn itself only when the turn is not in the inbox.
        req.context[QUEUED] = queued
        await next()
        return None

    return middleware
