"""Using what the customer already said: the opening message as the description, and "Did you mean …?"."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker

from actions.ask import ActionAskSerial
from actions.opening import describes_problem, description_from_opening, opening_text, serial_button
from actions.service_ticket import ValidateServiceTicketForm
from actions.transfer import ValidateTransferForm
from portal.bootstrap import Portal
from tests.actions.support import domain, metadata, responses, run, tracker

ANNA, BEN, CARLA = "anna@voltway.example", "ben@greenfleet.example", "carla@citycharge.example"


@pytest.mark.parametrize(
    ("text", "is_description"),
    [
        ("hi, ACE0100002 stopped charging yesterday, the light is red", True),
        ("my charger is broken, it stopped charging and the display shows error 42", True),
        ("we bought ACE0100002 with the building from VoltWay, can we take it over", True),
        ("ACE0100002 broken", False),  # 17 characters, but nothing beyond the serial worth filing
        ("I need a service ticket for ACE0100002", False),
        ("I want a management transfer for ACE0100002", False),
        ("hi, can you help me with ace 010 0002 please", False),
        ("ACEO1OOOO2 please", False),
        ("about MT-000001?", False),
        ("/request_service_ticket", False),
        ('/request_transfer{"serial": "ACE0100002"}', False),
        ("", False),
        ("x" * 3001, False),
    ],
)
def test_an_opening_is_a_description_only_when_it_describes_something(text: str, is_description: bool) -> None:
    assert (describes_problem(text) is not None) == is_description


def test_the_description_is_the_customers_whole_message() -> None:
    assert describes_problem("  hi, ACE0100002 stopped charging\x1b[0m  ") == "hi, ACE0100002 stopped charging[0m"


def _events_tracker(email: str, events: list[dict[str, Any]], slots: dict[str, Any]) -> Tracker:
    all_slots = {name: None for name in domain()["slots"]} | {"requested_slot": None} | slots
    latest = next(e for e in reversed(events) if e["event"] == "user")["parse_data"]
    return Tracker.from_dict(
        {
            "sender_id": "s",
            "slots": all_slots,
            "latest_message": latest,
            "events": events,
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": "service_ticket_form"},
            "latest_action_name": "action_listen",
        }
    )


def _user(text: str, email: str, entities: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    parse = {"intent": {"name": "inform"}, "entities": entities or [], "text": text, "metadata": metadata(email)}
    return {"event": "user", "text": text, "parse_data": parse, "metadata": metadata(email)}


def test_while_the_form_runs_the_opening_is_the_message_before_its_activation() -> None:
    opening = "my charger stopped charging and the display shows error 42"
    events = [
        _user("hello", ANNA),
        {"event": "action", "name": "utter_greet"},
        _user(opening, ANNA),
        {"event": "action", "name": "action_check_account"},
        {"event": "active_loop", "name": "service_ticket_form"},
        {"event": "slot", "name": "requested_slot", "value": "serial"},
        _user("ACE0100002", ANNA),
    ]
    t = _events_tracker(ANNA, events, {"requested_slot": "serial"})
    assert opening_text(t, "service_ticket_form") == opening
    assert description_from_opening(t, "service_ticket_form") == {"description": opening}
    # Never over what the customer is typing as the description itself, nor over a description already known.
    assert description_from_opening(_events_tracker(ANNA, events, {"requested_slot": "description"}), "x") == {}
    assert (
        description_from_opening(
            _events_tracker(ANNA, events, {"requested_slot": "serial", "description": "d" * 12}), "service_ticket_form"
        )
        == {}
    )


def test_a_category_click_right_after_the_customers_words_starts_from_those_words() -> None:
    words = "ACE0100001 and ace0100002 both stopped charging after the power cut"
    events = [
        _user(words, ANNA),
        {"event": "action", "name": "utter_ask_category"},
        {"event": "action", "name": "action_listen"},
        _user("/request_service_ticket", ANNA),
    ]
    assert opening_text(_events_tracker(ANNA, events, {}), "service_ticket_form") == words
    other = [*events[:1], {"event": "action", "name": "action_show_status"}, *events[2:]]
    assert opening_text(_events_tracker(ANNA, other, {}), "service_ticket_form") == "/request_service_ticket"


async def test_the_opening_fills_the_description_at_activation(portal: Portal) -> None:
    text = "hi, ACE0100002 stopped charging yesterday, the light is red"
    t = tracker(
        ANNA, "request_service_ticket", text, set_this_turn={"serial": "ACE0100002"}, active_loop="service_ticket_form"
    )
    slots, messages = await run(ValidateServiceTicketForm(portal), t)
    assert (slots["serial"], slots["description"]) == ("ACE0100002", text)
    assert messages == []


async def test_a_bare_serial_opening_leaves_the_description_to_ask_silently(portal: Portal) -> None:
    t = tracker(
        ANNA, "inform", "ACE0100002 broken", set_this_turn={"serial": "ACE0100002"}, active_loop="service_ticket_form"
    )
    slots, messages = await run(ValidateServiceTicketForm(portal), t)
    assert slots["serial"] == "ACE0100002" and slots.get("description") is None
    assert messages == []  # no "too short": the customer was not asked yet


@pytest.mark.parametrize(
    ("email", "typed", "suggested"),
    [
        (CARLA, "1OOO1R0O2", "10001R002"),
        (CARLA, "it's lOOOlR0O2 I think", "10001R002"),
        (ANNA, "ACEO1OOOO2", "ACE0100002"),
        (CARLA, "ACEO1OOOO2", "ACE0100002"),  # exists, operated by others: existence is all this form reveals
        (CARLA, "9OOO1R0O2", None),  # the correction is no charger: the usual answer
    ],
)
async def test_a_mistyped_serial_is_suggested_never_taken(
    portal: Portal, email: str, typed: str, suggested: str | None
) -> None:
    t = tracker(
        email,
        "inform",
        typed,
        set_this_turn={"serial": typed},
        active_loop="service_ticket_form",
        slots={"requested_slot": "serial"},
    )
    slots, messages = await run(ValidateServiceTicketForm(portal), t)
    assert slots["serial"] is None
    if suggested is None:
        assert responses(messages) == ["utter_serial_malformed"]
        return
    assert responses(messages) == ["utter_did_you_mean_serial"]
    assert messages[0]["buttons"] == [serial_button([suggested])]
    assert messages[0]["buttons"][0]["payload"] == f'/inform{{"serial": "{suggested}"}}'


async def test_several_serials_for_one_ticket_are_asked_about(portal: Portal) -> None:
    entities = [{"entity": "serial", "value": "ACE0100001"}, {"entity": "serial", "value": "ACE0100002"}]
    t = tracker(
        ANNA,
        "request_service_ticket",
        "ACE0100001 and ACE0100002 are dead",
        entities=entities,
        set_this_turn={"serial": "ACE0100002"},
        active_loop="service_ticket_form",
    )
    slots, messages = await run(ValidateServiceTicketForm(portal), t)
    assert slots["serial"] is None
    assert responses(messages) == ["utter_which_serial"]
    assert [b["title"] for b in messages[0]["buttons"]] == ["ACE0100001", "ACE0100002"]


async def test_a_transfer_never_drops_a_mistyped_serial(portal: Portal) -> None:
    t = tracker(
        BEN,
        "inform",
        "ACE0100001 and ACEO1OOOO2",
        entities=[{"entity": "serial", "value": "ACE0100001"}],
        set_this_turn={"serials": ["ACE0100001"]},
        active_loop="transfer_form",
        slots={"requested_slot": "serials"},
    )
    slots, messages = await run(ValidateTransferForm(portal), t)
    assert slots["serials"] is None
    assert responses(messages) == ["utter_did_you_mean_serials"]
    assert messages[0]["buttons"][0]["payload"] == '/inform{"serial": ["ACE0100001", "ACE0100002"]}'


async def test_a_transfer_modal_value_gets_the_suggestion_too(portal: Portal) -> None:
    # A modal sends the field's text as the value, with no typed message.
    t = tracker(BEN, "", "", set_this_turn={"serials": "ACEO1OOOO2"}, active_loop="transfer_form")
    slots, messages = await run(ValidateTransferForm(portal), t)
    assert slots["serials"] is None
    assert responses(messages) == ["utter_did_you_mean_serials"]


async def test_the_ask_action_keeps_the_openings_description(portal: Portal) -> None:
    opening = "my charger stopped charging and the display shows error 42"
    events = [
        _user(opening, CARLA),
        {"event": "action", "name": "action_check_account"},
        {"event": "active_loop", "name": "service_ticket_form"},
        {"event": "slot", "name": "requested_slot", "value": "serial"},
    ]
    slots, messages = await run(ActionAskSerial(portal), _events_tracker(CARLA, events, {"requested_slot": "serial"}))
    assert slots == {"description": opening}
    assert responses(messages) == ["utter_ask_serial"]
