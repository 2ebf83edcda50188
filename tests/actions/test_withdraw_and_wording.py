"""action_withdraw_request and the wording fixes of issue 13 §9, with real trackers, on both databases."""

from __future__ import annotations

from typing import Any

import pytest

from actions.account import ActionCheckAccount
from actions.status import ActionShowStatus
from actions.withdraw import ActionWithdrawRequest
from portal import services
from portal.bootstrap import Portal
from portal.domain.actors import Customer
from tests.actions.support import responses, run, tracker

ANNA, BEN, CARLA, DAVE = (
    "anna@voltway.example",
    "ben@greenfleet.example",
    "carla@citycharge.example",
    "dave@newcustomer.example",
)


def entities(reference: str | None = None, answer: str | None = None) -> list[dict[str, Any]]:
    found = [{"entity": "reference", "value": reference}] if reference else []
    return found + ([{"entity": "withdraw_answer", "value": answer}] if answer else [])


async def test_words_never_withdraw_they_ask_with_the_confirming_button(portal: Portal) -> None:
    await services.open_service_ticket(portal.uow(), CARLA, "10001R002", "Socket 2 stops after a minute")
    slots, messages = await run(
        ActionWithdrawRequest(portal), tracker(CARLA, "withdraw_request", "please cancel st-000001, it works again")
    )
    assert responses(messages) == ["utter_confirm_withdraw"]
    assert messages[0]["what"] == "service ticket ST-000001 (10001R002)"
    assert [b["title"] for b in messages[0]["buttons"]] == ["Yes, withdraw ST-000001", "No, keep it"]
    assert messages[0]["buttons"][0]["payload"] == (
        '/withdraw_request{"reference": "ST-000001", "withdraw_answer": "yes"}'
    )
    assert slots == {"reference": None}
    assert (await services.withdrawable_requests(portal.uow(), CARLA))[0].status == "open"

    _, done = await run(
        ActionWithdrawRequest(portal), tracker(CARLA, "withdraw_request", entities=entities("ST-000001", "yes"))
    )
    assert responses(done) == ["utter_request_withdrawn"]
    assert await services.withdrawable_requests(portal.uow(), CARLA) == []


async def test_the_service_operator_may_not_withdraw_a_transfer_and_it_is_audited(portal: Portal) -> None:
    await services.request_transfer(portal.uow(), BEN, ["ACE0100002"], "bought it in March", terms_accepted=True)
    _, messages = await run(
        ActionWithdrawRequest(portal), tracker(ANNA, "withdraw_request", entities=entities("MT-000001", "yes"))
    )
    assert responses(messages) == ["utter_withdraw_not_yours"]
    _, unknown = await run(
        ActionWithdrawRequest(portal), tracker(CARLA, "withdraw_request", entities=entities("MT-000001", "yes"))
    )
    assert responses(unknown) == ["utter_status_unknown_reference"]
    audited = [(e.actor, e.action, e.reference, e.outcome) for e in await services.audit_entries(portal.uow())]
    assert audited == [
        ("slack:U0TEST", "withdraw", "MT-000001", "NotRequester"),
        ("slack:U0TEST", "withdraw", "MT-000001", "UnknownRequest"),
    ]


async def test_no_and_nothing_open(portal: Portal) -> None:
    _, kept = await run(ActionWithdrawRequest(portal), tracker(BEN, "withdraw_request", entities=entities(None, "no")))
    assert responses(kept) == ["utter_withdraw_kept"]
    _, none = await run(ActionWithdrawRequest(portal), tracker(BEN, "withdraw_request", "withdraw my ticket"))
    assert responses(none) == ["utter_withdraw_nothing_open"]


def hidden_email(identity: str) -> dict[str, Any]:
    return {
        "requester": {"email": None, "slack_user_id": "U0X", "slack_team_id": "T0HOME", "identity": identity},
        "conversation": {"surface": "im", "channel_id": "D0X", "thread_ts": None},
    }


@pytest.mark.parametrize(("identity", "response"), [("no_email", "utter_no_email"), ("no_account", "utter_no_account")])
async def test_a_hidden_email_is_said_as_such_not_as_no_account(portal: Portal, identity: str, response: str) -> None:
    metadata = hidden_email(identity)
    slots, checked = await run(
        ActionCheckAccount(portal), tracker(None, "request_service_ticket", user_metadata=metadata)
    )
    assert (slots["account_status"], responses(checked)) == ("no_account", [response])
    _, status = await run(ActionShowStatus(portal), tracker(None, "check_status", user_metadata=metadata))
    assert responses(status) == [response]
    _, withdraw = await run(
        ActionWithdrawRequest(portal), tracker(None, "withdraw_request", "withdraw ST-000001", user_metadata=metadata)
    )
    assert responses(withdraw) == [response]


async def test_a_person_without_an_organization_reads_about_their_own_requests(portal: Portal) -> None:
    await services.open_administrative_request(portal.uow(), DAVE, "Please link me to GreenFleet")
    _, dave = await run(ActionShowStatus(portal), tracker(DAVE, "check_status"))
    assert responses(dave) == ["utter_status_list_own"]
    assert "AR-000001" in dave[0]["status_lines"]
    await services.open_service_ticket(portal.uow(), CARLA, "10001R002", "Socket 2 stops after a minute")
    _, carla = await run(ActionShowStatus(portal), tracker(CARLA, "check_status"))
    assert responses(carla) == ["utter_status_list"]


async def test_the_confirming_button_carries_the_reason_given_with_the_command(portal: Portal) -> None:
    await services.open_service_ticket(portal.uow(), CARLA, "10001R002", "Socket 2 stops after a minute")
    found = [*entities("ST-000001", "yes"), {"entity": "withdraw_reason", "value": "x" * 1001}]
    _, too_long = await run(ActionWithdrawRequest(portal), tracker(CARLA, "withdraw_request", entities=found))
    assert responses(too_long) == ["utter_withdraw_reason_too_long"]  # only a changed button carries this
    found[-1]["value"] = "it works again"
    _, done = await run(ActionWithdrawRequest(portal), tracker(CARLA, "withdraw_request", entities=found))
    assert responses(done) == ["utter_request_withdrawn"]
    detail = await services.get_request(portal.uow(), Customer(CARLA), "ST-000001")
    assert detail.history[-1].reason == "it works again"
