"""Administrative requests and management transfers through the actions."""

from __future__ import annotations

import pytest

from actions.administrative import ActionOpenAdminRequest, ValidateAdminRequestForm
from actions.transfer import ActionOpenTransferRequest, ValidateTransferForm
from portal import services
from portal.bootstrap import Portal
from portal.domain.actors import Customer
from tests.actions.support import responses, run, tracker

ANNA, BEN, DAVE, ERIN = (
    "anna@voltway.example",
    "ben@greenfleet.example",
    "dave@newcustomer.example",
    "erin@greenfleet.example",
)


async def test_dave_files_an_administrative_request(portal: Portal) -> None:
    text = "Please link me to GreenFleet Logistics, I drive ACE0100002"
    t = tracker(
        DAVE, "request_admin_change", text, set_this_turn={"description": text}, active_loop="admin_request_form"
    )
    slots, messages = await run(ValidateAdminRequestForm(portal), t)
    assert slots == {"description": text}
    assert messages == []
    slots, messages = await run(ActionOpenAdminRequest(portal), tracker(DAVE, slots={"description": text}))
    assert responses(messages) == ["utter_admin_request_opened"]
    assert slots["request_reference"] == "AR-000001"
    detail = await services.get_request(portal.uow(), Customer(DAVE), "AR-000001")
    assert detail.summary.serials == ("ACE0100002",)
    assert detail.summary.kind == "administrative"


async def test_admin_description_naming_an_unknown_charger_is_asked_again(portal: Portal) -> None:
    text = "my charger ACE7777777 should be on our account"
    t = tracker(
        ERIN, "request_admin_change", text, set_this_turn={"description": text}, active_loop="admin_request_form"
    )
    slots, messages = await run(ValidateAdminRequestForm(portal), t)
    assert slots == {"description": None, "failed_tries": 1.0}  # the first refused answer at this prompt
    assert responses(messages) == ["utter_charger_unknown"]
    assert messages[0]["serial"] == "ACE7777777"


@pytest.mark.parametrize(
    ("email", "value", "response"),
    [
        (BEN, "no idea, sorry", "utter_serial_malformed"),
        (BEN, ["ACE0100002", "ACE12"], "utter_serial_malformed"),
        (BEN, "ACE0100002 ACE9999999", "utter_charger_unknown"),
        (ANNA, "ACE0100001", "utter_already_operator"),
        (BEN, " ".join(f"ACE{9000000 + i}" for i in range(51)), "utter_too_many_serials"),
    ],
)
async def test_transfer_serials_are_refused_with_the_reason(
    portal: Portal, email: str, value: object, response: str
) -> None:
    t = tracker(email, "inform", str(value), set_this_turn={"serials": value}, active_loop="transfer_form")
    slots, messages = await run(ValidateTransferForm(portal), t)
    assert slots["serials"] is None
    assert responses(messages) == [response]


async def test_serials_in_another_pending_transfer_are_refused(portal: Portal) -> None:
    await services.request_transfer(portal.uow(), BEN, ["ACE0100002"], "we bought it from VoltWay", terms_accepted=True)
    t = tracker(
        "carla@citycharge.example",
        "inform",
        "ACE0100002",
        set_this_turn={"serials": ["ACE0100002"]},
        active_loop="transfer_form",
    )
    slots, messages = await run(ValidateTransferForm(portal), t)
    assert slots["serials"] is None
    assert responses(messages) == ["utter_transfer_pending"]


async def test_ben_requests_a_transfer(portal: Portal) -> None:
    t = tracker(
        BEN,
        "inform",
        "ace0100002 and ACE0100001",
        set_this_turn={"serials": "ace0100002 and ACE0100001"},
        active_loop="transfer_form",
    )
    slots, messages = await run(ValidateTransferForm(portal), t)
    assert slots["serials"] == ["ACE0100002", "ACE0100001"]
    assert slots["serials_text"] == "ACE0100002, ACE0100001"
    assert messages == []
    filled = {"serials": ["ACE0100002"], "description": "Bought from VoltWay in March 2025", "transfer_confirmed": True}
    slots, messages = await run(ActionOpenTransferRequest(portal), tracker(BEN, "affirm", slots=filled))
    assert responses(messages) == ["utter_transfer_requested"]
    assert messages[0]["request_reference"] == "MT-000001"
    assert slots["request_reference"] == "MT-000001"
    assert [r.status for r in await services.list_requests(portal.uow(), BEN)] == ["awaiting_operator"]


async def test_declining_the_terms_files_nothing(portal: Portal) -> None:
    filled = {
        "serials": ["ACE0100002"],
        "description": "Bought from VoltWay in March 2025",
        "transfer_confirmed": False,
    }
    slots, messages = await run(ActionOpenTransferRequest(portal), tracker(BEN, "deny", slots=filled))
    assert responses(messages) == ["utter_transfer_not_confirmed"]
    assert slots["serials"] is None
    assert await services.list_requests(portal.uow(), BEN) == []
