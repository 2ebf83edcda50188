"""Conversation leases on real SQLite and PostgreSQL: one holder at a time, order keys, crashed holders, and the
release that rides along in another transaction.

Two `Leases` on one database stand for two processes.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select

from bot.engine.leases import Lease, Leases, TurnBusy, conversation_leases, conversation_tickets
from portal.bootstrap import Portal


def new_sender() -> str:
    return f"U{uuid.uuid4().hex}"


async def rows(portal: Portal, sender_id: str) -> tuple[int, int]:
    """How many lease rows and ticket rows the conversation has."""
    async with portal.engine.connect() as conn:
        leases = await conn.scalar(
            select(func.count()).select_from(conversation_leases).where(conversation_leases.c.sender_id == sender_id)
        )
        tickets = await conn.scalar(
            select(func.count()).select_from(conversation_tickets).where(conversation_tickets.c.sender_id == sender_id)
        )
    return int(leases or 0), int(tickets or 0)


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
    assert await rows(empty_portal, sender) == (0, 0)


async def test_order_keys_run_in_order_whichever_process_got_them(empty_portal: Portal) -> None:
    processes = [Leases(empty_portal.engine), Leases(empty_portal.engine)]
    sender = new_sender()
    ran: list[str] = []
    inside = asyncio.Event()

    async def turn(leases: Leases, key: str) -> None:
        async with leases.hold(sender, key):
            ran.append(key)
            inside.set()
            await asyncio.sleep(0.03)

    # "0002" holds the lease when "0001" (earlier) and "0003" arrive at the other process; "0001" still goes first.
    holder = asyncio.create_task(turn(processes[0], "0002"))
    await inside.wait()
    later = asyncio.create_task(turn(processes[1], "0003"))
    await asyncio.sleep(0.01)
    earlier = asyncio.create_task(turn(processes[1], "0001"))
    await asyncio.gather(holder, later, earlier)
    assert ran == ["0002", "0001", "0003"]
    assert await rows(empty_portal, sender) == (0, 0)


async def test_a_crashed_holders_lease_and_ticket_stop_counting_after_the_ttl(empty_portal: Portal) -> None:
    sender = new_sender()
    clock = {"now": datetime(2026, 1, 1, tzinfo=UTC)}

    def now() -> datetime:
        return clock["now"]

    crashed = Leases(empty_portal.engine, ttl=timedelta(seconds=6), now=now)
    # A holder that never releases (its process died): its lease row and its ticket stay behind.
    assert await crashed._acquire(Lease(sender, "dead", "0001"), first=True)
    survivor = Leases(empty_portal.engine, ttl=timedelta(seconds=6), wait=0.2, now=now)
    with pytest.raises(TurnBusy):
        async with survivor.hold(sender, "0002"):
            raise AssertionError("took a lease that is still held")
    clock["now"] += timedelta(seconds=7)
    async with survivor.hold(sender, "0003"):
        pass
    assert await rows(empty_portal, sender) == (0, 1)  # only the dead holder's expired ticket is left


async def test_the_heartbeat_keeps_a_long_turn_s_lease(empty_portal: Portal) -> None:
    sender = new_sender()
    ttl = timedelta(seconds=0.3)
    holder, other = Leases(empty_portal.engine, ttl=ttl), Leases(empty_portal.engine, ttl=ttl, wait=0.1)
    async with holder.hold(sender, "0001"):
        await asyncio.sleep(0.6)  # two ttls: without renewals the lease would have run out
        with pytest.raises(TurnBusy):
            async with other.hold(sender):
                raise AssertionError("took a lease its holder is still renewing")
    assert await rows(empty_portal, sender) == (0, 0)


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
        async with leases.hold(sender, "0001") as lease, empty_portal.engine.begin() as conn:
            await lease.release(conn)
    finally:
        stop()
    assert begun == ["BEGIN"] * 3  # the ticket, the lease, the holder's own transaction: no release of its own
    assert await rows(empty_portal, sender) == (0, 0)


async def test_a_release_whose_transaction_failed_is_done_again(empty_portal: Portal) -> None:
    leases, sender = Leases(empty_portal.engine), new_sender()

    async def failing_turn() -> None:
        async with leases.hold(sender, "0001") as lease, empty_portal.engine.begin() as conn:
            await lease.release(conn)
            raise RuntimeError("the append failed after the release: its transaction rolls back")

    with pytest.raises(RuntimeError):
        await failing_turn()
    assert await rows(empty_portal, sender) == (0, 0)
    async with Leases(empty_portal.engine, wait=0.5).hold(sender):  # free for the next turn at once
        pass
