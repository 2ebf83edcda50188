"""Account checks, FAQ answers, status, cancelling, and unknown identities."""

from __future__ import annotations

import pytest

from actions.account import ActionCheckAccount
from actions.cancel import ActionCancelRequest
from actions.faq import ActionAnswerFaq
from actions.status import ActionShowStatus
from actions.withdraw import ActionWithdrawRequest
from portal import services
from portal.bootstrap import Portal
from tests.actions.support import responses, run, tracker

ANNA, BEN, CARLA = "anna@voltway.example", "ben@greenfleet.example", "carla@citycharge.example"
ERIN, DAVE = "erin@greenfleet.example", "dave@newcustomer.example"


@pytest.mark.parametrize(
    ("email", "intent", "status", "response"),
    [
        (BEN, "request_service_ticket", "ok", None),
        (BEN, "faq_not_linked", "ok", "utter_account_linked"),
        (DAVE, "request_service_ticket", "not_linked", "utter_not_linked"),
        (DAVE, "request_admin_change", "not_linked", None),
        (ERIN, "request_transfer", "not_yet_service_customer", "utter_not_yet_service_customer"),
        (ERIN, "request_admin_change", "not_yet_service_customer", None),
        (ERIN, "faq_not_linked", "not_yet_service_customer", "utter_not_yet_service_customer"),
        ("ghost@nowhere.example", "request_admin_change", "no_account", "utter_no_account"),
    ],
)
async def test_account_check(portal: Portal, email: str, intent: str, status: str, response: str | None) -> None:
    slots, messages = await run(ActionCheckAccount(portal), tracker(email, intent))
    assert slots["account_status"] == status
    assert responses(messages) == ([response] if response else [])
    if status == "not_yet_service_customer":
        assert slots["service_customer_from"].endswith("UTC")


@pytest.mark.parametrize(
    "user_metadata", [{}, {"requester": "ben"}, {"requester": {"email": 42}}, {"requester": {"email": "  "}}]
)
async def test_missing_or_malformed_identity_means_no_account(portal: Portal, user_metadata: dict[str, object]) -> None:
    slots, messages = await run(
        ActionCheckAccount(portal), tracker(None, "request_service_ticket", user_metadata=user_metadata)
    )
    assert slots["account_status"] == "no_account"
    assert responses(messages) == ["utter_no_account"]


@pytest.mark.parametrize("intent", ["faq_what_is_so", "faq_why_not_so", "faq_become_so", "faq_cannot_select_charger"])
async def test_faq_answers_directly(intent: str) -> None:
    _, messages = await run(ActionAnswerFaq(), tracker(BEN, intent))
    assert responses(messages) == [f"utter_{intent}"]


async def test_faq_action_falls_back_for_an_intent_without_an_answer() -> None:
    _, messages = await run(ActionAnswerFaq(), tracker(BEN, "greet"))
    assert responses(messages) == ["utter_default"]


async def test_cancel_forgets_the_request_in_progress() -> None:
    slots, messages = await run(ActionCancelRequest(), tracker(BEN, "cancel", slots={"serial": "ACE0100002"}))
    assert responses(messages) == ["utter_cancelled"]
    assert slots["serial"] is None
    assert slots["description"] is None


async def test_status_lists_the_organizations_requests(portal: Portal) -> None:
    _, none = await run(ActionShowStatus(portal), tracker(CARLA, "check_status"))
    assert responses(none) == ["utter_status_none"]
    await services.request_transfer(portal.uow(), BEN, ["ACE0100002"], "bought it from VoltWay", terms_accepted=True)
    _, messages = await run(ActionShowStatus(portal), tracker(ERIN, "check_status"))  # ben's colleague
    assert responses(messages) == ["utter_status_list"]
    assert (
        "MT-000001: management transfer (ACE0100002), waiting for the current Service Operator"
        in messages[0]["status_lines"]
    )


async def test_status_of_one_reference_only_for_those_concerned(portal: Portal) -> None:
    await services.request_transfer(portal.uow(), BEN, ["ACE0100002"], "bought it from VoltWay", terms_accepted=True)
    entity = [{"entity": "reference", "value": "mt-000001", "start": 14, "end": 23}]
    _, own = await run(ActionShowStatus(portal), tracker(BEN, "check_status", "what about mt-000001", entities=entity))
    assert responses(own) == ["utter_status_one"]
    _, so = await run(ActionShowStatus(portal), tracker(ANNA, "check_status", "what about mt-000001", entities=entity))
    assert responses(so) == ["utter_status_one"]  # the charger's current SO is concerned too
    _, other = await run(
        ActionShowStatus(portal), tracker(CARLA, "check_status", "what about mt-000001", entities=entity)
    )
    assert responses(other) == ["utter_status_unknown_reference"]
    assert "ACE0100002" not in str(other)
    _, ghost = await run(ActionShowStatus(portal), tracker("ghost@nowhere.example", "check_status"))
    assert responses(ghost) == ["utter_no_account"]


async def test_asking_for_a_charger_offers_the_likely_ones(portal: Portal) -> None:
    from actions.ask import ActionAskSerial, ActionAskSerials

    _, carla = await run(ActionAskSerial(portal), tracker(CARLA, "request_service_ticket"))
    assert responses(carla) == ["utter_ask_serial"]
    assert [b["title"] for b in carla[0]["buttons"]] == ["10001R001", "10001R002", "I don't know the serial", "Cancel"]
    assert carla[0]["buttons"][0]["payload"] == '/inform{"serial": "10001R001"}'
    _, ben = await run(ActionAskSerials(portal), tracker(BEN, "request_transfer"))
    # ACE0100002 is installed at GreenFleet and run by VoltWay; then every prompt's ways out (issue 13).
    ways_out = ["I don't know the serial", "Cancel"]
    assert [b["title"] for b in ben[0]["buttons"]] == ["ACE0100002", *ways_out]
    _, anna = await run(ActionAskSerials(portal), tracker(ANNA, "request_transfer"))
    assert [b["title"] for b in anna[0]["buttons"]] == ways_out
    _, dave = await run(ActionAskSerial(portal), tracker(DAVE, "request_service_ticket"))
    assert [b["title"] for b in dave[0]["buttons"]] == ways_out


def unverified(email: str | None, identity: str) -> dict[str, object]:
    """The metadata the Slack layer sends for a person it could not verify (the email is then absent)."""
    return {
        "requester": {
            "email": email,
            "slack_user_id": "U0EVIL",
            "slack_team_id": "T0EVIL",
            "verified": False,
            "identity": identity,
        },
        "conversation": {"surface": "im", "channel_id": "D0EVIL", "thread_ts": None},
    }


@pytest.mark.parametrize("intent", ["request_service_ticket", "request_transfer", "request_admin_change"])
async def test_an_unverified_workspace_hears_so_and_nothing_else(portal: Portal, intent: str) -> None:
    metadata = unverified(None, "workspace_not_verified")
    slots, messages = await run(ActionCheckAccount(portal), tracker(None, intent, user_metadata=metadata))
    assert slots["account_status"] == "no_account"  # the flows stop as for no account
    assert responses(messages) == ["utter_workspace_not_verified"]
    await services.open_service_ticket(portal.uow(), ANNA, "ACE0100001", "The cable is damaged")
    _, messages = await run(ActionShowStatus(portal), tracker(None, "check_status", user_metadata=metadata))
    assert responses(messages) == ["utter_workspace_not_verified"]


async def test_an_email_the_surface_did_not_verify_names_nobody(portal: Portal) -> None:
    # Even if an unverified email slipped into the metadata, the actions do not use it.
    metadata = unverified(ANNA, "no_account")
    slots, messages = await run(
        ActionCheckAccount(portal), tracker(None, "request_service_ticket", user_metadata=metadata)
    )
    assert slots["account_status"] == "no_account"
    assert responses(messages) == ["utter_no_account"]


@pytest.mark.parametrize("typed", ["mt 1", "MT1", "mt-1", "Mt - 000001"])
async def test_status_and_withdraw_read_a_reference_as_rasas_extractor_gives_it(portal: Portal, typed: str) -> None:
    """On the Rasa-server path the entity's value is the text as typed: the actions take its canonical form."""
    await services.request_transfer(portal.uow(), BEN, ["ACE0100002"], "bought it from VoltWay", terms_accepted=True)
    entity = [{"entity": "reference", "value": typed, "start": 11, "end": 11 + len(typed)}]
    _, status = await run(
        ActionShowStatus(portal), tracker(BEN, "check_status", f"what about {typed}", entities=entity)
    )
    assert responses(status) == ["utter_status_one"]
    assert "MT-000001" in status[0]["status_lines"]
    _, withdraw = await run(
        ActionWithdrawRequest(portal), tracker(BEN, "withdraw_request", f"withdraw {typed}", entities=entity)
    )
    assert responses(withdraw) == ["utter_confirm_withdraw"]
    assert withdraw[0]["buttons"][0]["title"] == "Yes, withdraw MT-000001"
