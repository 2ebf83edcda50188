"""The overview use cases (one charger, the support queue, an account) on SQLite and PostgreSQL, on demo data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal import services
from portal.bootstrap import Portal
from portal.domain.actors import Agent, Customer
from portal.domain.eligibility import Outcome
from portal.errors import MalformedSerial, UnknownAccount, UnknownCharger
from portal.services.overview import ChargerOverview
from tests.conftest import FrozenClock

ANNA, BEN, CARLA = "anna@voltway.example", "ben@greenfleet.example", "carla@citycharge.example"
ERIN, DAVE = "erin@greenfleet.example", "dave@newcustomer.example"
AGENT = Agent("U_AGENT")
VOLTWAY = "VoltWay Resellers BV"


async def overview(portal: Portal, viewer: Customer | Agent, serial: str) -> ChargerOverview:
    return await services.charger_overview(portal.uow(), viewer, serial)


async def test_the_service_operator_and_agents_see_the_details(portal: Portal) -> None:
    anna = await overview(portal, Customer(ANNA), "ace 010 0002")  # normalised like a label
    assert anna.serial == "ACE0100002"
    assert anna.operated_by_viewer and not anna.managed_elsewhere
    assert anna.details is not None
    assert (anna.details.model, anna.details.service_operator) == ("ACE Single 22 kW", VOLTWAY)
    assert (anna.details.warranty_until, anna.details.in_warranty) == (date(2027, 2, 1), True)
    assert anna.details.open_requests == ()
    assert not anna.can_request_transfer  # it is already hers

    carla = await overview(portal, Customer(CARLA), "10001R001")
    assert carla.details is not None and carla.details.in_warranty is False  # shipped 2022

    for serial in ("ACE0100001", "ACE0100002", "10001R001", "10001R002"):
        seen = await overview(portal, AGENT, serial)
        assert seen.details is not None, serial
        assert not seen.operated_by_viewer and not seen.can_request_transfer and seen.account_problem is None


async def test_anyone_else_learns_only_that_another_organization_manages_it(portal: Portal) -> None:
    ben = await overview(portal, Customer(BEN), "ACE0100002")
    assert ben.managed_elsewhere and ben.details is None
    assert VOLTWAY not in repr(ben)  # no name, no warranty, no requests anywhere in the value
    assert (ben.can_request_transfer, ben.transfer_pending, ben.own_pending_reference) == (True, False, None)
    assert ben.account_problem is None

    dave = await overview(portal, Customer(DAVE), "ACE0100002")
    assert dave.details is None and not dave.can_request_transfer
    assert dave.account_problem is not None and dave.account_problem.outcome is Outcome.NOT_LINKED
    erin = await overview(portal, Customer(ERIN), "ACE0100002")
    assert erin.account_problem is not None and erin.account_problem.outcome is Outcome.NOT_YET_SERVICE_CUSTOMER
    nobody = await overview(portal, Customer("nobody@nowhere.example"), "ACE0100002")
    assert nobody.details is None and not nobody.can_request_transfer
    assert nobody.account_problem is not None and nobody.account_problem.outcome is Outcome.NO_ACCOUNT


async def test_malformed_and_unknown_serials(portal: Portal) -> None:
    with pytest.raises(MalformedSerial):
        await overview(portal, Customer(BEN), "ACE01")
    with pytest.raises(UnknownCharger) as unknown:
        await overview(portal, AGENT, "ace9999999")
    assert unknown.value.serial == "ACE9999999"


async def test_a_pending_transfer_shows_to_each_as_they_may_see_it(portal: Portal) -> None:
    await services.request_transfer(
        portal.uow(), BEN, ["ACE0100002"], "Bought from VoltWay in March, invoice attached", terms_accepted=True
    )
    ben = await overview(portal, Customer(BEN), "ACE0100002")
    assert (ben.transfer_pending, ben.own_pending_reference, ben.can_request_transfer) == (True, "MT-000001", False)
    carla = await overview(portal, Customer(CARLA), "ACE0100002")
    assert (carla.transfer_pending, carla.own_pending_reference, carla.can_request_transfer) == (True, None, False)
    anna = await overview(portal, Customer(ANNA), "ACE0100002")
    assert anna.details is not None
    assert [(r.reference, r.status) for r in anna.details.open_requests] == [("MT-000001", "awaiting_operator")]


async def test_after_a_transfer_the_new_operator_sees_the_charger_but_not_older_requests(portal: Portal) -> None:
    # Dave's administrative request names the charger while VoltWay operates it: VoltWay's business, not GreenFleet's.
    admin = await services.open_administrative_request(
        portal.uow(), DAVE, "Please link me to GreenFleet, I manage their site", ["ACE0100002"]
    )
    await services.request_transfer(
        portal.uow(), BEN, ["ACE0100002"], "Bought from VoltWay in March, invoice attached", terms_accepted=True
    )
    await services.answer_transfer(portal.uow(), ANNA, "MT-000001", consent=True)
    await services.approve_transfer(portal.uow(), AGENT, "MT-000001")

    ben = await overview(portal, Customer(BEN), "ACE0100002")
    assert ben.details is not None and ben.details.service_operator == "GreenFleet Logistics"
    assert ben.details.open_requests == ()  # the completed transfer is not open; dave's request is not his to see
    anna = await overview(portal, Customer(ANNA), "ACE0100002")
    assert anna.details is None and anna.can_request_transfer
    agent = await overview(portal, AGENT, "ACE0100002")
    assert agent.details is not None
    assert [r.reference for r in agent.details.open_requests] == [admin.reference]


async def test_the_support_queue_holds_what_waits_for_support_oldest_first(portal: Portal, clock: FrozenClock) -> None:
    assert await services.support_queue(portal.uow()) == []
    await services.request_transfer(
        portal.uow(), BEN, ["ACE0100002"], "Bought from VoltWay in March, invoice attached", terms_accepted=True
    )
    clock.advance(timedelta(minutes=5))
    ticket = await services.open_service_ticket(portal.uow(), CARLA, "10001R001", "Display dark, no charging at all")
    clock.advance(timedelta(minutes=5))
    admin = await services.open_administrative_request(portal.uow(), DAVE, "Please link me to NewCustomer Ltd")
    clock.advance(timedelta(minutes=5))
    # A transfer waiting for the current Service Operator is not support's yet.
    assert [r.reference for r in await services.support_queue(portal.uow())] == [ticket.reference, admin.reference]

    await services.answer_transfer(portal.uow(), ANNA, "MT-000001", consent=True)
    queue = await services.support_queue(portal.uow())
    assert [(r.reference, r.kind, r.status) for r in queue] == [
        ("MT-000001", "transfer", "awaiting_support"),  # opened first, so first in line
        (ticket.reference, "service_ticket", "open"),
        (admin.reference, "administrative", "open"),
    ]

    await services.set_ticket_status(portal.uow(), AGENT, ticket.reference, "in_progress")
    await services.resolve_administrative_request(portal.uow(), AGENT, admin.reference, "Linked to NewCustomer Ltd")
    await services.approve_transfer(portal.uow(), AGENT, "MT-000001")
    queue = await services.support_queue(portal.uow())
    assert [(r.reference, r.status) for r in queue] == [(ticket.reference, "in_progress")]


async def test_an_expired_transfer_waits_for_support(portal: Portal, clock: FrozenClock) -> None:
    await services.request_transfer(
        portal.uow(), BEN, ["ACE0100002"], "Bought from VoltWay in March, invoice attached", terms_accepted=True
    )
    clock.advance(timedelta(days=15))
    assert await services.expire_stale_transfers(portal.uow(), timedelta(days=14)) == ["MT-000001"]
    assert [(r.reference, r.status) for r in await services.support_queue(portal.uow())] == [("MT-000001", "expired")]


async def test_account_overview(portal: Portal) -> None:
    await services.request_transfer(
        portal.uow(), BEN, ["ACE0100002"], "Bought from VoltWay in March, invoice attached", terms_accepted=True
    )
    ticket = await services.open_service_ticket(portal.uow(), CARLA, "10001R002", "Cable lock stuck on socket 2")

    carla = await services.account_overview(portal.uow(), "Carla@CityCharge.example ")
    assert (carla.email, carla.organization, carla.service_customer) == (CARLA, "CityCharge", True)
    assert [(c.serial, c.in_warranty, c.service_operator) for c in carla.chargers] == [
        ("10001R001", False, "CityCharge"),
        ("10001R002", True, "CityCharge"),
    ]
    assert [r.reference for r in carla.requests] == [ticket.reference]
    assert carla.awaiting_our_answer == ()

    ben = await services.account_overview(portal.uow(), BEN)
    assert ben.chargers == ()  # ACE0100002 is at GreenFleet's site but VoltWay operates it
    assert [(r.reference, r.status) for r in ben.requests] == [("MT-000001", "awaiting_operator")]
    anna = await services.account_overview(portal.uow(), ANNA)
    assert [c.serial for c in anna.chargers] == ["ACE0100001", "ACE0100002"]
    assert anna.requests == ()
    assert [r.reference for r in anna.awaiting_our_answer] == ["MT-000001"]  # her consent is asked

    dave = await services.account_overview(portal.uow(), DAVE)
    assert (dave.organization, dave.chargers, dave.requests, dave.service_customer) == (None, (), (), True)
    erin = await services.account_overview(portal.uow(), ERIN)
    assert erin.organization == "GreenFleet Logistics" and erin.service_customer is False
    assert erin.service_customer_from > portal.clock()
    with pytest.raises(UnknownAccount):
        await services.account_overview(portal.uow(), "nobody@nowhere.example")
    with pytest.raises(UnknownAccount):
        await services.account_overview(portal.uow(), None)
