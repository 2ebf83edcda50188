"""The Slack delivery queue and its sender: notifications reach Slack once, in order, at Slack's pace.

A notifier turns domain events into `Delivery` values and `enqueue`s them in its own transaction, so a change that
rolls back notifies nobody and one that commits is never forgotten. `SlackSender` then works the queue:

* **Lanes.** Every delivery belongs to a lane, its `channel`: a channel id, a user id for a DM, or
  ``home:<user id>`` for the App Home refreshes the notifier queues after events. Slack allows about one message
  per second per channel, so each lane has a `next_send_at` (table `slack_channels`) and a sender makes at most one
  call per lane per round.
* **Replies that could not wait.** A conversation reply (``chat.postMessage`` or ``chat.postEphemeral``) that
  Slack kept refusing beyond the ten seconds a turn may wait (`retries.py`) is queued here by `queue_reply`, in its
  channel's lane, held until Slack's Retry-After; the channel's next replies follow it here while it waits.
* **Order.** A lane sends its oldest pending delivery (by id) and nothing else: a later delivery never overtakes an
  earlier one that is waiting for a retry, so a `chat.update` put in the same lane as its post always finds the
  post's ts.
* **Leases, not locks, across the Slack call.** A round claims ready lanes in one short transaction (on
  PostgreSQL with ``SELECT … FOR UPDATE SKIP LOCKED``, so concurrent senders take different lanes; SQLite runs
  whole transactions one at a time anyway) by leasing them (`bot.engine.leases.RowLease` over `lease_owner` and
  `lease_until`), commits, calls Slack with no transaction and no connection held, and records the outcome in a
  second short transaction that also releases the lease. Holding a transaction across an HTTP call would, on
  SQLite, block every other writer of the database (there is one connection and every transaction takes the write
  lock) for as long as Slack takes to answer.
* **Sent means Slack accepted it.** `sent_at` is written only after an ``ok`` answer. If a sender dies between
  Slack's answer and that write, its lease runs out and another sender repeats the call: delivery is at least once,
  and exactly once whenever senders stop normally (`drain` and `run` finish a round before returning).
* **Failures.** HTTP 429 / ``ratelimited`` waits for Retry-After; 5xx, timeouts, connection errors and Slack's
  transient error codes back off exponentially (1, 2, 4 … s, capped); any other Slack error is permanent: the
  delivery is marked failed and its lane goes on with the next one.

Message texts and payloads may contain personal data: they are never logged above DEBUG (slack_sdk itself logs
request bodies at DEBUG only, with the token redacted).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import ColumnElement, and_, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.schema import Table

from bot.engine.leases import RowLease
from bot.logs import log_context
from bot.ops.metrics import Metrics
from bot.slack.tables import slack_channels, slack_deliveries, slack_messages

logger = logging.getLogger(__name__)

POST_MESSAGE = "chat.postMessage"
POST_EPHEMERAL = "chat.postEphemeral"
UPDATE_MESSAGE = "chat.update"
PUBLISH_VIEW = "views.publish"
METHODS = frozenset({POST_MESSAGE, POST_EPHEMERAL, UPDATE_MESSAGE, PUBLISH_VIEW})
HOME_LANE_PREFIX = "home:"
# Keys of conversation replies that Slack kept refusing while the person waited (see `queue_reply`).
REPLY_KEY_PREFIX = "reply:"

# Slack error codes that say "try again later" rather than "this request is wrong".
TRANSIENT_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout"})
# The last_error of a chat.update whose message was never posted (its post failed, or none was enqueued).
MESSAGE_NOT_POSTED = "message_not_posted"
# A chat.postMessage payload's field naming the message_key of the message to reply under (in its thread): the
# sender puts that message's ts as thread_ts, as it puts a chat.update's ts. Not sent to Slack.
THREAD_OF = "thread_of"

_CHANNEL_LENGTH = 64  # slack_deliveries.channel, slack_channels.channel
_KEY_LENGTH = 200  # slack_deliveries.key and message_key, slack_messages.key
_ERROR_LENGTH = 200  # slack_deliveries.last_error
_DEFAULT_RETRY_AFTER = 1.0  # seconds, when a 429 carries no usable Retry-After header
_AWAIT_POST_POLL = 0.1  # seconds; the least a chat.update waits before looking again for its post's ts
_MIN_PAUSE = 0.01  # seconds; the shortest sleep between rounds, so a due-but-skipped lane is never busy-polled


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Delivery:
    """One Slack Web API call to make.

    `channel` is the rate-limit lane (a channel id, a user id for a DM, or ``home:<user id>`` for
    ``views.publish``). `payload` holds the method's arguments as JSON values. A missing ``channel`` argument is
    the lane; a ``chat.update`` without ``ts`` gets ``channel`` and ``ts`` of the message posted under
    `message_key` (put it in the post's lane, so that it cannot be tried before the post); a ``chat.postMessage``
    whose payload names a message_key under ``thread_of`` is posted in that message's thread (the same way). `key`
    makes enqueueing idempotent: a key already stored is not stored again.
    """

    channel: str
    method: str  # "chat.postMessage" | "chat.postEphemeral" | "chat.update" | "views.publish"
    payload: dict[str, Any]
    key: str | None = None
    # chat.postMessage: remember the posted message's ts under this key; chat.update: update the message remembered
    # under it.
    message_key: str | None = None


async def enqueue(conn: AsyncConnection, deliveries: Sequence[Delivery], now: datetime) -> int:
    """Store `deliveries` in the caller's transaction, in order; return how many were added.

    Deliveries whose `key` is already stored (or repeated earlier in `deliveries`) are skipped, also when another
    transaction stores the same key concurrently. Every lane gets its `slack_channels` row. Invalid deliveries
    raise `ValueError` before anything is written, the same way on SQLite and PostgreSQL.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    rows = [_delivery_row(delivery, index, now) for index, delivery in enumerate(deliveries)]
    if not rows:
        return 0
    # Lanes first: a sender that sees a delivery must also find its lane, and within one transaction the order is
    # invisible to others anyway. ON CONFLICT DO NOTHING leaves an existing lane's pace and lease alone.
    lanes = list(dict.fromkeys(row["channel"] for row in rows))
    await conn.execute(
        _insert_ignoring_conflict(conn, slack_channels, "channel"),
        [{"channel": lane, "next_send_at": now, "lease_until": None} for lane in lanes],
    )
    added = 0
    seen: set[str] = set()
    insert_delivery = _insert_ignoring_conflict(conn, slack_deliveries, "key").returning(slack_deliveries.c.id)
    for row in rows:
        if row["key"] is not None:
            if row["key"] in seen:
                continue
            seen.add(row["key"])
        # One statement per row: ids then follow the caller's order, which is the order each lane is sent in.
        # ON CONFLICT DO NOTHING (rather than "look, then insert") is what stays correct when two notifiers
        # enqueue the same key at once: PostgreSQL makes the second wait for the first and then skip.
        inserted = await conn.execute(insert_delivery, row)
        if inserted.first() is not None:
            added += 1
    return added


async def replies_waiting(engine: AsyncEngine, lane: str) -> bool:
    """Whether a conversation reply queued by `queue_reply` is still unsent in `lane`."""
    async with engine.connect() as conn:
        found = await conn.scalar(
            select(slack_deliveries.c.id)
            .where(
                slack_deliveries.c.channel == lane,
                _pending(),
                slack_deliveries.c.key.startswith(REPLY_KEY_PREFIX),
            )
            .limit(1)
        )
    return found is not None


async def queue_reply(
    engine: AsyncEngine, lane: str, method: str, args: Mapping[str, Any], now: datetime, not_before: datetime
) -> None:
    """Queue a reply that Slack refused for longer than its caller could wait; the lane sends it from `not_before`.

    Used when a conversation reply's retries within the call ran out (a long Retry-After, Slack down for a while):
    the reply then arrives late rather than never. Its lane waits at least until `not_before` (Slack's
    Retry-After), and the caller sends its channel's next replies here too while one is waiting, so none overtakes.
    """
    key = f"{REPLY_KEY_PREFIX}{uuid.uuid4().hex}"
    async with engine.begin() as conn:
        await enqueue(conn, [Delivery(lane, method, dict(args), key=key)], now)
        await conn.execute(
            update(slack_channels)
            .where(slack_channels.c.channel == lane, slack_channels.c.next_send_at < not_before)
            .values(next_send_at=not_before)
        )


def _delivery_row(delivery: Delivery, index: int, now: datetime) -> dict[str, Any]:
    """The row for `delivery`, after checking everything the database or Slack would otherwise refuse later."""
    where = f"delivery {index} ({delivery.method!r} on {delivery.channel!r})"
    if delivery.method not in METHODS:
        raise ValueError(f"{where}: method must be one of {sorted(METHODS)}")
    if not delivery.channel or len(delivery.channel) > _CHANNEL_LENGTH:
        raise ValueError(f"{where}: channel must be 1-{_CHANNEL_LENGTH} characters")
    for name, value in (("key", delivery.key), ("message_key", delivery.message_key)):
        if value is not None and not 0 < len(value) <= _KEY_LENGTH:
            raise ValueError(f"{where}: {name} must be 1-{_KEY_LENGTH} characters")
    if not isinstance(delivery.payload, Mapping):
        raise ValueError(f"{where}: payload must be a dict")
    try:
        # Checked here, so that a datetime or NaN fails before the SQL on both databases alike.
        json.dumps(delivery.payload, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where}: payload is not plain JSON ({type(error).__name__})") from error
    if delivery.method == UPDATE_MESSAGE and delivery.message_key is None and not delivery.payload.get("ts"):
        raise ValueError(f"{where}: chat.update needs a message_key or a ts")
    thread_of = delivery.payload.get(THREAD_OF)
    if thread_of is not None and (delivery.method != POST_MESSAGE or not isinstance(thread_of, str)):
        raise ValueError(f"{where}: {THREAD_OF} names a message_key, for chat.postMessage only")
    if delivery.method == PUBLISH_VIEW:
        user_id = delivery.payload.get("user_id")
        if not isinstance(user_id, str) or delivery.channel != f"{HOME_LANE_PREFIX}{user_id}":
            raise ValueError(f"{where}: views.publish needs payload user_id U and the lane 'home:U'")
    return {
        "key": delivery.key,
        "channel": delivery.channel,
        "method": delivery.method,
        "payload": dict(delivery.payload),
        "message_key": delivery.message_key,
        "created_at": now,
        "next_attempt_at": now,
        "attempts": 0,
    }


def _insert_ignoring_conflict(conn: AsyncConnection, table: Table, column: str) -> postgresql.Insert | sqlite.Insert:
    """``INSERT … ON CONFLICT (column) DO NOTHING`` in the connection's dialect (both spell it the same way)."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=[column])
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=[column])
    raise NotImplementedError(f"the Slack delivery queue supports SQLite and PostgreSQL, not {dialect}")


def _remember_message(conn: AsyncConnection, key: str, channel: str, ts: str, now: datetime) -> Any:
    """``INSERT … ON CONFLICT (key) DO UPDATE``: a message posted again under a key replaces the old one."""
    values = {"key": key, "channel": channel, "ts": ts, "updated_at": now}
    replace = {"channel": channel, "ts": ts, "updated_at": now}
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    return insert(slack_messages).values(values).on_conflict_do_update(index_elements=["key"], set_=replace)


async def queue_depth(engine: AsyncEngine) -> int:
    """The number of deliveries neither sent nor failed (the sender's backlog; a gauge of /metrics)."""
    async with engine.connect() as conn:
        count = await conn.scalar(select(func.count()).select_from(slack_deliveries).where(_pending()))
        return int(count or 0)


def _pending() -> ColumnElement[bool]:
    return and_(slack_deliveries.c.sent_at.is_(None), slack_deliveries.c.failed_at.is_(None))


def _target_key(head: Any) -> str | None:
    """The message_key of the message a queued delivery updates (chat.update without a ts) or replies under."""
    if head.method == UPDATE_MESSAGE and not head.payload.get("ts"):
        return str(head.message_key) if head.message_key is not None else None
    if head.method == POST_MESSAGE and isinstance(head.payload.get(THREAD_OF), str):
        return str(head.payload[THREAD_OF])
    return None


def _lane_has_pending() -> ColumnElement[bool]:
    return exists().where(slack_deliveries.c.channel == slack_channels.c.channel, _pending())


@dataclass(frozen=True)
class _Job:
    """A claimed lane's oldest delivery, ready to be sent outside any transaction."""

    delivery_id: int
    lane: str
    method: str
    args: dict[str, Any]
    message_key: str | None
    attempts: int
    owner: str  # the round's lease on the lane; recording the outcome checks it is still ours


@dataclass(frozen=True)
class _Outcome:
    kind: Literal["sent", "ratelimited", "retry", "failed"]
    error: str | None = None
    retry_after: float = _DEFAULT_RETRY_AFTER  # "ratelimited" only
    channel: str | None = None  # "sent": the channel and ts Slack answered
    ts: str | None = None


class SlackSender:
    """Sends queued deliveries to Slack: one call per lane per `interval`, oldest first, retrying what may pass.

    Several senders (in one process or many) may work the same queue: leases keep each lane with one sender at a
    time. The given client's own retry handlers are not used (this class does the retrying, with the lane's
    pacing and lease in mind); the client itself is left as it is.
    """

    MAX_LANES_PER_ROUND = 50  # bounds one round's claim transaction and its burst of concurrent calls
    IDLE_POLL_SECONDS = 1.0  # `run` looks for new deliveries at least this often (enqueuers in other processes)

    def __init__(
        self,
        engine: AsyncEngine,
        client: AsyncWebClient,
        clock: Callable[[], datetime] = _utc_now,
        interval: float = 1.0,
        lease_seconds: float = 30.0,
        max_backoff: float = 300.0,
        metrics: Metrics | None = None,
    ) -> None:
        if interval < 0 or lease_seconds <= 0 or max_backoff <= 0:
            raise ValueError("need interval >= 0, lease_seconds > 0 and max_backoff > 0")
        self._engine = engine
        # A copy without retry handlers: slack_sdk's rate-limit handler would sleep through a 429 inside the call
        # (holding the lane's lease) and its connection-error handler would repeat a post that this class then
        # repeats again. Copying leaves the caller's client, which bolt may share, untouched.
        self._client = copy.copy(client)
        self._client.retry_handlers = []
        self._clock = clock
        self._interval = interval
        lanes = slack_channels
        self._lanes = RowLease(lanes, lanes.c.lease_owner, lanes.c.lease_until, timedelta(seconds=lease_seconds), clock)
        self._max_backoff = max_backoff
        # A call is abandoned after half the lease, so the lease cannot run out while its holder is still waiting
        # for Slack; the other half is for the two short transactions around the call.
        self._call_timeout = lease_seconds / 2
        self._wake = asyncio.Event()
        self._metrics = metrics if metrics is not None else Metrics()

    # ------------------------------------------------------------------ public API

    async def run_once(self) -> int:
        """Claim the ready lanes and send at most one delivery in each; return how many Slack calls were made."""
        calls, _handled = await self._round()
        return calls

    async def drain(self, timeout: float) -> None:  # noqa: ASYNC109 - a budget for many rounds, not one I/O call
        """Run rounds until nothing is pending or `timeout` seconds have passed, sleeping until a lane is due.

        A round that has started is finished (its calls answered and recorded), so this may return a little after
        the timeout, but never with a lane still leased by this sender or a call whose outcome is unrecorded.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            _calls, handled = await self._round()
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            if handled:
                continue
            wait = await self._seconds_until_due()
            if wait is None:
                return
            await asyncio.sleep(min(max(wait, _MIN_PAUSE), remaining))

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set, sleeping until the next lane is due (at most `IDLE_POLL_SECONDS`).

        Database errors are logged and retried with back-off, so a database restart does not end the sender.
        """
        failures = 0
        while not stop.is_set():
            try:
                _calls, handled = await self._round()
                if handled:
                    failures = 0
                    continue
                due = await self._seconds_until_due()
                failures = 0
                wait = self.IDLE_POLL_SECONDS if due is None else min(max(due, _MIN_PAUSE), self.IDLE_POLL_SECONDS)
            except Exception as error:
                failures += 1
                wait = min(2.0 ** (failures - 1), 30.0)
                logger.warning("Slack sender round failed (%s); next try in %.0f s", type(error).__name__, wait)
                logger.debug("Slack sender round failed", exc_info=True)
            await self._pause(wait, stop)

    def wake(self) -> None:
        """Make `run` look at the queue now rather than at its next poll (e.g. right after an enqueue commits)."""
        self._wake.set()

    async def pending(self) -> int:
        """The number of deliveries neither sent nor failed."""
        return await queue_depth(self._engine)

    # ------------------------------------------------------------------ one round

    async def _round(self) -> tuple[int, int]:
        """One round: (Slack calls made, lanes looked at)."""
        jobs, handled = await self._claim()
        if not jobs:
            return 0, handled
        # Lanes are independent, so their calls overlap; each task records its own outcome in its own short
        # transaction. Every task is awaited even when one fails, so no lease is abandoned by this round.
        results = await asyncio.gather(*(self._send(job) for job in jobs), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return len(jobs), handled

    async def _claim(self) -> tuple[list[_Job], int]:
        """Lease the ready lanes and return their oldest deliveries to send; settle those that need no call.

        Returns the jobs and the number of lanes looked at. A lane's head that is not due yet moves the lane's
        `next_send_at` to it; a ``chat.update`` whose post is still queued elsewhere waits an interval (at least
        `_AWAIT_POST_POLL`); one whose post failed (or never existed) fails without a call.
        """
        now = self._clock()
        owner = uuid.uuid4().hex  # each round's lease is its own, so a late record cannot touch a later round's
        lanes, deliveries = slack_channels, slack_deliveries
        ready = (
            select(lanes.c.channel)
            .where(
                lanes.c.next_send_at <= now,
                self._lanes.free(now),
                _lane_has_pending(),
            )
            .order_by(lanes.c.next_send_at, lanes.c.channel)
            .limit(self.MAX_LANES_PER_ROUND)
            # PostgreSQL: a lane another sender is claiming right now is skipped, not waited for. SQLite renders
            # no FOR UPDATE; its BEGIN IMMEDIATE already runs claims one after the other.
            .with_for_update(skip_locked=True, of=lanes)
        )
        jobs: list[_Job] = []
        async with self._engine.begin() as conn:
            claimed = list((await conn.execute(ready)).scalars())
            if not claimed:
                return [], 0
            oldest = (
                select(func.min(deliveries.c.id))
                .where(deliveries.c.channel.in_(claimed), _pending())
                .group_by(deliveries.c.channel)
            )
            heads = (await conn.execute(select(deliveries).where(deliveries.c.id.in_(oldest)))).all()
            posted, awaited = await self._resolve_updates(conn, heads)
            for head in heads:
                if head.next_attempt_at > now:
                    # Waiting for a retry: the lane waits with it (nothing behind may overtake it).
                    await self._set_lane(conn, head.channel, next_send_at=head.next_attempt_at)
                    continue
                args = dict(head.payload)
                target = _target_key(head)  # the message this delivery updates or replies under, by its key
                if target is not None and target not in posted and target in awaited:
                    # Its post is queued in another lane and not sent yet; look again a little later (never at
                    # once, even with interval 0, so that waiting is not a busy loop).
                    poll = timedelta(seconds=max(self._interval, _AWAIT_POST_POLL))
                    await self._set_lane(conn, head.channel, next_send_at=now + poll)
                    continue
                if head.method == UPDATE_MESSAGE and target is not None:
                    if target not in posted:
                        await conn.execute(
                            update(deliveries)
                            .where(deliveries.c.id == head.id, _pending())
                            .values(failed_at=now, last_error=MESSAGE_NOT_POSTED)
                        )
                        self._metrics.delivery_failed()
                        logger.warning(
                            "Slack delivery %d (%s on lane %s) failed: %s",
                            head.id,
                            head.method,
                            head.channel,
                            MESSAGE_NOT_POSTED,
                        )
                        continue
                    args["channel"], args["ts"] = posted[target]
                if head.method != PUBLISH_VIEW:
                    args.setdefault("channel", head.channel)
                if args.pop(THREAD_OF, None) is not None and target in posted:
                    # Its message never posted: the reply stands on its own rather than being lost.
                    args["thread_ts"] = posted[target][1]
                jobs.append(
                    _Job(
                        delivery_id=head.id,
                        lane=head.channel,
                        method=head.method,
                        args=args,
                        message_key=head.message_key,
                        attempts=head.attempts,
                        owner=owner,
                    )
                )
            if jobs:
                await conn.execute(self._lanes.take(owner, lanes.c.channel.in_([job.lane for job in jobs]), now=now))
        return jobs, len(heads)

    @staticmethod
    async def _resolve_updates(
        conn: AsyncConnection, heads: Sequence[Any]
    ) -> tuple[dict[str, tuple[str, str]], set[str]]:
        """For the heads that name another message (a chat.update's, a reply's thread): its message_key → (channel,
        ts) once posted, and the keys whose post is still queued."""
        keys = {key for key in map(_target_key, heads) if key is not None}
        if not keys:
            return {}, set()
        rows = await conn.execute(select(slack_messages).where(slack_messages.c.key.in_(keys)))
        posted = {row.key: (row.channel, row.ts) for row in rows}
        unposted = keys - posted.keys()
        if not unposted:
            return posted, set()
        queued = await conn.execute(
            select(slack_deliveries.c.message_key).where(
                slack_deliveries.c.method == POST_MESSAGE,
                slack_deliveries.c.message_key.in_(unposted),
                _pending(),
            )
        )
        return posted, {key for key in queued.scalars() if key is not None}

    @staticmethod
    async def _set_lane(conn: AsyncConnection, lane: str, next_send_at: datetime) -> None:
        await conn.execute(
            update(slack_channels).where(slack_channels.c.channel == lane).values(next_send_at=next_send_at)
        )

    # ------------------------------------------------------------------ one call

    async def _send(self, job: _Job) -> None:
        with log_context(delivery_id=job.delivery_id):
            outcome = await self._call(job)
            await self._record(job, outcome)
        if outcome.kind == "ratelimited":
            self._metrics.rate_limited("queue")
        elif outcome.kind == "failed":
            self._metrics.delivery_failed()

    async def _call(self, job: _Job) -> _Outcome:
        """Make the call; classify whatever happens. No transaction or connection is held here."""
        logger.debug("Slack delivery %d: %s on lane %s, arguments %s", job.delivery_id, job.method, job.lane, job.args)
        try:
            async with asyncio.timeout(self._call_timeout):
                response = await self._client.api_call(job.method, json=job.args)
        except SlackApiError as error:
            return _classify_error(error.response)
        except SlackRequestError as error:
            # slack_sdk refused to build the request: the same arguments would be refused again.
            return _Outcome("failed", error=f"request_error: {type(error).__name__}")
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            return _Outcome("retry", error="timeout" if isinstance(error, TimeoutError) else type(error).__name__)
        except Exception as error:
            # Unexpected, so not known to be permanent: retry with back-off rather than drop the message. The
            # exception's text could quote the payload, so only its type is logged above DEBUG.
            logger.debug("Slack delivery %d: unexpected error", job.delivery_id, exc_info=True)
            return _Outcome("retry", error=type(error).__name__)
        data = response.data if isinstance(response.data, dict) else {}
        channel, ts = data.get("channel"), data.get("ts")
        return _Outcome(
            "sent",
            channel=channel if isinstance(channel, str) else None,
            ts=ts if isinstance(ts, str) else None,
        )

    async def _record(self, job: _Job, outcome: _Outcome) -> None:
        """Write the outcome and release the lane, in one short transaction."""
        now = self._clock()
        deliveries, lanes = slack_deliveries, slack_channels
        next_attempt: datetime | None = None
        if outcome.kind == "ratelimited":
            next_attempt = now + timedelta(seconds=outcome.retry_after)
        elif outcome.kind == "retry":
            # 1, 2, 4 … seconds by the number of earlier failed calls (429s included), capped.
            next_attempt = now + timedelta(seconds=min(self._max_backoff, 2.0 ** min(job.attempts, 30)))
        # The lane waits for its head's retry; after a completed call, one interval (Slack's pace per channel).
        lane_next = next_attempt if next_attempt is not None else now + timedelta(seconds=self._interval)
        error = (outcome.error or "")[:_ERROR_LENGTH] or None
        async with self._engine.begin() as conn:
            # Releasing only the lease this sender set fences off a sender whose lease ran out meanwhile: it must
            # not reset the pace or free a lane that another sender now holds.
            released = await conn.execute(
                self._lanes.release(job.owner, lanes.c.channel == job.lane, next_send_at=lane_next)
            )
            owned = released.rowcount == 1
            if not owned:
                logger.warning(
                    "Slack delivery %d: the lease on lane %s ran out during the call; another sender may repeat it",
                    job.delivery_id,
                    job.lane,
                )
            this_pending = and_(deliveries.c.id == job.delivery_id, _pending())
            if outcome.kind == "sent":
                # Recorded even without the lease: Slack did accept it, and saying so stops further repeats.
                await conn.execute(
                    update(deliveries).where(this_pending).values(sent_at=now, attempts=deliveries.c.attempts + 1)
                )
                if job.method == POST_MESSAGE and job.message_key is not None:
                    if outcome.channel and outcome.ts:
                        await conn.execute(_remember_message(conn, job.message_key, outcome.channel, outcome.ts, now))
                    else:
                        logger.warning("Slack delivery %d: Slack answered no channel/ts to remember", job.delivery_id)
                logger.debug("Slack delivery %d (%s on lane %s) sent", job.delivery_id, job.method, job.lane)
            elif outcome.kind == "failed":
                await conn.execute(
                    update(deliveries)
                    .where(this_pending)
                    .values(failed_at=now, last_error=error, attempts=deliveries.c.attempts + 1)
                )
                logger.warning(
                    "Slack delivery %d (%s on lane %s) failed: %s", job.delivery_id, job.method, job.lane, error
                )
            elif owned:
                await conn.execute(
                    update(deliveries)
                    .where(this_pending)
                    .values(next_attempt_at=next_attempt, last_error=error, attempts=deliveries.c.attempts + 1)
                )
                log = logger.info if outcome.kind == "ratelimited" else logger.warning
                log(
                    "Slack delivery %d (%s on lane %s): %s, attempt %d, next try in %.1f s",
                    job.delivery_id,
                    job.method,
                    job.lane,
                    error,
                    job.attempts + 1,
                    (lane_next - now).total_seconds(),
                )

    # ------------------------------------------------------------------ waiting

    async def _seconds_until_due(self) -> float | None:
        """Seconds until some lane with pending deliveries may be worked; None when nothing is pending.

        A lane leased by another sender counts as due after one interval: its holder releases it after one call.
        """
        now = self._clock()
        lanes = slack_channels
        async with self._engine.connect() as conn:
            next_free = await conn.scalar(
                select(func.min(lanes.c.next_send_at)).where(_lane_has_pending(), self._lanes.free(now))
            )
            held = await conn.scalar(
                select(func.count()).select_from(lanes).where(_lane_has_pending(), self._lanes.held(now))
            )
        waits: list[float] = []
        if isinstance(next_free, datetime):
            waits.append(max(0.0, (next_free - now).total_seconds()))
        if held:
            waits.append(self._interval)
        return min(waits) if waits else None

    async def _pause(self, seconds: float, stop: asyncio.Event) -> None:
        """Sleep `seconds`, or less if `stop` is set or `wake` is called."""
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*waiters, return_exceptions=True)
        self._wake.clear()


def _classify_error(response: Any) -> _Outcome:
    """Sort an unsuccessful Slack answer into rate-limited, worth retrying, or permanent."""
    status = int(getattr(response, "status_code", 0) or 0)
    data = getattr(response, "data", None)
    code = data.get("error") if isinstance(data, dict) else None
    error = str(code) if code else f"http_{status}"
    if status == 429 or error == "ratelimited":
        retry_after = _retry_after(getattr(response, "headers", None))
        return _Outcome("ratelimited", error="ratelimited", retry_after=retry_after)
    if status >= 500 or status == 408 or error in TRANSIENT_ERRORS:
        return _Outcome("retry", error=error)
    return _Outcome("failed", error=error)


def _retry_after(headers: Any) -> float:
    """Retry-After in seconds (Slack sends whole seconds); 1 s when absent or unreadable."""
    if not isinstance(headers, Mapping):
        return _DEFAULT_RETRY_AFTER
    for name, value in headers.items():
        if str(name).lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except (TypeError, ValueError):
                return _DEFAULT_RETRY_AFTER
    return _DEFAULT_RETRY_AFTER
