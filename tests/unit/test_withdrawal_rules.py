"""Withdrawing a request (issue 13 §8): who may, from which states, and what it records."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.domain.actors import Agent
from portal.domain.administrative import AdministrativeRequest, AdminStatus
from portal.domain.requests import find_reference
from portal.domain.service_tickets import ServiceTicket, TicketStatus
from portal.domain.transfers import TransferRequest, TransferStatus
from portal.errors import InvalidTransition, NotRequester
from tests.unit.factories import CITYCHARGE, NOW, VOLTWAY, account, anna, ben, carla, charger

AGENT = Agent("U_AGENT", "Sam")
LATER = NOW + timedelta(hours=1)
carla_colleague = account("chris@citycharge.example", CITYCHARGE)
dave = account("dave@nowhere.example", None)
erin = account("erin@nowhere.example", None)


def ticket() -> ServiceTicket:
    return ServiceTicket.open("ST-000001", carla, charger("10001R001", CITYCHARGE, date(2025, 5, 1)), "no power", NOW)


def transfer() -> TransferRequest:
    chargers = [charger("ACE0100002", VOLTWAY)]
    return TransferRequest.open("MT-000001", ben, chargers, "we bought it from VoltWay", NOW, terms_accepted=True)


def test_the_requester_withdraws_an_open_ticket_with_who_when_and_why_in_its_history() -> None:
    t = ticket()
    t.withdraw(carla, LATER, "it works again after a restart")
    assert t.status == TicketStatus.WITHDRAWN and t.is_closed
    last = t.history[-1]
    assert (last.from_status, last.to_status, last.actor, last.at, last.reason) == (
        "open",
        "withdrawn",
        "account:carla@citycharge.example",
        LATER,
        "it works again after a restart",
    )
    event = t.events[-1]
    assert event.name == "request.status_changed"
    assert event.payload["status"] == "withdrawn" and event.payload["actor"] == "account:carla@citycharge.example"


def test_a_ticket_in_progress_can_be_withdrawn_but_not_once_resolved_or_closed() -> None:
    t = ticket()
    t.set_status(AGENT, TicketStatus.IN_PROGRESS, NOW)
    t.withdraw(carla, LATER)
    assert t.status == TicketStatus.WITHDRAWN
    for decided in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        other = ticket()
        other.set_status(AGENT, decided, NOW)
        with pytest.raises(InvalidTransition) as refused:
            other.withdraw(carla, LATER)
        assert refused.value.status == decided and other.status == decided


def test_a_colleague_of_the_same_organization_may_withdraw_anyone_else_may_not() -> None:
    t = ticket()
    for stranger in (anna, ben, dave):
        with pytest.raises(NotRequester):
            t.withdraw(stranger, LATER)
    assert t.status == TicketStatus.OPEN and len(t.history) == 1
    t.withdraw(carla_colleague, LATER)
    assert t.history[-1].actor == "account:chris@citycharge.example"


def test_who_comes_before_state_a_stranger_hears_not_requester_even_when_it_is_decided() -> None:
    t = ticket()
    t.set_status(AGENT, TicketStatus.CLOSED, NOW)
    with pytest.raises(NotRequester):
        t.withdraw(ben, LATER)


def test_an_agent_cannot_move_a_ticket_to_withdrawn() -> None:
    t = ticket()
    with pytest.raises(InvalidTransition):
        t.set_status(AGENT, "withdrawn", LATER)
    assert t.status == TicketStatus.OPEN


def test_an_administrative_request_without_organization_only_its_requester_may_withdraw() -> None:
    request = AdministrativeRequest.open("AR-000001", dave, "please link me to GreenFleet", NOW)
    with pytest.raises(NotRequester):
        request.withdraw(erin, LATER)  # also without an organization: not a colleague
    request.withdraw(dave, LATER)
    assert request.status == AdminStatus.WITHDRAWN and request.is_closed
    with pytest.raises(InvalidTransition):
        request.withdraw(dave, LATER)  # twice: already withdrawn
    decided = AdministrativeRequest.open("AR-000002", ben, "rename our organization", NOW)
    decided.resolve(AGENT, NOW, "renamed")
    with pytest.raises(InvalidTransition):
        decided.withdraw(ben, LATER)


def test_withdrawing_a_transfer_is_its_cancel_and_frees_the_chargers() -> None:
    t = transfer()
    t.withdraw(ben, LATER)
    assert t.status == TransferStatus.CANCELLED
    assert not any(line.holds_transfer for line in t.lines)
    t2 = transfer()
    t2.answer(anna, True, NOW)
    with pytest.raises(NotRequester):
        t2.withdraw(anna, LATER)  # the current Service Operator sees it, but did not ask for it
    t2.withdraw(ben, LATER)
    assert t2.status == TransferStatus.CANCELLED
    t3 = transfer()
    t3.reject(AGENT, NOW, "no invoice")
    with pytest.raises(InvalidTransition):
        t3.withdraw(ben, LATER)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("please cancel my ticket ST-000001", "ST-000001"),
        ("withdraw mt-3 please", "MT-000003"),
        ("ar000012 is not needed any more", "AR-000012"),
        ("withdraw my ticket", None),
        ("XST-000001", None),
    ],
)
def test_a_reference_is_found_inside_a_sentence(text: str, found: str | None) -> None:
    assert find_reference(text) == found
