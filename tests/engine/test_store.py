"""The tracker store on real SQLite and PostgreSQL: round trips, restarts, and turns that race.

The PostgreSQL schema is shared by the whole session and conftest empties only the portal's tables, so every test
uses senders of its own and counts conversations relative to where it started.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.engine.store import ConcurrentTurn, NewWindow, TrackerStore
from bot.engine.tables import conversation_events, conversations
from portal.bootstrap import Portal
from tests.conftest import DEMO_NOW, FrozenClock


def new_sender() -> str:
    return f"U{uuid.uuid4().hex}"


def user(text: str, timestamp: float = 1_795_000_000.25) -> dict[str, Any]:
    return {
        "event": "user",
        "timestamp": timestamp,
        "text": text,
        "parse_data": {"intent": {"name": "greet", "confidence": 0.9731}, "entities": []},
        "input_channel": "slack",
        "metadata": {"requester": {"email": "ben@greenfleet.example", "slack_user_id": "U1"}},
    }


def turn(text: str) -> list[dict[str, Any]]:
    return [
        user(text),
        {"event": "action", "name": "utter_greet", "policy": "RulePolicy", "confidence": 1.0},
        {"event": "bot", "text": f"Hi! ({text})", "data": {"buttons": None}},
        {"event": "action", "name": "action_listen"},
    ]


@pytest.fixture
def store(empty_portal: Portal, clock: FrozenClock) -> TrackerStore:
    return TrackerStore(empty_portal.engine, clock)


async def stored_rows(portal: Portal, sender_id: str) -> tuple[int | None, int]:
    """The conversation's event_count (None without a row) and its number of event rows."""
    async with portal.engine.connect() as conn:
        count = await conn.scalar(select(conversations.c.event_count).where(conversations.c.sender_id == sender_id))
        rows = await conn.scalar(
            select(func.count()).select_from(conversation_events).where(conversation_events.c.sender_id == sender_id)
        )
    return count, int(rows or 0)


async def test_a_new_conversation_is_empty(store: TrackerStore) -> None:
    assert await store.load(new_sender()) == []


async def test_events_round_trip_unchanged(store: TrackerStore) -> None:
    sender = new_sender()
    events: list[dict[str, Any]] = [
        {"event": "session_started", "timestamp": 1_795_000_000.0},
        user('Grüße aus Köln \u2013 充电桩坏了 🔌 "quoted" \\ back\nslash'),
        {"event": "slot", "name": "serial", "value": None, "timestamp": 1_795_000_001.123456789},
        {"event": "slot", "name": "serials", "value": ["ACE0100002", "12345R678"]},
        {"event": "slot", "name": "confidence", "value": 0.1 + 0.2},
        {"event": "slot", "name": "tiny", "value": 5e-324},
        {"event": "slot", "name": "big", "value": 2**53 + 1},
        {"event": "active_loop", "name": "service_ticket_form"},
        {"event": "active_loop", "name": None},
        {"event": "bot", "text": "", "data": {"a": {"b": {"c": [1, {"d": [True, False, None]}]}}}, "metadata": {}},
    ]
    assert await store.append(sender, 0, events) == len(events)

    loaded = await store.load(sender)
    assert loaded == events
    assert [list(e) for e in loaded] == [list(e) for e in events]  # key order survives too
    assert loaded[4]["value"] == 0.1 + 0.2  # floats are exact, not rounded by the database
    assert isinstance(loaded[2]["timestamp"], float)


async def test_turns_append_in_order(store: TrackerStore) -> None:
    sender = new_sender()
    count = 0
    expected: list[dict[str, Any]] = []
    for i in range(3):
        events = turn(f"turn {i}")
        count = await store.append(sender, count, events)
        expected += events
        assert count == len(expected)
    assert await store.load(sender) == expected


async def test_appending_nothing_only_checks_the_count(empty_portal: Portal, store: TrackerStore) -> None:
    sender = new_sender()
    assert await store.append(sender, 0, []) == 0
    assert await stored_rows(empty_portal, sender) == (None, 0)  # no empty conversation is created
    await store.append(sender, 0, turn("hello"))
    assert await store.append(sender, 4, []) == 4
    with pytest.raises(ConcurrentTurn):
        await store.append(sender, 3, [])


async def test_a_new_store_on_the_same_database_sees_the_events(empty_portal: Portal, clock: FrozenClock) -> None:
    # A restart: the second store shares nothing with the first but the database.
    sender = new_sender()
    await TrackerStore(empty_portal.engine, clock).append(sender, 0, turn("before the restart"))
    await empty_portal.engine.dispose()

    restarted = TrackerStore(empty_portal.engine, clock)
    assert await restarted.load(sender) == turn("before the restart")
    assert await restarted.append(sender, 4, turn("after the restart")) == 8
    assert await restarted.load(sender) == turn("before the restart") + turn("after the restart")


async def test_timestamps_come_from_the_clock(empty_portal: Portal, store: TrackerStore, clock: FrozenClock) -> None:
    sender = new_sender()
    await store.append(sender, 0, turn("one"))
    clock.advance(timedelta(hours=1))
    await store.append(sender, 4, turn("two"))
    async with empty_portal.engine.connect() as conn:
        row = (
            await conn.execute(
                select(conversations.c.created_at, conversations.c.updated_at).where(
                    conversations.c.sender_id == sender
                )
            )
        ).one()
    assert row.created_at == datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert row.updated_at == datetime(2026, 11, 24, 13, 0, tzinfo=UTC)


async def test_a_stale_count_is_refused_and_writes_nothing(empty_portal: Portal, store: TrackerStore) -> None:
    sender = new_sender()
    await store.append(sender, 0, turn("first"))
    await store.append(sender, 4, turn("second"))

    for stale in (0, 4, 9):
        with pytest.raises(ConcurrentTurn) as raised:
            await store.append(sender, stale, turn(f"stale at {stale}"))
        assert raised.value.sender_id == sender

    assert await stored_rows(empty_portal, sender) == (8, 8)
    assert await store.load(sender) == turn("first") + turn("second")


async def test_also_runs_in_the_appends_transaction_and_not_when_refused(
    empty_portal: Portal, store: TrackerStore
) -> None:
    sender, seen = new_sender(), []

    async def also(conn: AsyncConnection) -> None:
        # Inside the append's transaction: its events are already visible here.
        seen.append(await conn.scalar(select(conversations.c.event_count).where(conversations.c.sender_id == sender)))

    assert await store.append(sender, 0, turn("first"), also=also) == 4
    assert await store.append(sender, 4, [], also=also) == 4
    for stale, events in ((0, turn("stale")), (3, [])):
        with pytest.raises(ConcurrentTurn):
            await store.append(sender, stale, events, also=also)
    assert seen == [4, 4]


async def test_two_concurrent_first_turns_one_wins(empty_portal: Portal, clock: FrozenClock) -> None:
    # Two processes: separate stores, and each append runs on a connection of its own.
    sender = new_sender()
    stores = [TrackerStore(empty_portal.engine, clock) for _ in range(2)]

    async def first_turn(i: int) -> str:
        try:
            await stores[i].append(sender, 0, turn(f"process {i}"))
        except ConcurrentTurn:
            return "refused"
        return f"process {i}"

    results = await asyncio.gather(first_turn(0), first_turn(1))
    assert results.count("refused") == 1
    winner = next(r for r in results if r != "refused")
    assert await stores[0].load(sender) == turn(winner)
    assert await stored_rows(empty_portal, sender) == (4, 4)


async def test_a_first_turn_racing_an_uncommitted_one_is_refused(empty_portal: Portal, store: TrackerStore) -> None:
    # Forces the interleaving the gather above may or may not produce: the other process has created the
    # conversation but not committed yet when our first turn arrives. PostgreSQL makes our INSERT wait on the
    # primary key and then fail; SQLite makes our transaction wait for the write lock, after which the row exists.
    sender = new_sender()
    async with empty_portal.engine.connect() as other:
        await other.begin()
        await other.execute(
            insert(conversations).values(sender_id=sender, event_count=1, created_at=DEMO_NOW, updated_at=DEMO_NOW)
        )
        await other.execute(insert(conversation_events).values(sender_id=sender, seq=0, event=user("theirs")))
        ours = asyncio.create_task(store.append(sender, 0, turn("ours")))
        await asyncio.sleep(0.3)
        assert not ours.done()  # waiting for the other transaction
        await other.commit()

    with pytest.raises(ConcurrentTurn):
        await ours
    assert await store.load(sender) == [user("theirs")]


@pytest.mark.parametrize("expected_count", [0, 4])
async def test_twenty_concurrent_turns_record_exactly_one(
    empty_portal: Portal, clock: FrozenClock, expected_count: int
) -> None:
    sender = new_sender()
    if expected_count:
        await TrackerStore(empty_portal.engine, clock).append(sender, 0, turn("earlier"))
    before = await TrackerStore(empty_portal.engine, clock).load(sender)

    async def take_turn(i: int) -> int | str:
        # Turns of different lengths, so a wrong count would show.
        events = turn(f"process {i}")[: 1 + i % 4]
        try:
            return await TrackerStore(empty_portal.engine, clock).append(sender, expected_count, events)
        except ConcurrentTurn:
            return "refused"

    results = await asyncio.gather(*(take_turn(i) for i in range(20)))
    print(f"20 concurrent turns at count {expected_count} → {20 - results.count('refused')} recorded")
    assert results.count("refused") == 19
    winner = next(i for i, r in enumerate(results) if r != "refused")
    winning_events = turn(f"process {winner}")[: 1 + winner % 4]
    assert results[winner] == expected_count + len(winning_events)

    loaded = await TrackerStore(empty_portal.engine, clock).load(sender)
    assert loaded == before + winning_events
    assert await stored_rows(empty_portal, sender) == (len(loaded), len(loaded))


async def test_delete_forgets_the_conversation(empty_portal: Portal, store: TrackerStore) -> None:
    kept, deleted = new_sender(), new_sender()
    await store.append(kept, 0, turn("keep me"))
    await store.append(deleted, 0, turn("forget me"))

    await store.delete(deleted)
    await store.delete(deleted)  # deleting twice (or something never stored) is harmless
    await store.delete(new_sender())

    assert await store.load(deleted) == []
    assert await stored_rows(empty_portal, deleted) == (None, 0)
    assert await store.load(kept) == turn("keep me")
    # The sender can start over from nothing.
    assert await store.append(deleted, 0, turn("again")) == 4
    assert await store.load(deleted) == turn("again")


async def test_count_counts_conversations(store: TrackerStore) -> None:
    start = await store.count()
    senders = [new_sender() for _ in range(3)]
    for sender in senders:
        await store.append(sender, 0, turn("hello"))
    await store.append(senders[0], 4, turn("again"))  # more events, still one conversation
    assert await store.count() == start + 3
    await store.delete(senders[1])
    assert await store.count() == start + 2


@pytest.mark.parametrize(
    "bad",
    [
        {"event": "user", "timestamp": DEMO_NOW},  # a datetime, not a float
        {"event": "slot", "name": "x", "value": math.nan},  # SQLite would keep it, PostgreSQL would refuse it
        {"event": "slot", "name": "x", "value": {1, 2}},
    ],
)
async def test_events_that_are_not_plain_json_are_refused(
    empty_portal: Portal, store: TrackerStore, bad: dict[str, Any]
) -> None:
    sender = new_sender()
    with pytest.raises(ValueError, match="event 1"):
        await store.append(sender, 0, [user("fine"), bad])
    assert await stored_rows(empty_portal, sender) == (None, 0)


async def test_a_negative_count_is_refused(store: TrackerStore) -> None:
    with pytest.raises(ValueError, match="expected_count"):
        await store.append(new_sender(), -1, turn("hello"))


# ------------------------------------------------------------------------------------- events kept in memory


def count_statements(portal: Portal) -> tuple[list[str], Callable[[], None]]:
    """Every statement on the portal's engine (BEGIN included), and how to stop recording."""
    seen: list[str] = []

    def on_execute(*args: Any) -> None:
        seen.append(str(args[2]).split(None, 1)[0].upper())

    event.listen(portal.engine.sync_engine, "before_cursor_execute", on_execute)
    return seen, lambda: event.remove(portal.engine.sync_engine, "before_cursor_execute", on_execute)


async def test_an_unchanged_conversation_is_not_read_again(empty_portal: Portal, store: TrackerStore) -> None:
    sender = new_sender()
    await store.append(sender, 0, turn("one"))
    await store.append(sender, 4, turn("two"))
    seen, stop = count_statements(empty_portal)
    try:
        loaded = await store.load(sender)
    finally:
        stop()
    assert loaded == turn("one") + turn("two")
    assert seen.count("SELECT") == 1  # the version only, not the events
    # Each load hands out events of its own, as a read from the database does.
    loaded[0]["parse_data"]["intent"]["name"] = "changed by the caller"
    loaded.append({"event": "action", "name": "changed by the caller"})
    assert await store.load(sender) == turn("one") + turn("two")


async def test_events_from_memory_equal_events_from_the_database(empty_portal: Portal, store: TrackerStore) -> None:
    # JSON has no tuples and only string keys: what comes back must be what the database would give.
    sender = new_sender()
    odd = {"event": "slot", "name": "pair", "value": (1, 2.5), "timestamp": 1.0, "map": {1: None}}
    await store.append(sender, 0, [odd])
    fresh = TrackerStore(empty_portal.engine, store._clock)
    assert await store.load(sender) == await fresh.load(sender)
    assert await store.load(sender) == [{**odd, "value": [1, 2.5], "map": {"1": None}}]


async def test_another_process_s_appends_and_deletes_are_seen(
    empty_portal: Portal, store: TrackerStore, clock: FrozenClock
) -> None:
    sender = new_sender()
    other = TrackerStore(empty_portal.engine, clock)
    await store.append(sender, 0, turn("ours"))
    assert await store.load(sender) == turn("ours")
    await other.append(sender, 4, turn("theirs"))
    assert await store.load(sender) == turn("ours") + turn("theirs")
    assert await store.append(sender, 8, turn("ours again")) == 12

    await other.delete(sender)
    assert await store.load(sender) == []
    # Deleted and started again to the same number of events: the creation time tells them apart.
    await store.append(sender, 0, turn("ours"))
    await other.delete(sender)
    clock.advance(timedelta(seconds=1))
    await other.append(sender, 0, turn("a new conversation"))
    assert await store.load(sender) == turn("a new conversation")


async def test_a_refused_append_forgets_what_was_kept(empty_portal: Portal, store: TrackerStore) -> None:
    sender = new_sender()
    await store.append(sender, 0, turn("first"))
    with pytest.raises(ConcurrentTurn):
        await store.append(sender, 2, turn("stale"))
    assert await store.load(sender) == turn("first")
    assert await store.append(sender, 4, turn("second")) == 8
    assert await store.load(sender) == turn("first") + turn("second")


@pytest.mark.parametrize("cache_bytes", [0, 1500])
async def test_memory_stays_within_its_budget(empty_portal: Portal, clock: FrozenClock, cache_bytes: int) -> None:
    store = TrackerStore(empty_portal.engine, clock, cache_bytes=cache_bytes)
    senders = [new_sender() for _ in range(5)]
    for sender in senders:
        await store.append(sender, 0, turn(sender))
        assert store._cache.size <= cache_bytes
    for sender in senders:
        assert await store.load(sender) == turn(sender)
        assert await store.append(sender, 4, turn("more")) == 8
        assert store._cache.size <= cache_bytes


# ------------------------------------------------------------------------------------------------ windows


def snapshot(label: str) -> dict[str, Any]:
    """The store keeps a snapshot as JSON without looking into it (the engine's `Snapshot` is one)."""
    return {"slots": {"serial": label}, "states": [["action_listen", "greet", None, [["serial", True]]]]}


async def stored_window(portal: Portal, sender_id: str) -> tuple[int, Any]:
    async with portal.engine.connect() as conn:
        row = (
            await conn.execute(
                select(conversations.c.window_start, conversations.c.snapshot).where(
                    conversations.c.sender_id == sender_id
                )
            )
        ).one()
    return int(row.window_start), row.snapshot


async def test_a_new_window_is_what_the_next_loads_start_from(
    empty_portal: Portal, store: TrackerStore, clock: FrozenClock
) -> None:
    sender = new_sender()
    await store.append(sender, 0, turn("one") + turn("two"))
    assert await stored_window(empty_portal, sender) == (0, None)  # a conversation starts whole
    window = await store.loading(sender).window()
    assert (window.offset, window.snapshot, window.events) == (0, None, turn("one") + turn("two"))

    assert await store.append(sender, 8, turn("three"), window=NewWindow(4, snapshot("after one"))) == 12
    assert await stored_window(empty_portal, sender) == (4, snapshot("after one"))
    for loader in (store, TrackerStore(empty_portal.engine, clock)):  # from memory, and as a restart reads it
        window = await loader.loading(sender).window()
        assert (window.offset, window.snapshot) == (4, snapshot("after one"))
        assert window.events == turn("two") + turn("three")
        assert window.event_count == 12
        assert await loader.load(sender) == turn("one") + turn("two") + turn("three")  # every event stays stored

    # The next appends extend the window until one moves it again.
    assert await store.append(sender, 12, turn("four")) == 16
    assert (await store.loading(sender).window()).events == turn("two") + turn("three") + turn("four")
    assert await store.append(sender, 16, turn("five"), window=NewWindow(12, snapshot("after three"))) == 20
    window = await TrackerStore(empty_portal.engine, clock).loading(sender).window()
    assert (window.offset, window.snapshot, window.events) == (12, snapshot("after three"), turn("four") + turn("five"))
    assert (await store.loading(sender).window()) == window
    assert await store.load(sender) == [e for n in ("one", "two", "three", "four", "five") for e in turn(n)]


async def test_a_window_reads_only_its_events(store: TrackerStore, clock: FrozenClock, empty_portal: Portal) -> None:
    sender = new_sender()
    count = 0
    for n in range(10):
        count = await store.append(sender, count, turn(f"turn {n}"))
    await store.append(sender, count, turn("last"), window=NewWindow(36, snapshot("late")))
    cold = TrackerStore(empty_portal.engine, clock)
    window = await cold.loading(sender).window()
    assert (cold.reads.from_database, cold.reads.from_memory) == (8, 0)  # 2 turns of the 11 stored
    assert await cold.loading(sender).window() == window
    assert (cold.reads.from_database, cold.reads.from_memory) == (8, 8)  # then from memory


async def test_a_stale_writer_moves_no_window(empty_portal: Portal, clock: FrozenClock) -> None:
    # Two processes loaded the conversation at 8 events; one stores its turn (moving the window), the other's is
    # refused with everything it would have written, its window too.
    sender = new_sender()
    ours, theirs = TrackerStore(empty_portal.engine, clock), TrackerStore(empty_portal.engine, clock)
    await ours.append(sender, 0, turn("one") + turn("two"))
    assert len((await theirs.loading(sender).window()).events) == 8
    await ours.append(sender, 8, turn("ours"), window=NewWindow(4, snapshot("ours")))
    with pytest.raises(ConcurrentTurn):
        await theirs.append(sender, 8, turn("theirs"), window=NewWindow(8, snapshot("theirs")))
    assert await stored_window(empty_portal, sender) == (4, snapshot("ours"))
    assert await stored_rows(empty_portal, sender) == (12, 12)
    window = await theirs.loading(sender).window()  # the refused writer loads again and sees the winner's turn
    assert (window.offset, window.events) == (4, turn("two") + turn("ours"))


async def test_another_process_s_window_and_deletion_are_seen(
    empty_portal: Portal, store: TrackerStore, clock: FrozenClock
) -> None:
    sender = new_sender()
    other = TrackerStore(empty_portal.engine, clock)
    await store.append(sender, 0, turn("one"))
    assert (await store.loading(sender).window()).offset == 0  # now kept in memory
    await other.append(sender, 4, turn("two"), window=NewWindow(4, snapshot("theirs")))
    window = await store.loading(sender).window()
    assert (window.offset, window.snapshot, window.events) == (4, snapshot("theirs"), turn("two"))
    await other.delete(sender)
    window = await store.loading(sender).window()
    assert (window.offset, window.snapshot, window.events) == (0, None, [])


@pytest.mark.parametrize("start", [0, 9])
async def test_a_window_outside_the_conversation_is_refused(
    empty_portal: Portal, store: TrackerStore, start: int
) -> None:
    sender = new_sender()
    await store.append(sender, 0, turn("one"))
    with pytest.raises(ValueError, match="window start"):
        await store.append(sender, 4, turn("two"), window=NewWindow(start, snapshot("x")))
    with pytest.raises(ValueError, match="window start"):
        await store.append(sender, 4, [], window=NewWindow(4, snapshot("x")))  # a window moves with events only
    with pytest.raises(ValueError, match="the snapshot"):
        await store.append(sender, 4, turn("two"), window=NewWindow(4, {"value": math.nan}))
    assert await stored_rows(empty_portal, sender) == (4, 4)
    assert await stored_window(empty_portal, sender) == (0, None)
