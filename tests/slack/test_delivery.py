"""The Slack delivery queue and sender against the fake Slack Web API, on real SQLite and PostgreSQL.

What is checked is what Slack recorded: every notification accepted exactly once, in enqueue order per channel,
successful posts in a channel at least one interval apart, whatever 429s, 5xx, timeouts and permanent errors
happen on the way, also with two senders at once and with a sender stopped half-way.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.slack.egress.delivery import MESSAGE_NOT_POSTED, Delivery, SlackSender, enqueue
from bot.slack.tables import slack_channels, slack_deliveries, slack_messages
from portal.adapters.database import create_engine
from portal.bootstrap import Portal
from tests.conftest import Database, FrozenClock
from tests.support.fake_slack import Call, FakeSlack, start_local_server

TOKEN = "xoxb-test"
INTERVAL = 0.05  # seconds between two posts in one lane; small to keep the tests fast
SPACING_SLACK = 0.005  # clock granularity allowed when measuring that spacing
DRAIN_TIMEOUT = 30.0
ALPHA, BRAVO, CHARLIE, DELTA = "C0ALPHA", "C0BRAVO", "C0CHARLIE", "C0DELTA"


class TimedFakeSlack(FakeSlack):
    """FakeSlack that also notes when each call arrived, and injects faults at planned call numbers.

    `fault_plan[(method, n)]` holds `fail_next` arguments applied just before the n-th call to `method` is answered,
    so faults land in the middle of a run rather than all on its first calls.
    """

    def __init__(self) -> None:
        super().__init__()
        self.arrived: dict[int, float] = {}  # id(call) -> time.monotonic() when the request came in
        self.fault_plan: dict[tuple[str, int], dict[str, Any]] = {}
        self._numbers: Counter[str] = Counter()

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        method = request.match_info["method"]
        self._numbers[method] += 1  # before any await, so concurrent requests get distinct numbers
        planned = self.fault_plan.pop((method, self._numbers[method]), None)
        if planned is not None:
            self.fail_next(method, **planned)
        response = await super()._handle_api(request)
        # FakeSlack appends the Call and returns without awaiting in between, so the last call is this one.
        self.arrived[id(self.calls[-1])] = arrived
        return response


@pytest.fixture
async def fake() -> AsyncIterator[TimedFakeSlack]:
    fake = TimedFakeSlack()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


def client_for(fake: FakeSlack, token: str = TOKEN, **kwargs: Any) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=fake.base_url, **kwargs)


def post(lane: str, text: str, key: str | None = None, message_key: str | None = None) -> Delivery:
    return Delivery(lane, "chat.postMessage", {"channel": lane, "text": text}, key=key, message_key=message_key)


def update_of(lane: str, message_key: str, text: str) -> Delivery:
    return Delivery(lane, "chat.update", {"text": text}, message_key=message_key)


async def add(engine: AsyncEngine, deliveries: list[Delivery], now: datetime | None = None) -> int:
    """Enqueue in a transaction of its own, as a notifier does in its."""
    async with engine.begin() as conn:
        return await enqueue(conn, deliveries, now or datetime.now(UTC))


async def stored(engine: AsyncEngine) -> list[Row[Any]]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(slack_deliveries).order_by(slack_deliveries.c.id))).all())


async def lane_row(engine: AsyncEngine, lane: str) -> Row[Any]:
    async with engine.connect() as conn:
        return (await conn.execute(select(slack_channels).where(slack_channels.c.channel == lane))).one()


def accepted_posts(fake: FakeSlack, lane: str | None = None) -> list[Call]:
    return [c for c in fake.calls_to("chat.postMessage") if c.ok and (lane is None or c.args["channel"] == lane)]


def assert_delivered_once_in_order(fake: TimedFakeSlack, expected: dict[str, list[str]]) -> Counter[str]:
    """Every expected text accepted exactly once, in order per lane, successive posts of a lane `INTERVAL` apart."""
    accepted = Counter(call.args["text"] for call in accepted_posts(fake))
    everything = [text for texts in expected.values() for text in texts]
    assert {text: accepted[text] for text in everything} == dict.fromkeys(everything, 1), fake.describe_calls()
    assert sum(accepted.values()) == len(everything)
    for lane, texts in expected.items():
        calls = accepted_posts(fake, lane)
        assert [call.args["text"] for call in calls] == texts, f"order in {lane}"
        arrivals = [fake.arrived[id(call)] for call in calls]
        gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
        assert all(gap >= INTERVAL - SPACING_SLACK for gap in gaps), f"{lane}: gaps {gaps}"
    return accepted


def lanes_of(count: int, per_lane: int, lanes: tuple[str, ...]) -> tuple[list[Delivery], dict[str, list[str]]]:
    """`per_lane` posts in each lane, enqueued round-robin; and the texts each lane must show, in order."""
    expected = {lane: [f"{lane} notification {n}" for n in range(per_lane)] for lane in lanes}
    deliveries = [post(lane, expected[lane][n], key=f"event-{n}:{lane}") for n in range(per_lane) for lane in lanes]
    assert len(deliveries) == count
    return deliveries, expected


# ---------------------------------------------------------------------- delivery under faults


async def test_thirty_posts_over_three_channels_survive_rate_limits_and_server_errors(
    empty_portal: Portal, fake: TimedFakeSlack
) -> None:
    engine = empty_portal.engine
    deliveries, expected = lanes_of(30, 10, (ALPHA, BRAVO, CHARLIE))
    post_call = "chat.postMessage"
    fake.fault_plan = {
        (post_call, 2): {"status": 429, "retry_after": 0},
        (post_call, 5): {"status": 500},
        (post_call, 9): {"status": 429, "retry_after": 1},
        (post_call, 14): {"status": 503, "error": "service_unavailable"},
        (post_call, 20): {"status": 429, "retry_after": 0},
        (post_call, 26): {"status": 502},
    }
    assert await add(engine, deliveries) == 30

    sender = SlackSender(engine, client_for(fake), interval=INTERVAL)
    await sender.drain(DRAIN_TIMEOUT)

    calls = fake.calls_to(post_call)
    faults = [call for call in calls if not call.ok]
    assert sorted(call.http_status for call in faults) == [429, 429, 429, 500, 502, 503]
    accepted = assert_delivered_once_in_order(fake, expected)
    assert await sender.pending() == 0
    rows = await stored(engine)
    assert all(row.sent_at is not None and row.failed_at is None for row in rows)
    assert sum(row.attempts for row in rows) == len(calls)  # every call, failed or not, is counted once
    delivered = len(accepted)
    print(
        f"[{engine.dialect.name}] {len(deliveries)} notifications, {len(faults)} faults → {delivered} delivered, "
        f"{len(deliveries) - delivered} lost, {sum(accepted.values()) - delivered} duplicated"
    )


async def test_a_round_sends_at_most_one_delivery_per_lane(empty_portal: Portal, fake: TimedFakeSlack) -> None:
    deliveries, _expected = lanes_of(6, 2, (ALPHA, BRAVO, CHARLIE))
    await add(empty_portal.engine, deliveries)
    sender = SlackSender(empty_portal.engine, client_for(fake), interval=1.0)

    assert await sender.run_once() == 3
    assert await sender.run_once() == 0  # each lane's next post is a second away
    assert sorted(call.args["text"] for call in accepted_posts(fake)) == [
        f"{lane} notification 0" for lane in (ALPHA, BRAVO, CHARLIE)
    ]
    assert await sender.pending() == 3


async def test_backoff_grows_per_failure_and_retry_after_is_honoured(
    empty_portal: Portal, fake: TimedFakeSlack
) -> None:
    engine = empty_portal.engine
    clock = FrozenClock(datetime(2026, 11, 24, 12, 0, tzinfo=UTC))
    sender = SlackSender(engine, client_for(fake), clock=clock, interval=1.0, max_backoff=3.0)
    fake.fail_next("chat.postMessage", status=500)
    fake.fail_next("chat.postMessage", status=503)
    fake.fail_next("chat.postMessage", status=200, error="service_unavailable")
    fake.fail_next("chat.postMessage", status=429, retry_after=7)
    await add(engine, [post(ALPHA, "first"), post(ALPHA, "second")], now=clock.now)

    started = clock.now
    waits = []
    for expected_error in ("internal_error", "internal_error", "service_unavailable", "ratelimited"):
        assert await sender.run_once() == 1
        head = (await stored(engine))[0]
        assert (head.last_error, head.sent_at) == (expected_error, None)
        wait = head.next_attempt_at - clock.now
        assert (await lane_row(engine, ALPHA)).next_send_at == head.next_attempt_at  # the lane waits with it
        assert await sender.run_once() == 0  # not due yet; "second" does not overtake it
        waits.append(wait.total_seconds())
        clock.advance(wait)
    assert waits == [1.0, 2.0, 3.0, 7.0]  # 1, 2, then 4 capped at max_backoff; Retry-After as Slack said

    assert await sender.run_once() == 1
    head = (await stored(engine))[0]
    assert (head.sent_at, head.attempts) == (started + timedelta(seconds=13), 5)
    assert (await lane_row(engine, ALPHA)).next_send_at == clock.now + timedelta(seconds=1.0)
    assert [call.http_status for call in fake.calls_to("chat.postMessage")] == [500, 503, 200, 429, 200]


async def test_timeouts_and_connection_errors_are_retried(empty_portal: Portal) -> None:
    engine = empty_portal.engine

    released = asyncio.Event()

    async def never_answers(_request: web.Request) -> web.Response:
        await released.wait()  # until the test ends
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/api/{method}", never_answers)
    runner, port = await start_local_server(app)
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    try:
        slow = AsyncWebClient(token=TOKEN, base_url=f"http://127.0.0.1:{port}/api/")
        refused = AsyncWebClient(token=TOKEN, base_url=f"http://127.0.0.1:{closed_port}/api/")
        await add(engine, [post(ALPHA, "slow")])
        # lease_seconds=0.4: a call is abandoned after half the lease, long before the server would answer.
        assert await SlackSender(engine, slow, interval=INTERVAL, lease_seconds=0.4).run_once() == 1
        await add(engine, [post(BRAVO, "refused")])
        sender = SlackSender(engine, refused, interval=INTERVAL)
        assert await sender.run_once() == 1  # BRAVO only: ALPHA is backing off
        rows = {row.channel: row for row in await stored(engine)}
        assert (rows[ALPHA].last_error, rows[BRAVO].last_error) == ("timeout", "ClientConnectorError")
        for row in rows.values():
            assert (row.attempts, row.sent_at, row.failed_at) == (1, None, None)
            assert row.next_attempt_at - row.created_at >= timedelta(seconds=1)
        assert await sender.pending() == 2
    finally:
        released.set()
        await runner.cleanup()


async def test_the_clients_own_retry_handlers_are_not_used(empty_portal: Portal, fake: TimedFakeSlack) -> None:
    handler = AsyncRateLimitErrorRetryHandler(max_retry_count=3)
    client = client_for(fake, retry_handlers=[handler])
    fake.fail_next("chat.postMessage", status=429, retry_after=0)
    await add(empty_portal.engine, [post(ALPHA, "once")])

    assert await SlackSender(empty_portal.engine, client, interval=INTERVAL).run_once() == 1
    assert [call.http_status for call in fake.calls_to("chat.postMessage")] == [429]  # no retry inside the call
    assert client.retry_handlers == [handler]  # the caller's client is left as it was


# ---------------------------------------------------------------------- enqueue


async def test_enqueue_is_idempotent_by_key(empty_portal: Portal, fake: TimedFakeSlack) -> None:
    engine = empty_portal.engine
    assert await add(engine, [post(ALPHA, "a", key="k1"), post(ALPHA, "a again", key="k1"), post(ALPHA, "b")]) == 2
    assert await add(engine, [post(ALPHA, "a", key="k1")]) == 0
    # The same key from two transactions at once: one stores it, the other skips it (no error, no rollback).
    results = await asyncio.gather(add(engine, [post(ALPHA, "c", key="k2")]), add(engine, [post(ALPHA, "c", key="k2")]))
    assert sorted(results) == [0, 1]
    assert len(await stored(engine)) == 3
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(slack_channels)) == 1

    await SlackSender(engine, client_for(fake), interval=INTERVAL).drain(DRAIN_TIMEOUT)
    assert [call.args["text"] for call in accepted_posts(fake)] == ["a", "b", "c"]


@pytest.mark.parametrize(
    "delivery",
    [
        Delivery(ALPHA, "chat.delete", {"ts": "1.2"}),
        Delivery("", "chat.postMessage", {"text": "no lane"}),
        Delivery("C" * 65, "chat.postMessage", {"text": "lane too long"}),
        Delivery(ALPHA, "chat.postMessage", {"text": "key too long"}, key="k" * 201),
        Delivery(ALPHA, "chat.postMessage", {"text": "not JSON", "at": datetime(2026, 1, 1, tzinfo=UTC)}),
        Delivery(ALPHA, "chat.postMessage", {"text": "NaN", "score": math.nan}),
        Delivery(ALPHA, "chat.update", {"text": "which message?"}),
        Delivery("U0BEN", "views.publish", {"user_id": "U0BEN", "view": {"type": "home", "blocks": []}}),
        Delivery("home:U0BEN", "views.publish", {"user_id": "U0ANNA", "view": {"type": "home", "blocks": []}}),
    ],
)
async def test_enqueue_refuses_invalid_deliveries_before_writing(empty_portal: Portal, delivery: Delivery) -> None:
    with pytest.raises(ValueError, match=r"delivery 1"):
        await add(empty_portal.engine, [post(ALPHA, "fine"), delivery])
    assert await stored(empty_portal.engine) == []


async def test_enqueue_needs_an_aware_now(empty_portal: Portal) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await add(empty_portal.engine, [post(ALPHA, "x")], now=datetime(2026, 11, 24, 12, 0))


# ---------------------------------------------------------------------- chat.update, views.publish


async def test_an_update_after_a_post_updates_the_posted_message(empty_portal: Portal, fake: TimedFakeSlack) -> None:
    engine = empty_portal.engine
    await add(
        engine,
        [
            post(ALPHA, "ST-000001 opened", message_key="ticket:ST-000001"),
            update_of(ALPHA, "ticket:ST-000001", "ST-000001 in progress"),
            post("U0BEN", "Your ticket ST-000001 was opened", message_key="dm:ST-000001"),
            update_of("U0BEN", "dm:ST-000001", "Your ticket ST-000001 is in progress"),
        ],
    )
    fake.fail_next("chat.postMessage", status=429, retry_after=0)  # a post needs a second try; its update waits
    await SlackSender(engine, client_for(fake), interval=INTERVAL).drain(DRAIN_TIMEOUT)

    posts = {call.args["text"]: call for call in accepted_posts(fake)}
    updates = {call.args["text"]: call for call in fake.calls_to("chat.update") if call.ok}
    channel_post, dm_post = posts["ST-000001 opened"], posts["Your ticket ST-000001 was opened"]
    assert dm_post.response["channel"] == "DU0BEN"  # posted to a user id, Slack answers the DM's id
    for update_text, posted in (
        ("ST-000001 in progress", channel_post),
        ("Your ticket ST-000001 is in progress", dm_post),
    ):
        call = updates[update_text]
        assert (call.args["channel"], call.args["ts"]) == (posted.response["channel"], posted.response["ts"])
        assert fake.calls.index(call) > fake.calls.index(posted)
    async with engine.connect() as conn:
        remembered = {row.key: (row.channel, row.ts) for row in await conn.execute(select(slack_messages))}
    assert remembered == {
        "ticket:ST-000001": (ALPHA, channel_post.response["ts"]),
        "dm:ST-000001": ("DU0BEN", dm_post.response["ts"]),
    }


async def test_an_update_queued_in_another_lane_waits_for_its_post(empty_portal: Portal, fake: TimedFakeSlack) -> None:
    engine = empty_portal.engine
    await add(engine, [post(ALPHA, "opened", message_key="m1"), update_of(BRAVO, "m1", "resolved")])
    fake.fail_next("chat.postMessage", status=429, retry_after=1)
    await SlackSender(engine, client_for(fake), interval=INTERVAL).drain(DRAIN_TIMEOUT)

    (posted,) = accepted_posts(fake)
    (updated,) = fake.calls_to("chat.update")
    assert updated.ok and updated.args["ts"] == posted.response["ts"]
    assert fake.calls.index(updated) > fake.calls.index(posted)


async def test_a_reply_in_a_thread_waits_for_its_message_and_is_posted_under_it(
    empty_portal: Portal, fake: TimedFakeSlack
) -> None:
    engine = empty_portal.engine
    note = Delivery(ALPHA, "chat.postMessage", {"text": "from the customer", "thread_of": "triage:ST-000001"})
    await add(engine, [post(ALPHA, "ST-000001 opened", message_key="triage:ST-000001"), note])
    # A reply whose message never posted stands on its own rather than being lost.
    await add(engine, [Delivery(BRAVO, "chat.postMessage", {"text": "orphan", "thread_of": "triage:ST-000404"})])
    fake.fail_next("chat.postMessage", status=429, retry_after=0)
    await SlackSender(engine, client_for(fake), interval=INTERVAL).drain(DRAIN_TIMEOUT)

    posts = {call.args["text"]: call for call in accepted_posts(fake)}
    card, reply, orphan = posts["ST-000001 opened"], posts["from the customer"], posts["orphan"]
    assert reply.args["thread_ts"] == card.response["ts"] and "thread_of" not in reply.args
    assert fake.calls.index(reply) > fake.calls.index(card)
    assert "thread_ts" not in orphan.args and "thread_of" not in orphan.args
    with pytest.raises(ValueError, match="thread_of"):
        await add(engine, [Delivery(ALPHA, "chat.update", {"ts": "1.2", "thread_of": "triage:ST-000001"})])


async def test_a_permanent_error_fails_that_delivery_only_and_the_lane_goes_on(
    empty_portal: Portal, fake: TimedFakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    engine = empty_portal.engine
    secret = "Ben's charger ACE0100002 at Hauptstrasse 5"
    await add(
        engine,
        [
            post(ALPHA, secret, message_key="m1"),
            update_of(ALPHA, "m1", f"{secret} (resolved)"),
            post(ALPHA, "next one"),
            post(BRAVO, "other lane"),
        ],
    )
    fake.fail_next("chat.postMessage", status=200, error="channel_not_found")
    caplog.set_level(logging.DEBUG)
    await SlackSender(engine, client_for(fake), interval=INTERVAL).drain(DRAIN_TIMEOUT)

    first, its_update, after, other = await stored(engine)
    assert (first.failed_at is not None, first.sent_at, first.last_error) == (True, None, "channel_not_found")
    assert (its_update.failed_at is not None, its_update.last_error) == (True, MESSAGE_NOT_POSTED)
    assert after.sent_at is not None and other.sent_at is not None
    assert fake.calls_to("chat.update") == []
    assert [call.args["text"] for call in accepted_posts(fake)] in (
        ["next one", "other lane"],
        ["other lane", "next one"],
    )
    warnings = [
        r.getMessage() for r in caplog.records if r.name == "bot.slack.egress.delivery" and r.levelno == logging.WARNING
    ]
    assert any("channel_not_found" in message for message in warnings)
    assert any(MESSAGE_NOT_POSTED in message for message in warnings)
    # Message texts only at DEBUG, tokens never.
    assert not [r for r in caplog.records if r.levelno > logging.DEBUG and "Hauptstrasse" in r.getMessage()]
    assert not [r for r in caplog.records if TOKEN in r.getMessage()]


async def test_views_publish_goes_through_the_home_lane(empty_portal: Portal, fake: TimedFakeSlack) -> None:
    view = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Your requests"}}]}
    await add(empty_portal.engine, [Delivery("home:U0BEN", "views.publish", {"user_id": "U0BEN", "view": view})])
    await SlackSender(empty_portal.engine, client_for(fake), interval=INTERVAL).drain(DRAIN_TIMEOUT)

    (call,) = fake.calls_to("views.publish")
    assert call.ok and call.args["user_id"] == "U0BEN" and call.args["view"]["blocks"] == view["blocks"]
    assert (await lane_row(empty_portal.engine, "home:U0BEN")).lease_until is None


# ---------------------------------------------------------------------- several senders, stops and crashes


async def test_two_senders_at_once_send_nothing_twice_and_keep_the_order(
    empty_portal: Portal, database: Database, fake: TimedFakeSlack
) -> None:
    engine = empty_portal.engine
    # A second engine, as a second process would have (on SQLite: its own connection to the same file).
    other = create_engine(database.url, **database.engine_options)
    try:
        deliveries, expected = lanes_of(32, 8, (ALPHA, BRAVO, CHARLIE, DELTA))
        await add(engine, deliveries)
        fake.fault_plan = {
            ("chat.postMessage", 3): {"status": 429, "retry_after": 0},
            ("chat.postMessage", 11): {"status": 500},
            ("chat.postMessage", 17): {"status": 429, "retry_after": 0},
        }
        first = SlackSender(engine, client_for(fake, token="xoxb-sender-1"), interval=INTERVAL)
        second = SlackSender(other, client_for(fake, token="xoxb-sender-2"), interval=INTERVAL)
        await asyncio.gather(first.drain(DRAIN_TIMEOUT), second.drain(DRAIN_TIMEOUT))

        accepted = assert_delivered_once_in_order(fake, expected)
        assert await first.pending() == 0
        by_sender = Counter(call.token for call in accepted_posts(fake))
        print(
            f"[{engine.dialect.name}] two senders: {len(deliveries)} notifications → {len(accepted)} delivered once "
            f"(sender 1: {by_sender['xoxb-sender-1']}, sender 2: {by_sender['xoxb-sender-2']}), 0 duplicated"
        )
    finally:
        await other.dispose()


async def test_a_stopped_sender_leaves_nothing_half_done_and_a_new_one_continues(
    empty_portal: Portal, database: Database, fake: TimedFakeSlack
) -> None:
    engine = empty_portal.engine
    deliveries, expected = lanes_of(20, 10, (ALPHA, BRAVO))
    await add(engine, deliveries)

    await SlackSender(engine, client_for(fake), interval=INTERVAL).drain(timeout=0.15)
    sent_before = len(accepted_posts(fake))
    assert 0 < sent_before < 20
    async with engine.connect() as conn:
        assert list((await conn.execute(select(slack_channels.c.lease_until))).scalars()) == [None, None]

    restarted = create_engine(database.url, **database.engine_options)
    try:
        successor = SlackSender(restarted, client_for(fake), interval=INTERVAL)
        assert await successor.pending() == 20 - sent_before
        await successor.drain(DRAIN_TIMEOUT)
        assert_delivered_once_in_order(fake, expected)
        assert await successor.pending() == 0
        print(f"[{engine.dialect.name}] stopped after {sent_before} of 20; the next sender delivered the rest")
    finally:
        await restarted.dispose()


async def test_a_lane_held_by_a_crashed_sender_resumes_when_its_lease_runs_out(
    empty_portal: Portal, fake: TimedFakeSlack
) -> None:
    engine = empty_portal.engine
    deliveries, expected = lanes_of(6, 3, (ALPHA, BRAVO))
    await add(engine, deliveries)
    async with engine.begin() as conn:  # as if a sender had claimed ALPHA and died during its call
        await conn.execute(
            update(slack_channels)
            .where(slack_channels.c.channel == ALPHA)
            .values(lease_until=datetime.now(UTC) + timedelta(seconds=0.8))
        )

    await SlackSender(engine, client_for(fake), interval=INTERVAL).drain(DRAIN_TIMEOUT)

    assert_delivered_once_in_order(fake, expected)
    calls = fake.calls
    assert calls.index(accepted_posts(fake, BRAVO)[-1]) < calls.index(accepted_posts(fake, ALPHA)[0])


async def test_run_sends_until_stopped(empty_portal: Portal, fake: TimedFakeSlack) -> None:
    engine = empty_portal.engine
    sender = SlackSender(engine, client_for(fake), interval=INTERVAL)
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    try:
        await asyncio.sleep(0.05)  # idle: nothing pending
        await add(engine, [post(ALPHA, "one"), post(ALPHA, "two")])
        sender.wake()
        await fake.wait_for("chat.postMessage", count=2, timeout=5)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=5)
    assert [call.args["text"] for call in accepted_posts(fake)] == ["one", "two"]
    assert await sender.pending() == 0
