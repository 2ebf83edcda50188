"""Row leases on real SQLite and PostgreSQL: the one claim mechanism (`RowLease`), and the conversation leases built
on it (one holder at a time, crashed holders, and the release that rides along in another transaction).

Two `Leases` (or two owners of a `RowLease`) on one database stand for two processes.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select

from bot.engine.leases import Lease, Leases, RowLease, TurnBusy
from bot.engine.tables import conversation_leases
from bot.slack.tables import slack_channels
from portal.bootstrap import Portal


def new_sender() -> str:
    return f"U{uuid.uuid4().hex}"


async def rows(portal: Portal, sender_id: str) -> int:
    """How many lease rows the conversation has."""
    async with portal.engine.connect() as conn:
        leases = await conn.scalar(
            select(func.count()).select_from(conversation_leases).where(conversation_leases.c.sender_id == sender_id)
        )
    return int(leases or 0)


async def test_one_holder_at_a_time_across_processes(empty_portal: Portal) -> None:
    first, second = Leases(empty_portal.engine), Leases(empty_portal.engine)
    sender = new_sender()
    order: list[str] = []

    async def turn(leases: Leases, name: str, started: asyncio.Event | None = None) -> None:
        async with leases.hold(sender):
            order.append(f"{name} in")
            if started is not None:
                started.set()
            await asyncio.sleep(0.05)
            order.append(f"{name} out")

    started = asyncio.Event()
    one = asyncio.create_task(turn(first, "first", started))
    await started.wait()
    await turn(second, "second")
    await one
    assert order == ["first in", "first out", "second in", "second out"]
    assert await rows(empty_portal, sender) == 0


async def test_a_crashed_holders_lease_stops_counting_after_the_ttl(empty_portal: Portal) -> None:
    sender = new_sender()
    clock = {"now": datetime(2026, 1, 1, tzinfo=UTC)}

    def now() -> datetime:
        return clock["now"]

    crashed = Leases(empty_portal.engine, ttl=timedelta(seconds=6), now=now)
    # A holder that never releases (its process died): its lease row stays behind.
    assert await crashed._acquire(Lease(crashed.rows, sender, "dead"), None)
    survivor = Leases(empty_portal.engine, ttl=timedelta(seconds=6), wait=0.2, now=now)
    with pytest.raises(TurnBusy):
        async with survivor.hold(sender):
            raise AssertionError("took a lease that is still held")
    clock["now"] += timedelta(seconds=7)
    async with survivor.hold(sender):
        pass
    assert await rows(empty_portal, sender) == 0


async def test_the_heartbeat_keeps_a_long_turn_s_lease(empty_portal: Portal) -> None:
    sender = new_sender()
    ttl = timedelta(seconds=0.3)
    holder, other = Leases(empty_portal.engine, ttl=ttl), Leases(empty_portal.engine, ttl=ttl, wait=0.1)
    async with holder.hold(sender):
        await asyncio.sleep(0.6)  # two ttls: without renewals the lease would have run out
        with pytest.raises(TurnBusy):
            async with other.hold(sender):
                raise AssertionError("took a lease its holder is still renewing")
    assert await rows(empty_portal, sender) == 0


def count_transactions(portal: Portal) -> tuple[list[str], Callable[[], None]]:
    begun: list[str] = []

    def on_begin(_conn: Any) -> None:
        begun.append("BEGIN")

    event.listen(portal.engine.sync_engine, "begin", on_begin)
    return begun, lambda: event.remove(portal.engine.sync_engine, "begin", on_begin)


async def test_a_release_inside_the_holders_transaction_saves_one(empty_portal: Portal) -> None:
    leases, sender = Leases(empty_portal.engine), new_sender()
    begun, stop = count_transactions(empty_portal)
    try:
        async with leases.hold(sender) as lease, empty_portal.engine.begin() as conn:
            await lease.release(conn)
    finally:
        stop()
    assert begun == ["BEGIN"] * 2  # the lease, the holder's own transaction: no release of its own
    assert await rows(empty_portal, sender) == 0


async def test_a_release_whose_transaction_failed_is_done_again(empty_portal: Portal) -> None:
    leases, sender = Leases(empty_portal.engine), new_sender()

    async def failing_turn() -> None:
        async with leases.hold(sender) as lease, empty_portal.engine.begin() as conn:
            await lease.release(conn)
            raise RuntimeError("the append failed after the release: its transaction rolls back")

    with pytest.raises(RuntimeError):
        await failing_turn()
    assert await rows(empty_portal, sender) == 0
    async with Leases(empty_portal.engine, wait=0.5).hold(sender):  # free for the next turn at once
        pass


# ---------------------------------------------------------------- RowLease: the mechanism itself, on a lane row


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def new_lane(portal: Portal, clock: Clock) -> tuple[RowLease, Any]:
    lane = f"C{uuid.uuid4().hex[:12]}"
    async with portal.engine.begin() as conn:
        await conn.execute(insert(slack_channels).values(channel=lane, next_send_at=clock()))
    lanes = RowLease(
        slack_channels, slack_channels.c.lease_owner, slack_channels.c.lease_until, timedelta(seconds=6), clock
    )
    return lanes, slack_channels.c.channel == lane


async def affected(portal: Portal, statement: Any) -> int:
    async with portal.engine.begin() as conn:
        return int((await conn.execute(statement)).rowcount)


async def holder_of(portal: Portal, where: Any) -> str | None:
    async with portal.engine.connect() as conn:
        owner = await conn.scalar(select(slack_channels.c.lease_owner).where(where))
    return None if owner is None else str(owner)


async def test_of_two_racing_for_a_row_exactly_one_gets_it(empty_portal: Portal) -> None:
    clock = Clock()
    lanes, lane = await new_lane(empty_portal, clock)
    won = await asyncio.gather(*(affected(empty_portal, lanes.take(owner, lane)) for owner in ("a", "b")))
    assert sorted(won) == [0, 1]
    assert await holder_of(empty_portal, lane) == ("a" if won[0] else "b")


async def test_of_two_racing_to_create_and_take_a_row_exactly_one_gets_it(empty_portal: Portal) -> None:
    rows_ = Leases(empty_portal.engine).rows
    key = {"sender_id": new_sender()}
    dialect = empty_portal.engine.dialect.name
    won = await asyncio.gather(*(affected(empty_portal, rows_.take_or_insert(dialect, o, key)) for o in ("a", "b")))
    assert sorted(won) == [0, 1]


async def test_only_the_holder_renews_or_gives_back_and_an_expired_lease_is_free(empty_portal: Portal) -> None:
    clock = Clock()
    lanes, lane = await new_lane(empty_portal, clock)
    assert await affected(empty_portal, lanes.take("a", lane)) == 1
    assert await affected(empty_portal, lanes.take("b", lane)) == 0  # held
    assert await affected(empty_portal, lanes.renew("b", lane)) == 0  # not b's to renew
    assert await affected(empty_portal, lanes.release("b", lane)) == 0  # nor to give back
    assert await affected(empty_portal, lanes.drop("b", lane)) == 0
    clock.now += timedelta(seconds=5)
    assert await affected(empty_portal, lanes.renew("a", lane)) == 1  # now good until 11 s
    clock.now += timedelta(seconds=5)
    assert await affected(empty_portal, lanes.take("b", lane)) == 0  # renewed, so still a's
    clock.now += timedelta(seconds=7)
    assert await affected(empty_portal, lanes.take("b", lane)) == 1  # a stopped renewing: free
    assert await affected(empty_portal, lanes.renew("a", lane)) == 0  # a lost it and cannot get it back so
    assert await affected(empty_portal, lanes.release("a", lane)) == 0
    assert await holder_of(empty_portal, lane) == "b"
    assert await affected(empty_portal, lanes.release("b", lane)) == 1
    assert await holder_of(empty_portal, lane) is None
    assert await affected(empty_portal, lanes.take("a", lane)) == 1  # given back: free at once
