"""Every life-cycle transition of the three request kinds, the forbidden ones included."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.domain.actors import Agent, Customer, System
from portal.domain.administrative import AdministrativeRequest, AdminStatus, AdminTopic
from portal.domain.service_tickets import ServiceTicket, TicketStatus
from portal.domain.transfers import MAX_CHARGERS_PER_TRANSFER, TransferRequest, TransferStatus
from portal.errors import (
    AlreadyAnswered,
    AlreadyServiceOperator,
    InvalidTransition,
    NotRequester,
    NotServiceOperator,
    NotSupportAgent,
    OperatorChanged,
    ReasonRequired,
    TermsNotAccepted,
    TooManyChargers,
    TransferAlreadyPending,
)
from tests.unit.factories import CITYCHARGE, GREENFLEET, NOW, VOLTWAY, account, anna, ben, carla, charger

AGENT = Agent("U_AGENT", "Sam")
LATER = NOW + timedelta(hours=1)


def transfer(*chargers_: object, terms: bool = True) -> TransferRequest:
    chosen = list(chargers_) or [charger("ACE0100002", VOLTWAY)]
    return TransferRequest.open("MT-000001", ben, chosen, "we bought it from VoltWay", NOW, terms_accepted=terms)  # type: ignore[arg-type]


# --- transfers -------------------------------------------------------------------------------------------


def test_transfer_opens_awaiting_the_current_operator_and_reserves_its_chargers() -> None:
    t = transfer()
    assert t.status == TransferStatus.AWAITING_OPERATOR
    assert t.operator_ids == [VOLTWAY]
    assert all(line.holds_transfer for line in t.lines)
    assert [e.name for e in t.events] == ["request.opened"]
    assert t.history[0].to_status == TransferStatus.AWAITING_OPERATOR
    assert t.history[0].actor == "account:ben@greenfleet.example"


def test_consent_then_approval_moves_every_charger_atomically() -> None:
    c1, c2 = charger("ACE0100001", VOLTWAY, charger_id=1), charger("ACE0100002", VOLTWAY, charger_id=2)
    t = transfer(c1, c2)
    t.answer(anna, True, NOW)
    assert t.status == TransferStatus.AWAITING_SUPPORT
    t.approve(AGENT, {1: c1, 2: c2}, LATER)
    assert t.status == TransferStatus.COMPLETED
    assert c1.service_operator_id == c2.service_operator_id == GREENFLEET
    assert not any(line.holds_transfer for line in t.lines)
    assert [h.to_status for h in t.history] == ["awaiting_operator", "awaiting_support", "completed"]
    assert t.history[-1].actor == "agent:U_AGENT"
    assert "transfer.completed" in [e.name for e in t.events]


def test_every_current_operator_must_consent() -> None:
    c1, c2 = charger("ACE0100001", VOLTWAY, charger_id=1), charger("10001R002", CITYCHARGE, charger_id=2)
    t = transfer(c1, c2)
    t.answer(anna, True, NOW)
    assert t.status == TransferStatus.AWAITING_OPERATOR  # CityCharge has not answered yet
    t.answer(carla, True, NOW)
    assert t.status == TransferStatus.AWAITING_SUPPORT


def test_decline_ends_the_transfer_and_frees_the_chargers() -> None:
    t = transfer()
    t.answer(anna, False, NOW, "we still operate it")
    assert t.status == TransferStatus.DECLINED_BY_OPERATOR
    assert t.history[-1].reason == "we still operate it"
    assert not t.lines[0].holds_transfer
    with pytest.raises(InvalidTransition):
        t.approve(AGENT, {}, LATER, "override")


def test_only_the_current_operator_may_answer() -> None:
    t = transfer()
    with pytest.raises(NotServiceOperator):
        t.answer(carla, True, NOW)
    with pytest.raises(NotServiceOperator):
        t.answer(ben, True, NOW)  # the requester cannot consent to their own request
    with pytest.raises(NotServiceOperator):
        t.answer(account("x@nowhere.example", None), True, NOW)
    assert t.status == TransferStatus.AWAITING_OPERATOR


def test_the_first_answer_counts() -> None:
    t = TransferRequest.open(
        "MT-000001",
        ben,
        [charger("ACE0100001", VOLTWAY), charger("10001R002", CITYCHARGE)],
        "two chargers",
        NOW,
        terms_accepted=True,
    )
    t.answer(anna, True, NOW)
    colleague = account("anna2@voltway.example", VOLTWAY)
    with pytest.raises(AlreadyAnswered):
        t.answer(colleague, False, NOW)
    assert t.status == TransferStatus.AWAITING_OPERATOR


def test_only_agents_approve_or_reject() -> None:
    c = charger("ACE0100002", VOLTWAY, charger_id=7)
    t = transfer(c)
    t.answer(anna, True, NOW)
    for actor in (Customer("ben@greenfleet.example"), Customer("anna@voltway.example"), System()):
        with pytest.raises(NotSupportAgent):
            t.approve(actor, {7: c}, LATER)
        with pytest.raises(NotSupportAgent):
            t.reject(actor, LATER, "no")
    assert t.status == TransferStatus.AWAITING_SUPPORT
    assert c.service_operator_id == VOLTWAY


def test_approving_twice_is_refused() -> None:
    c = charger("ACE0100002", VOLTWAY, charger_id=7)
    t = transfer(c)
    t.answer(anna, True, NOW)
    t.approve(AGENT, {7: c}, LATER)
    with pytest.raises(InvalidTransition):
        t.approve(AGENT, {7: c}, LATER)
    with pytest.raises(InvalidTransition):
        t.reject(AGENT, LATER, "too late")
    assert [h.to_status for h in t.history].count("completed") == 1


def test_approving_without_consent_needs_a_reason() -> None:
    c = charger("ACE0100002", VOLTWAY, charger_id=7)
    t = transfer(c)
    with pytest.raises(ReasonRequired):
        t.approve(AGENT, {7: c}, LATER)
    assert c.service_operator_id == VOLTWAY
    t.approve(AGENT, {7: c}, LATER, "VoltWay confirmed by phone")
    assert t.status == TransferStatus.COMPLETED
    assert t.history[-1].reason == "VoltWay confirmed by phone"


def test_approval_refuses_when_the_operator_changed_meanwhile() -> None:
    c = charger("ACE0100002", VOLTWAY, charger_id=7)
    t = transfer(c)
    t.answer(anna, True, NOW)
    c.service_operator_id = CITYCHARGE
    with pytest.raises(OperatorChanged):
        t.approve(AGENT, {7: c}, LATER)
    assert t.status == TransferStatus.AWAITING_SUPPORT


def test_reject_needs_a_reason() -> None:
    t = transfer()
    with pytest.raises(ReasonRequired):
        t.reject(AGENT, LATER, "  ")
    t.reject(AGENT, LATER, "no proof of purchase")
    assert t.status == TransferStatus.REJECTED
    assert not t.lines[0].holds_transfer


def test_transferring_to_the_current_operator_is_refused() -> None:
    with pytest.raises(AlreadyServiceOperator):
        TransferRequest.open("MT-1", anna, [charger("ACE0100002", VOLTWAY)], "ours already", NOW, terms_accepted=True)


def test_transfer_needs_terms_chargers_a_limit_and_no_other_pending_transfer() -> None:
    with pytest.raises(TermsNotAccepted):
        transfer(terms=False)
    with pytest.raises(TooManyChargers):
        TransferRequest.open("MT-1", ben, [], "nothing", NOW, terms_accepted=True)
    many = [charger(f"ACE{i:07d}", VOLTWAY) for i in range(MAX_CHARGERS_PER_TRANSFER + 1)]
    with pytest.raises(TooManyChargers):
        TransferRequest.open("MT-1", ben, many, "too many", NOW, terms_accepted=True)
    with pytest.raises(TransferAlreadyPending):
        TransferRequest.open(
            "MT-1",
            ben,
            [charger("ACE0100002", VOLTWAY)],
            "again",
            NOW,
            terms_accepted=True,
            pending_serials={"ACE0100002"},
        )
    with pytest.raises(NotServiceOperator):
        TransferRequest.open(
            "MT-1", account("dave@x.example", None), [charger("ACE0100002", VOLTWAY)], "x", NOW, terms_accepted=True
        )


def test_expiry_hands_the_transfer_to_support_who_decide_with_a_reason() -> None:
    c = charger("ACE0100002", VOLTWAY, charger_id=7)
    t = transfer(c)
    t.expire(System(), LATER, "no answer in 14 days")
    assert t.status == TransferStatus.EXPIRED
    assert t.lines[0].holds_transfer  # still reserved while support decides
    with pytest.raises(InvalidTransition):
        t.answer(anna, True, LATER)
    with pytest.raises(ReasonRequired):
        t.approve(AGENT, {7: c}, LATER)
    t.approve(AGENT, {7: c}, LATER, "operator unreachable; invoice checked")
    assert c.service_operator_id == GREENFLEET


def test_expire_only_while_waiting_for_the_operator() -> None:
    t = transfer()
    t.answer(anna, True, NOW)
    with pytest.raises(InvalidTransition):
        t.expire(System(), LATER, "late")


def test_requester_may_cancel_others_may_not() -> None:
    t = transfer()
    with pytest.raises(NotRequester):
        t.cancel(anna, LATER)
    colleague = account("erin@greenfleet.example", GREENFLEET)
    t.cancel(colleague, LATER, "sold it again")
    assert t.status == TransferStatus.CANCELLED
    with pytest.raises(InvalidTransition):
        t.cancel(ben, LATER)


# --- service tickets -------------------------------------------------------------------------------------


def ticket() -> ServiceTicket:
    return ServiceTicket.open("ST-000001", carla, charger("10001R001", CITYCHARGE, date(2022, 5, 1)), "no power", NOW)


def test_ticket_records_warranty_and_follows_its_life_cycle() -> None:
    t = ticket()
    assert t.status == TicketStatus.OPEN
    assert t.in_warranty is False
    t.set_status(AGENT, TicketStatus.IN_PROGRESS, NOW)
    t.set_status(AGENT, TicketStatus.RESOLVED, NOW, "replaced the RCD")
    t.set_status(AGENT, TicketStatus.IN_PROGRESS, NOW, "fault is back")
    t.set_status(AGENT, TicketStatus.CLOSED, NOW)
    assert [h.to_status for h in t.history] == ["open", "in_progress", "resolved", "in_progress", "closed"]
    with pytest.raises(InvalidTransition):
        t.set_status(AGENT, TicketStatus.OPEN, NOW)
    with pytest.raises(InvalidTransition):
        t.assign(AGENT, NOW)


def test_ticket_forbidden_moves() -> None:
    t = ticket()
    with pytest.raises(InvalidTransition):
        t.set_status(AGENT, TicketStatus.OPEN, NOW)
    with pytest.raises(NotSupportAgent):
        t.set_status(Customer("carla@citycharge.example"), TicketStatus.CLOSED, NOW)
    with pytest.raises(ValueError, match="reopened"):
        t.set_status(AGENT, "reopened", NOW)
    assert t.status == TicketStatus.OPEN


def test_only_the_service_operator_opens_tickets() -> None:
    with pytest.raises(NotServiceOperator):
        ServiceTicket.open("ST-1", ben, charger("ACE0100002", VOLTWAY), "broken", NOW)
    with pytest.raises(NotServiceOperator):
        ServiceTicket.open("ST-1", account("dave@x.example", None), charger("ACE0100002", VOLTWAY), "broken", NOW)


def test_assignment_is_recorded_for_agents_only() -> None:
    t = ticket()
    with pytest.raises(NotSupportAgent):
        t.assign(Customer("carla@citycharge.example"), NOW)
    t.assign(AGENT, NOW)
    assert t.assignee == "U_AGENT"
    assert t.events[-1].name == "request.assigned"


# --- administrative requests -----------------------------------------------------------------------------


def test_administrative_request_resolves_with_a_note_or_is_rejected_with_a_reason() -> None:
    dave = account("dave@newcustomer.example", None)
    request = AdministrativeRequest.open("AR-000001", dave, "please link me to GreenFleet", NOW)
    assert request.topic == AdminTopic.NOT_LINKED
    with pytest.raises(ReasonRequired):
        request.resolve(AGENT, NOW, "")
    with pytest.raises(NotSupportAgent):
        request.resolve(Customer(dave.email), NOW, "done")
    request.resolve(AGENT, NOW, "linked to GreenFleet")
    assert request.status == AdminStatus.RESOLVED
    assert request.resolution == "linked to GreenFleet"
    with pytest.raises(InvalidTransition):
        request.reject(AGENT, NOW, "changed my mind")
    assert request.resolution == "linked to GreenFleet"

    other = AdministrativeRequest.open("AR-000002", ben, "rename our organization", NOW)
    assert other.topic == AdminTopic.OTHER
    other.reject(AGENT, NOW, "send the chamber of commerce extract")
    assert other.status == AdminStatus.REJECTED


def test_descriptions_and_reasons_lose_control_characters_but_keep_line_breaks() -> None:
    from portal.domain.text import clean_description, clean_reason

    assert clean_description("\x00\x01 no power\x1b[31m\nsince\tMonday\x07 ") == "no power[31m\nsince\tMonday"
    assert clean_reason("\x00 out of stock \x00", required=True) == "out of stock"
