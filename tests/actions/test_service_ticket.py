"""The service ticket form's validation and submission, on the demo data."""

from __future__ import annotations

import json

import pytest

from actions.service_ticket import ActionOpenServiceTicket, ValidateServiceTicketForm
from portal import services
from portal.bootstrap import Portal
from tests.actions.support import responses, run, tracker

ANNA, BEN, CARLA = "anna@voltway.example", "ben@greenfleet.example", "carla@citycharge.example"
ERIN, DAVE = "erin@greenfleet.example", "dave@newcustomer.example"

# (email, what the customer typed) -> (eligibility slot, serial slot, response uttered, form goes on?)
MATRIX = [
    (ANNA, "ACE0100001", "may_raise", "ACE0100001", None, True),
    (ANNA, "it's ace 010 0002", "may_raise", "ACE0100002", None, True),
    (ANNA, "10001R001", "other_operator", "10001R001", None, False),
    (BEN, "ACE0100001", "other_operator", "ACE0100001", None, False),
    (BEN, "the one on the wall: ACE0100002", "other_operator", "ACE0100002", None, False),
    (BEN, "10001R002", "other_operator", "10001R002", None, False),
    (CARLA, "10001R001", "may_raise", "10001R001", None, True),
    (CARLA, "10001r002", "may_raise", "10001R002", None, True),
    (CARLA, "ACE0100002", "other_operator", "ACE0100002", None, False),
    (ERIN, "ACE0100002", "not_yet_service_customer", None, None, False),
    (DAVE, "ACE0100001", "not_linked", None, None, False),
    ("ghost@nowhere.example", "10001R001", "no_account", None, None, False),
    (None, "10001R001", "no_account", None, None, False),
    (BEN, "the one on the wall", None, None, "utter_serial_malformed", True),
    (BEN, "ACE12", None, None, "utter_serial_malformed", True),
    (BEN, "ACE9999999", None, None, "utter_charger_unknown", True),
]


@pytest.mark.parametrize(("email", "typed", "eligibility", "serial", "response", "goes_on"), MATRIX)
async def test_serial_validation_for_every_demo_account_and_charger(
    portal: Portal,
    email: str | None,
    typed: str,
    eligibility: str | None,
    serial: str | None,
    response: str | None,
    goes_on: bool,
) -> None:
    t = tracker(email, text=typed, set_this_turn={"serial": typed}, active_loop="service_ticket_form")
    slots, messages = await run(ValidateServiceTicketForm(portal), t)
    assert slots.get("eligibility") == eligibility
    assert slots["serial"] == serial
    assert responses(messages) == ([response] if response else [])
    # The form ends early (requested_slot None) once no ticket can be raised on this charger.
    assert ("requested_slot" in slots and slots["requested_slot"] is None) == (not goes_on)


@pytest.mark.parametrize(
    ("text", "response"), [("broken", "utter_description_too_short"), ("x" * 3001, "utter_description_too_long")]
)
async def test_description_limits(portal: Portal, text: str, response: str) -> None:
    t = tracker(CARLA, "nlu_fallback", text, set_this_turn={"description": text}, active_loop="service_ticket_form")
    slots, messages = await run(ValidateServiceTicketForm(portal), t)
    assert slots["description"] is None
    assert responses(messages) == [response]


async def test_carla_opens_a_ticket_and_learns_the_warranty(portal: Portal) -> None:
    filled = {"serial": "10001R001", "description": "The display stays dark since Monday", "eligibility": "may_raise"}
    slots, messages = await run(
        ActionOpenServiceTicket(portal), tracker(CARLA, slots=filled | {"warranty_until": "1 May 2024"})
    )
    assert responses(messages) == ["utter_ticket_opened_out_of_warranty"]
    assert messages[0]["request_reference"] == "ST-000001"
    assert messages[0]["serial"] == "10001R001"
    assert slots["request_reference"] == "ST-000001"
    assert slots["serial"] is None
    assert slots["description"] is None
    [ticket] = await services.list_requests(portal.uow(), CARLA)
    assert (ticket.reference, ticket.serials, ticket.in_warranty) == ("ST-000001", ("10001R001",), False)


async def test_ben_is_told_why_and_offered_a_transfer_without_seeing_who_operates_it(portal: Portal) -> None:
    filled = {"serial": "ACE0100002", "eligibility": "other_operator"}
    _, messages = await run(ActionOpenServiceTicket(portal), tracker(BEN, slots=filled))
    assert responses(messages) == ["utter_other_operator"]
    [button, tell] = messages[0]["buttons"]
    assert button["payload"].startswith("/request_transfer{")
    assert json.loads(button["payload"][len("/request_transfer") :]) == {"serial": "ACE0100002"}
    # Besides the transfer: a fault report to the charger's Service Operator (issue 17 §2), naming only the serial.
    assert json.loads(tell["payload"][len("/inform") :]) == {"fault_serial": "ACE0100002"}
    assert "VoltWay" not in json.dumps(messages)
    assert await services.list_requests(portal.uow(), BEN) == []


async def test_a_pending_transfer_is_named_only_to_its_requester(portal: Portal) -> None:
    await services.request_transfer(portal.uow(), BEN, ["ACE0100002"], "bought it in March", terms_accepted=True)
    _, own = await run(ActionOpenServiceTicket(portal), tracker(ERIN, slots={"serial": "ACE0100002"}))
    assert responses(own) in (["utter_not_yet_service_customer"],)  # erin is too new to be told anything else
    _, messages = await run(ActionOpenServiceTicket(portal), tracker(BEN, slots={"serial": "ACE0100002"}))
    assert responses(messages) == ["utter_transfer_pending_own"]
    assert messages[0]["request_reference"] == "MT-000001"
    _, others = await run(ActionOpenServiceTicket(portal), tracker(CARLA, slots={"serial": "ACE0100002"}))
    assert responses(others) == ["utter_transfer_pending"]
    assert "MT-000001" not in json.dumps(others)
