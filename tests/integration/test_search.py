"""The agents' search and the notifiers' "requests under way on these chargers", on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal import services
from portal.bootstrap import Portal
from portal.domain.actors import Agent, Customer
from portal.errors import NotSupportAgent
from portal.services.search import QUERY_MAX, SEARCH_MAX, SearchTooLong
from tests.conftest import FrozenClock

ANNA, BEN, CARLA = "anna@voltway.example", "ben@greenfleet.example", "carla@citycharge.example"
AGENT = Agent("U_AGENT")


async def references(portal: Portal, query: str, limit: int = 25) -> list[str]:
    return [i.request.reference for i in await services.search_requests(portal.uow(), AGENT, query, limit)]


@pytest.fixture
async def filed(portal: Portal, clock: FrozenClock) -> list[str]:
    """ST-000001 (CityCharge, 10001R001), then ST-000002 (VoltWay, ACE0100002), then MT-000001 (GreenFleet asks for
    ACE0100002), an hour apart."""
    first = await services.open_service_ticket(portal.uow(), CARLA, "10001R001", "Display dark, no charging at all")
    clock.advance(timedelta(hours=1))
    second = await services.open_service_ticket(portal.uow(), ANNA, "ACE0100002", "Cable lock stuck on socket 2")
    clock.advance(timedelta(hours=1))
    transfer = await services.request_transfer(
        portal.uow(), BEN, ["ACE0100002"], "We bought it from VoltWay, please move it", terms_accepted=True
    )
    return [first.reference, second.reference, transfer.reference]


async def test_a_reference_as_people_type_it(portal: Portal, filed: list[str]) -> None:
    for typed in ("ST-000002", "st 2", "st2", "  ST-2 ", "ticket st-2 please"):
        assert await references(portal, typed) == ["ST-000002"], typed
    [item] = await services.search_requests(portal.uow(), AGENT, "mt 1")
    assert (item.request.reference, item.request.kind, item.organization) == (
        "MT-000001",
        "transfer",
        "GreenFleet Logistics",
    )
    assert item.request.status == "awaiting_operator" and item.assignee is None


async def test_a_serial_as_people_type_it_newest_first(portal: Portal, filed: list[str]) -> None:
    for typed in ("ACE0100002", "ace 010 0002", "ACE-0100002", "ACEO1OOOO2"):  # the last read off a label
        assert await references(portal, typed) == ["MT-000001", "ST-000002"], typed
    assert await references(portal, "10001 r 001") == ["ST-000001"]


async def test_part_of_an_organization_name_case_insensitive(portal: Portal, filed: list[str]) -> None:
    assert await references(portal, "voltway") == ["ST-000002"]
    assert await references(portal, "  CITYcharge ") == ["ST-000001"]
    assert await references(portal, "green") == ["MT-000001"]
    assert await references(portal, "e") == []  # one letter is not a search


async def test_like_wildcards_are_literal(portal: Portal, filed: list[str]) -> None:
    for typed in ("%", "%%", "_", "__", "Volt_ay", "Volt%", "%a%", "\\", "\\%"):
        assert await references(portal, typed) == [], typed


async def test_nothing_found_and_nonsense(portal: Portal, filed: list[str]) -> None:
    for typed in ("", "   ", "ST-999", "ACE9999999", "nobody inc", "a\x00b", "\ud800x", "\x1b[2J"):
        assert await references(portal, typed) == [], repr(typed)


async def test_bounded_and_too_long_refused(portal: Portal, filed: list[str]) -> None:
    assert await references(portal, "ACE0100002", limit=1) == ["MT-000001"]
    assert len(await references(portal, "ACE0100002", limit=10_000)) <= SEARCH_MAX
    assert await references(portal, "x" * QUERY_MAX) == []
    with pytest.raises(SearchTooLong):
        await references(portal, "x" * (QUERY_MAX + 1))


async def test_agents_only(portal: Portal, filed: list[str]) -> None:
    with pytest.raises(NotSupportAgent):
        await services.search_requests(portal.uow(), Customer(ANNA), "ST-000002")


async def test_open_requests_naming_chargers(portal: Portal, filed: list[str]) -> None:
    naming = services.open_requests_naming
    assert await naming(portal.uow(), ["ACE0100002"]) == ["ST-000002", "MT-000001"]  # oldest first
    assert await naming(portal.uow(), ["ACE0100002"], excluding="MT-000001") == ["ST-000002"]
    assert await naming(portal.uow(), ["ACE0100001"]) == [] and await naming(portal.uow(), []) == []
    await services.reject_request(portal.uow(), AGENT, "ST-000002", "not ours")
    assert await naming(portal.uow(), ["ACE0100002", "10001R001"]) == ["ST-000001", "MT-000001"]  # closed: left out
