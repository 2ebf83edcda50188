"""The use cases on real databases (SQLite always; PostgreSQL when configured), over the demo data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import services
from portal.adapters import tables
from portal.bootstrap import Portal
from portal.domain.actors import Agent, Customer
from portal.domain.eligibility import Outcome
from portal.errors import (
    AlreadyServiceOperator,
    InvalidDescription,
    InvalidTransition,
    MalformedSerial,
    NotEligible,
    NotServiceOperator,
    NotSupportAgent,
    TransferAlreadyPending,
    UnknownAccount,
    UnknownCharger,
    UnknownRequest,
)
from tests.conftest import FrozenClock

ANNA, BEN, CARLA = "anna@voltway.example", "ben@greenfleet.example", "carla@citycharge.example"
ERIN, DAVE = "erin@greenfleet.example", "dave@newcustomer.example"
AGENT = Agent("U_AGENT")

EXPECTED = {
    # account, serial -> outcome, for every demo account and charger, plus the bad inputs
    (ANNA, "ACE0100001"): Outcome.MAY_RAISE,
    (ANNA, "ACE0100002"): Outcome.MAY_RAISE,
    (ANNA, "10001R001"): Outcome.OTHER_OPERATOR,
    (BEN, "ACE0100002"): Outcome.OTHER_OPERATOR,
    (BEN, "10001R002"): Outcome.OTHER_OPERATOR,
    (CARLA, "10001R001"): Outcome.MAY_RAISE,
    (CARLA, "10001r002"): Outcome.MAY_RAISE,
    (CARLA, "ACE0100001"): Outcome.OTHER_OPERATOR,
    (ERIN, "ACE0100002"): Outcome.NOT_YET_SERVICE_CUSTOMER,
    (DAVE, "ACE0100002"): Outcome.NOT_LINKED,
    ("nobody@nowhere.example", "ACE0100002"): Outcome.NO_ACCOUNT,
    (None, "ACE0100002"): Outcome.NO_ACCOUNT,
    (BEN, "ACE01"): Outcome.SERIAL_MALFORMED,
    (BEN, None): Outcome.SERIAL_MALFORMED,
    (BEN, "ACE9999999"): Outcome.CHARGER_UNKNOWN,
}


async def outbox_names(portal: Portal) -> list[str]:
    async with portal.engine.connect() as conn:
        return list(await conn.scalars(select(tables.outbox.c.name).order_by(tables.outbox.c.id)))


async def operator_of(portal: Portal, serial: str) -> str:
    c, o = tables.chargers, tables.organizations
    async with portal.engine.connect() as conn:
        name = await conn.scalar(
            select(o.c.name).join(c, c.c.service_operator_id == o.c.id).where(c.c.serial == serial)
        )
    assert name is not None
    return str(name)


async def test_eligibility_for_every_demo_account_and_charger(portal: Portal) -> None:
    for (email, serial), outcome in EXPECTED.items():
        decision = await services.check_eligibility(portal.uow(), email, serial)
        assert decision.outcome is outcome, (email, serial)


async def test_warranty_and_waiting_time_are_reported(portal: Portal, clock: FrozenClock) -> None:
    old = await services.check_eligibility(portal.uow(), CARLA, "10001R001")
    new = await services.check_eligibility(portal.uow(), CARLA, "10001R002")
    assert (old.in_warranty, new.in_warranty) == (False, True)
    erin = await services.check_eligibility(portal.uow(), ERIN, "ACE0100002")
    assert erin.service_customer_from is not None
    clock.advance(timedelta(hours=23))
    assert (await services.check_eligibility(portal.uow(), ERIN, "ACE0100002")).outcome is Outcome.OTHER_OPERATOR


async def test_service_ticket_records_warranty_and_an_event(portal: Portal) -> None:
    ticket = await services.open_service_ticket(portal.uow(), CARLA, "10001 r001", "Display dark, no charging at all")
    assert ticket.reference == "ST-000001"
    assert ticket.serials == ("10001R001",)
    assert ticket.in_warranty is False
    second = await services.open_service_ticket(portal.uow(), CARLA, "10001R002", "Cable lock stuck on socket 2")
    assert second.reference == "ST-000002"
    assert second.in_warranty is True
    assert await outbox_names(portal) == ["request.opened", "request.opened"]


async def test_the_same_message_asking_twice_files_one_request(portal: Portal) -> None:
    # A message run again after its process died carries the same delivery key: the first request is the answer.
    asked = {"surface": "im", "channel_id": "D0CARLA", "delivery": "event:Ev0AAAAAAAAA"}
    first = await services.open_service_ticket(
        portal.uow(), CARLA, "10001R001", "Display dark, no charging at all", origin=asked
    )
    again = await services.open_service_ticket(
        portal.uow(), CARLA, "10001R001", "Display dark, no charging at all", origin=asked
    )
    other = await services.open_service_ticket(
        portal.uow(),
        CARLA,
        "10001R001",
        "Display dark, no charging at all",
        origin={**asked, "delivery": "event:Ev0BBBBBBBBB"},
    )
    transfer = {**asked, "delivery": "event:Ev0CCCCCCCCC"}
    moved = await services.request_transfer(
        portal.uow(), BEN, ["ACE0100002"], "We operate this charger now", terms_accepted=True, origin=transfer
    )
    moved_again = await services.request_transfer(
        portal.uow(), BEN, ["ACE0100002"], "We operate this charger now", terms_accepted=True, origin=transfer
    )
    admin = {**asked, "delivery": "event:Ev0DDDDDDDDD"}
    changed = await services.open_administrative_request(
        portal.uow(), DAVE, "Please link me to GreenFleet", origin=admin
    )
    changed_again = await services.open_administrative_request(
        portal.uow(), DAVE, "Please link me to GreenFleet", origin=admin
    )
    assert again.reference == first.reference and other.reference != first.reference
    assert moved_again.reference == moved.reference
    assert changed_again.reference == changed.reference
    async with portal.engine.connect() as conn:
        count = len((await conn.execute(select(tables.requests.c.id))).all())
    assert count == 4


async def test_service_ticket_refused_with_the_reason(portal: Portal) -> None:
    with pytest.raises(NotEligible) as refused:
        await services.open_service_ticket(portal.uow(), BEN, "ACE0100002", "It does not start charging")
    assert refused.value.decision.outcome is Outcome.OTHER_OPERATOR
    with pytest.raises(InvalidDescription):
        await services.open_service_ticket(portal.uow(), CARLA, "10001R001", "broken")
    with pytest.raises(InvalidDescription):
        await services.open_service_ticket(portal.uow(), CARLA, "10001R001", "x" * 3001)
    assert await outbox_names(portal) == []


async def test_bens_transfer_from_request_to_his_first_ticket(portal: Portal) -> None:
    transfer = await services.request_transfer(
        portal.uow(), BEN, ["ace0100002"], "Bought from VoltWay in March, invoice attached", terms_accepted=True
    )
    assert (transfer.reference, transfer.status) == ("MT-000001", "awaiting_operator")
    pending = await services.check_eligibility(portal.uow(), BEN, "ACE0100002")
    assert (pending.outcome, pending.own_pending_reference) == (Outcome.TRANSFER_PENDING, "MT-000001")

    with pytest.raises(NotServiceOperator):
        await services.answer_transfer(portal.uow(), CARLA, "MT-000001", consent=True)
    consented = await services.answer_transfer(portal.uow(), ANNA, "mt-000001", consent=True)
    assert consented.status == "awaiting_support"
    with pytest.raises(NotSupportAgent):
        await services.approve_transfer(portal.uow(), Customer(ANNA), "MT-000001")
    approved = await services.approve_transfer(portal.uow(), AGENT, "MT-000001")
    assert approved.status == "completed"
    assert await operator_of(portal, "ACE0100002") == "GreenFleet Logistics"
    with pytest.raises(InvalidTransition):
        await services.approve_transfer(portal.uow(), AGENT, "MT-000001")

    ticket = await services.open_service_ticket(portal.uow(), BEN, "ACE0100002", "Now ours: error E42 on boot")
    assert ticket.reference == "ST-000001"
    assert await outbox_names(portal) == [
        "request.opened",
        "transfer.consented",
        "request.status_changed",
        "request.status_changed",
        "transfer.completed",
        "request.opened",
    ]
    detail = await services.get_request(portal.uow(), Customer(BEN), "MT-000001")
    assert [(h.to_status, h.actor) for h in detail.history] == [
        ("awaiting_operator", f"account:{BEN}"),
        ("awaiting_support", f"account:{ANNA}"),
        ("completed", "agent:U_AGENT"),
    ]
    assert [(line.serial, line.operator, line.answer) for line in detail.lines] == [
        ("ACE0100002", "VoltWay Resellers BV", "consented")
    ]


async def test_transfer_refusals(portal: Portal) -> None:
    with pytest.raises(AlreadyServiceOperator):
        await services.request_transfer(portal.uow(), ANNA, ["ACE0100001"], "move it to us please", terms_accepted=True)
    with pytest.raises(UnknownCharger):
        await services.request_transfer(
            portal.uow(), BEN, ["ACE0100002", "ACE9999999"], "two of them", terms_accepted=True
        )
    with pytest.raises(MalformedSerial):
        await services.request_transfer(portal.uow(), BEN, ["ACE01"], "a bad serial", terms_accepted=True)
    with pytest.raises(NotEligible):
        await services.request_transfer(portal.uow(), DAVE, ["ACE0100002"], "not linked yet", terms_accepted=True)
    await services.request_transfer(portal.uow(), BEN, ["ACE0100002"], "the first request", terms_accepted=True)
    with pytest.raises(TransferAlreadyPending):
        await services.request_transfer(portal.uow(), CARLA, ["ACE0100002"], "a second request", terms_accepted=True)
    assert await outbox_names(portal) == ["request.opened"]


async def test_declined_transfer_frees_the_charger_for_a_new_request(portal: Portal) -> None:
    await services.request_transfer(portal.uow(), BEN, ["ACE0100002"], "first try at this", terms_accepted=True)
    declined = await services.answer_transfer(portal.uow(), ANNA, "MT-000001", consent=False, reason="not sold")
    assert declined.status == "declined_by_operator"
    again = await services.request_transfer(
        portal.uow(), BEN, ["ACE0100002"], "second try, invoice", terms_accepted=True
    )
    assert again.reference == "MT-000002"
    assert await operator_of(portal, "ACE0100002") == "VoltWay Resellers BV"


async def test_stale_transfers_expire_to_support(portal: Portal, clock: FrozenClock) -> None:
    await services.request_transfer(portal.uow(), BEN, ["ACE0100002"], "waiting for anna", terms_accepted=True)
    clock.advance(timedelta(days=13))
    assert await services.expire_stale_transfers(portal.uow(), timedelta(days=14)) == []
    clock.advance(timedelta(days=2))
    assert await services.expire_stale_transfers(portal.uow(), timedelta(days=14)) == ["MT-000001"]
    assert await services.expire_stale_transfers(portal.uow(), timedelta(days=14)) == []
    approved = await services.approve_transfer(portal.uow(), AGENT, "MT-000001", reason="VoltWay unreachable")
    assert approved.status == "completed"


async def test_administrative_request_and_linking(portal: Portal) -> None:
    request = await services.open_administrative_request(
        portal.uow(), DAVE, "Please link me to GreenFleet, I drive their van", ["ace0100002"]
    )
    assert (request.reference, request.serials) == ("AR-000001", ("ACE0100002",))
    with pytest.raises(UnknownAccount):
        await services.open_administrative_request(portal.uow(), "ghost@nowhere.example", "who am I, anyway?")
    with pytest.raises(NotSupportAgent):
        await services.link_account(portal.uow(), Customer(DAVE), DAVE, "GreenFleet Logistics", "AR-000001")
    await services.link_account(portal.uow(), AGENT, DAVE, "GreenFleet Logistics", "AR-000001")
    detail = await services.get_request(portal.uow(), Customer(DAVE), "AR-000001")
    assert detail.summary.status == "resolved"
    assert detail.resolution == "Account linked to GreenFleet Logistics"
    assert [c.serial for c in await services.organization_chargers(portal.uow(), DAVE)] == []
    assert (await services.check_eligibility(portal.uow(), DAVE, "ACE0100002")).outcome is Outcome.OTHER_OPERATOR
    assert "account.linked" in await outbox_names(portal)

    other = await services.open_administrative_request(portal.uow(), BEN, "Rename us to GreenFleet BV please")
    rejected = await services.reject_request(portal.uow(), AGENT, other.reference, "needs a signed form")
    assert rejected.status == "rejected"


async def test_ticket_status_and_assignment_by_agents(portal: Portal) -> None:
    ticket = await services.open_service_ticket(portal.uow(), CARLA, "10001R002", "Socket 2 does not lock")
    await services.assign_request(portal.uow(), AGENT, ticket.reference)
    moved = await services.set_ticket_status(portal.uow(), AGENT, ticket.reference, "in_progress")
    assert moved.status == "in_progress"
    with pytest.raises(InvalidTransition):
        # A service ticket is rejected with a reason (reject_request, issue 16), never by a bare status change.
        await services.set_ticket_status(portal.uow(), AGENT, ticket.reference, "rejected")
    with pytest.raises(NotSupportAgent):
        await services.set_ticket_status(portal.uow(), Customer(CARLA), ticket.reference, "closed")
    detail = await services.get_request(portal.uow(), AGENT, ticket.reference)
    assert (detail.assignee, detail.summary.status) == ("U_AGENT", "in_progress")


async def test_requests_are_visible_only_to_those_concerned(portal: Portal) -> None:
    await services.request_transfer(portal.uow(), BEN, ["ACE0100002"], "we bought this one", terms_accepted=True)
    for viewer in (Customer(BEN), Customer(ERIN), Customer(ANNA), AGENT):  # requester, colleague, current SO, agent
        assert (await services.get_request(portal.uow(), viewer, "MT-000001")).requester_email == BEN
    for viewer in (Customer(CARLA), Customer(DAVE), Customer("ghost@nowhere.example")):
        with pytest.raises(UnknownRequest):
            await services.get_request(portal.uow(), viewer, "MT-000001")
    with pytest.raises(UnknownRequest):
        await services.get_request(portal.uow(), AGENT, "MT-999999")
    assert [r.reference for r in await services.list_requests(portal.uow(), ERIN)] == ["MT-000001"]
    assert await services.list_requests(portal.uow(), CARLA) == []


async def test_organization_chargers_lists_only_the_askers(portal: Portal) -> None:
    carla = await services.organization_chargers(portal.uow(), CARLA)
    assert [(c.serial, c.in_warranty, c.service_operator) for c in carla] == [
        ("10001R001", False, "CityCharge"),
        ("10001R002", True, "CityCharge"),
    ]
    assert await services.organization_chargers(portal.uow(), BEN) == []
