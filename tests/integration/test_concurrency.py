"""Concurrent use cases on one request: exactly one outcome, whatever the interleaving.

PostgreSQL serializes them with row locks; SQLite with BEGIN IMMEDIATE. Both run here.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from portal import services
from portal.adapters import tables
from portal.bootstrap import Portal
from portal.domain.actors import Agent
from portal.errors import PortalError, TransferAlreadyPending

BEN, ANNA, CARLA = "ben@greenfleet.example", "anna@voltway.example", "carla@citycharge.example"


async def scalar(portal: Portal, query: object) -> int:
    async with portal.engine.connect() as conn:
        return int(await conn.scalar(query) or 0)  # type: ignore[call-overload]


async def test_twenty_concurrent_decisions_record_exactly_one(portal: Portal) -> None:
    await services.request_transfer(portal.uow(), BEN, ["ACE0100002"], "bought from VoltWay", terms_accepted=True)
    await services.answer_transfer(portal.uow(), ANNA, "MT-000001", consent=True)
    events_before = await scalar(portal, select(func.count()).select_from(tables.outbox))

    async def decide(i: int) -> str:
        agent = Agent(f"U_AGENT_{i}")
        try:
            if i % 2:
                return (await services.approve_transfer(portal.uow(), agent, "MT-000001")).status
            return (await services.reject_request(portal.uow(), agent, "MT-000001", f"agent {i} says no")).status
        except PortalError as error:
            return type(error).__name__

    results = await asyncio.gather(*(decide(i) for i in range(20)))
    decided = [r for r in results if r in ("completed", "rejected")]
    print(
        f"20 concurrent decisions → {len(decided)} recorded ({decided[0]}), "
        f"{results.count('InvalidTransition')} refused"
    )
    assert len(decided) == 1
    assert results.count("InvalidTransition") == 19

    t = tables.request_transitions
    final = await scalar(portal, select(func.count()).where(t.c.to_status.in_(["completed", "rejected"])))
    assert final == 1
    c = tables.chargers
    version = await scalar(portal, select(c.c.version).where(c.c.serial == "ACE0100002"))
    assert version == (2 if decided[0] == "completed" else 1)  # the charger moved at most once
    o = tables.outbox
    new_events = await scalar(portal, select(func.count()).where(o.c.id > events_before))
    assert new_events == (2 if decided[0] == "completed" else 1)  # status change (+ transfer.completed)


async def test_concurrent_transfer_requests_on_one_charger_create_one(portal: Portal) -> None:
    async def request(i: int) -> str:
        email = BEN if i % 2 else CARLA
        try:
            return (
                await services.request_transfer(
                    portal.uow(), email, ["ACE0100002"], f"transfer attempt {i}", terms_accepted=True
                )
            ).reference
        except TransferAlreadyPending:
            return "pending"

    results = await asyncio.gather(*(request(i) for i in range(10)))
    assert results.count("pending") == 9
    rc = tables.request_chargers
    assert await scalar(portal, select(func.count()).where(rc.c.holds_transfer)) == 1


async def test_concurrent_tickets_get_distinct_references(portal: Portal) -> None:
    results = await asyncio.gather(
        *(services.open_service_ticket(portal.uow(), CARLA, "10001R002", f"fault report number {i}") for i in range(20))
    )
    references = sorted(r.reference for r in results)
    assert references == [f"ST-{i:06d}" for i in range(1, 21)]
