"""The same intent filing at the same moment, twice or more: one request, and every run is answered with it."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from portal import services
from portal.adapters import tables
from portal.bootstrap import Portal
from portal.domain.conversation import Line
from portal.services.handoff import HANDOFF_EVENT

ORIGIN = {"key": "form:T0HOME:D0CARLA:-:U0CARLA:1795800000.0:9", "delivery": None}


async def test_one_intent_filed_five_times_at_once_files_one_request(portal: Portal) -> None:
    async def file() -> str:
        ticket = await services.open_service_ticket(
            portal.uow(), "carla@citycharge.example", "10001R002", "Socket 2 will not lock the cable", origin=ORIGIN
        )
        return ticket.reference

    references = await asyncio.gather(*(file() for _ in range(5)))
    filed = await services.list_requests(portal.uow(), "carla@citycharge.example")
    print(f"one intent filed 5 times at once → {len(filed)} request, answers {sorted(set(references))}")
    assert [r.reference for r in filed] == ["ST-000001"]
    assert references == ["ST-000001"] * 5
    assert (await services.filed_under(portal.uow(), [ORIGIN["key"]])) is not None


async def test_a_handoff_without_an_account_told_again_and_at_once_records_one_event(portal: Portal) -> None:
    """Nothing is filed for someone without an account, but their handoff is told to support once per intent, the
    way a request is filed once: a redelivered message or a retried turn finds the event it recorded."""
    origin = {"slack_user_id": "U0GHOST", "slack_team_id": "T0HOME", "channel_id": "D0GHOST", "delivery": "ev:Ev01"}
    lines = [Line("customer", "can I talk to a real person please")]
    await services.ask_for_person(portal.uow(), None, lines, origin)
    await asyncio.gather(*(services.ask_for_person(portal.uow(), None, lines, origin) for _ in range(3)))
    async with portal.engine.connect() as conn:
        keys = (
            await conn.execute(select(tables.outbox.c.origin_key).where(tables.outbox.c.name == HANDOFF_EVENT))
        ).all()
    print(f"one handoff without an account asked 4 times → {len(keys)} event")
    assert [k for (k,) in keys] == ["ev:Ev01"]

    # Another delivery is another intent: asked again later, support hears again.
    await services.ask_for_person(portal.uow(), None, lines, {**origin, "delivery": "ev:Ev02"})
    async with portal.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).where(tables.outbox.c.name == HANDOFF_EVENT)) == 2
