"""Support and the customer's side talk through a request (issue 16 §1 and §2): the domain rules."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.domain.actors import Agent, Customer
from portal.domain.administrative import AdministrativeRequest, AdminStatus
from portal.domain.messages import MESSAGE_MAX, MessageDirection
from portal.domain.requests import WAITING_FOR_CUSTOMER
from portal.domain.service_tickets import ServiceTicket, TicketStatus
from portal.errors import InvalidMessage, InvalidTransition, NotRequester, NotSupportAgent
from tests.unit.factories import CITYCHARGE, NOW, account, ben, carla, charger

AGENT = Agent("U_AGENT", "Sam")
LATER = NOW + timedelta(hours=2)


def ticket() -> ServiceTicket:
    return ServiceTicket.open("ST-000001", carla, charger("10001R001", CITYCHARGE, date(2025, 5, 1)), "no power", NOW)


def test_an_agents_question_puts_the_request_on_hold_and_the_answer_takes_it_back_where_it_was() -> None:
    t = ticket()
    t.assign(AGENT, NOW)
    t.set_status(AGENT, TicketStatus.IN_PROGRESS, NOW)
    t.events.clear()
    asked = t.write_to_requester(AGENT, "  Which socket is it?  ", NOW, ask=True, key="view:1")
    assert (asked.number, asked.direction, asked.text, asked.asks) == (
        1,
        MessageDirection.TO_REQUESTER,
        "Which socket is it?",
        True,
    )
    assert t.status == WAITING_FOR_CUSTOMER and t.waiting_since == NOW
    assert [e.name for e in t.events] == ["request.message", "request.status_changed"]
    answer = t.add_from_requester(carla, "Socket 2, the left one", LATER, key="slack:C1:1.2")
    assert (answer.number, answer.direction, answer.author) == (
        2,
        MessageDirection.FROM_REQUESTER,
        "account:carla@citycharge.example",
    )
    assert t.status == TicketStatus.IN_PROGRESS and t.waiting_since is None
    assert (t.history[-1].from_status, t.history[-1].to_status) == (WAITING_FOR_CUSTOMER, TicketStatus.IN_PROGRESS)


def test_a_reply_does_not_change_the_status_and_the_same_key_twice_is_one_message() -> None:
    t = ticket()
    first = t.write_to_requester(AGENT, "We are looking into it", NOW, key="view:7")
    again = t.write_to_requester(AGENT, "We are looking into it", LATER, key="view:7")
    assert first is again and len(t.messages) == 1 and t.status == TicketStatus.OPEN
    mine = t.add_from_requester(carla, "thanks", NOW, key="ts:1")
    assert t.add_from_requester(carla, "thanks", NOW, key="ts:1") is mine and len(t.messages) == 2


def test_only_agents_write_and_only_the_requesters_side_adds() -> None:
    t = ticket()
    with pytest.raises(NotSupportAgent):
        t.write_to_requester(Customer(carla.email), "hello", NOW)
    with pytest.raises(NotRequester):
        t.add_from_requester(ben, "let me in", NOW)
    colleague = account("chris@citycharge.example", CITYCHARGE)
    t.add_from_requester(colleague, "The charger shows E42", NOW)
    assert t.messages[-1].author == "account:chris@citycharge.example"


def test_files_are_kept_as_references_and_a_message_needs_text_or_a_file() -> None:
    t = ticket()
    with pytest.raises(InvalidMessage):
        t.add_from_requester(carla, "   ", NOW)
    with pytest.raises(InvalidMessage):
        t.write_to_requester(AGENT, "x" * (MESSAGE_MAX + 1), NOW)
    files = [{"id": "F1", "name": "label.jpg", "permalink": "https://x.slack.com/files/U1/F1", "url_private": "secret"}]
    message = t.add_from_requester(carla, "", NOW, [*files, {"name": "no id"}])
    assert message.files == [{"id": "F1", "name": "label.jpg", "permalink": "https://x.slack.com/files/U1/F1"}]
    assert t.messages == [message]


def test_a_closed_request_takes_no_messages_and_asking_needs_an_askable_status() -> None:
    t = ticket()
    t.set_status(AGENT, TicketStatus.CLOSED, NOW)
    with pytest.raises(InvalidTransition):
        t.write_to_requester(AGENT, "one more thing", NOW)
    with pytest.raises(InvalidTransition):
        t.add_from_requester(carla, "it is broken again", NOW)
    r = ticket()
    r.set_status(AGENT, TicketStatus.RESOLVED, NOW)
    with pytest.raises(InvalidTransition):
        r.write_to_requester(AGENT, "Can you check?", NOW, ask=True)
    assert r.messages == [] and r.status == TicketStatus.RESOLVED
    r.write_to_requester(AGENT, "Glad it works again", NOW)  # a reply to a resolved ticket is fine


def test_a_question_never_answered_closes_the_request_and_only_while_it_waits() -> None:
    t = ticket()
    with pytest.raises(InvalidTransition):
        t.close_unanswered(NOW, "no answer")
    t.write_to_requester(AGENT, "Which socket?", NOW, ask=True)
    t.close_unanswered(LATER, "no answer within 7 days")
    assert t.status == TicketStatus.CLOSED and t.history[-1].actor == "system"
    a = AdministrativeRequest.open("AR-000001", carla, "please change our invoice address", NOW)
    a.write_to_requester(AGENT, "Which address?", NOW, ask=True)
    assert a.is_withdrawable
    a.close_unanswered(LATER, "no answer")
    assert a.status == AdminStatus.CLOSED and a.is_closed
