"""The same intent filing at the same moment, twice or more: one request, and every run is answered with it."""

from __future__ import annotations

import asyncio

from portal import services
from portal.bootstrap import Portal

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
