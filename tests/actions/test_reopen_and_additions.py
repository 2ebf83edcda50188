"""action_reopen_request, the follow-up ticket after the reopen window, and action_add_to_request (issue 16 §2), with
real trackers, on both databases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.additions import ActionAddToRequest, ValidateAddToRequestForm
from actions.reopen import ActionOpenFollowUpTicket, ActionReopenRequest
from portal import services
from portal.adapters import tables
from portal.bootstrap import Portal
from portal.domain.actors import Agent
from portal.domain.messages import MESSAGE_MAX
from tests.actions.support import domain, responses, run, tracker
from tests.conftest import FrozenClock
from tests.integration.test_withdrawals import outbox

BEN, CARLA = "ben@greenfleet.example", "carla@citycharge.example"
AGENT = Agent("U_AGENT")


def named(**values: str) -> list[dict[str, Any]]:
    return [{"entity": name, "value": value} for name, value in values.items()]


async def resolved_ticket(portal: Portal) -> str:
    ticket = await services.open_service_ticket(portal.uow(), CARLA, "10001R002", "Socket 2 stops after a minute")
    await services.set_ticket_status(portal.uow(), AGENT, ticket.reference, "resolved")
    return ticket.reference


async def status_of(portal: Portal, reference: str) -> str:
    return (await services.request_facts(portal.uow(), reference)).status


async def audited(portal: Portal) -> list[tuple[str, str | None, str]]:
    return [(e.action, e.reference, e.outcome) for e in await services.audit_entries(portal.uow())]


async def test_typed_words_with_a_reference_reopen_a_resolved_ticket_within_the_window(
    portal: Portal, clock: FrozenClock
) -> None:
    reference = await resolved_ticket(portal)
    clock.advance(timedelta(days=13))
    slots, messages = await run(
        ActionReopenRequest(portal), tracker(CARLA, "reopen_request", "the problem is back on st-1")
    )
    assert responses(messages) == ["utter_ticket_reopened"]
    assert messages[0]["reference"] == reference
    assert slots == {"reference": None}
    assert await status_of(portal, reference) == "open"
    # Once more: it is open, support has it; nothing changes.
    _, again = await run(
        ActionReopenRequest(portal), tracker(CARLA, "reopen_request", entities=named(reference="ST-1"))
    )
    assert responses(again) == ["utter_reopen_still_open"]
    assert again[0]["status_text"] == "open, waiting for support to pick it up"


async def test_without_a_reference_the_resolved_tickets_are_offered_as_buttons(portal: Portal) -> None:
    _, nothing = await run(ActionReopenRequest(portal), tracker(CARLA, "reopen_request", "it broke again"))
    assert responses(nothing) == ["utter_reopen_nothing_resolved"]
    reference = await resolved_ticket(portal)
    await services.open_service_ticket(portal.uow(), CARLA, "10001R001", "Display is dark since this morning")
    _, messages = await run(ActionReopenRequest(portal), tracker(CARLA, "reopen_request", "it broke again"))
    assert responses(messages) == ["utter_reopen_which"]
    assert [(b["title"], b["payload"]) for b in messages[0]["buttons"]] == [
        (f"service ticket {reference} (10001R002)", f'/reopen_request{{"reference": "{reference}"}}'),
        ("Never mind", '/reopen_request{"reopen_answer": "no"}'),
    ]
    _, kept = await run(
        ActionReopenRequest(portal), tracker(CARLA, "reopen_request", entities=named(reopen_answer="no"))
    )
    assert responses(kept) == ["utter_reopen_kept"]
    assert await status_of(portal, reference) == "resolved"


async def test_someone_elses_ticket_and_an_unknown_one_get_the_same_answer_and_are_audited(portal: Portal) -> None:
    reference = await resolved_ticket(portal)
    answers = []
    for asked in (reference, "ST-000999"):
        _, messages = await run(
            ActionReopenRequest(portal), tracker(BEN, "reopen_request", entities=named(reference=asked))
        )
        answers.append((responses(messages), set(messages[0]) - {"reference"}))
    assert answers[0] == answers[1]
    assert answers[0][0] == ["utter_status_unknown_reference"]
    assert await status_of(portal, reference) == "resolved"
    assert await audited(portal) == [
        ("reopen", reference, "UnknownRequest"),
        ("reopen", "ST-000999", "UnknownRequest"),
    ]


async def test_after_the_window_a_follow_up_ticket_is_offered_and_filed_once(
    portal: Portal, clock: FrozenClock
) -> None:
    reference = await resolved_ticket(portal)
    clock.advance(timedelta(days=portal.reopen_days + 1))
    _, messages = await run(ActionReopenRequest(portal), tracker(CARLA, "reopen_request", f"reopen {reference}"))
    assert responses(messages) == ["utter_reopen_too_late"]
    assert messages[0]["days"] == portal.reopen_days
    assert [b["payload"] for b in messages[0]["buttons"]] == [
        f'/reopen_request{{"follow_up": "{reference}"}}',
        '/reopen_request{"reopen_answer": "no"}',
    ]
    assert await status_of(portal, reference) == "resolved"

    filed = tracker(
        CARLA,
        "inform",
        "socket 2 stops again after a minute",
        slots={"follow_up_of": reference, "description": "Socket 2 stops again after a minute"},
        user_metadata={"requester": {"email": CARLA}, "filing_key": "form:follow-up:1"},
    )
    slots, opened = await run(ActionOpenFollowUpTicket(portal), filed)
    assert responses(opened) == ["utter_follow_up_opened"]
    assert (opened[0]["request_reference"], opened[0]["reference"]) == ("ST-000002", reference)
    assert slots["request_reference"] == "ST-000002"
    assert slots["follow_up_of"] is None and slots["description"] is None
    # The same form instance run again (a retry) files nothing new.
    _, again = await run(ActionOpenFollowUpTicket(portal), filed)
    assert again[0]["request_reference"] == "ST-000002"
    assert sorted(r.reference for r in await services.list_requests(portal.uow(), CARLA)) == [reference, "ST-000002"]


async def test_a_reference_that_is_not_a_service_ticket_has_nothing_to_reopen(portal: Portal) -> None:
    await services.open_administrative_request(portal.uow(), CARLA, "Please add my colleague to our account")
    _, messages = await run(
        ActionReopenRequest(portal), tracker(CARLA, "reopen_request", entities=named(reference="AR-000001"))
    )
    assert responses(messages) == ["utter_reopen_still_open"]


def addition(email: str, reference: str | None, text: str | None) -> Any:
    return tracker(
        email,
        "inform",
        text or "",
        slots={"addition_reference": reference, "addition": text},
        user_metadata={"requester": {"email": email}, "filing_key": "form:add:1"},
    )


async def message_texts(portal: Portal) -> list[str]:
    async with portal.engine.connect() as conn:
        return list(await conn.scalars(select(tables.request_messages.c.text).order_by(tables.request_messages.c.id)))


async def test_an_addition_is_kept_on_the_request_once_and_support_is_told(portal: Portal) -> None:
    ticket = await services.open_service_ticket(portal.uow(), CARLA, "10001R002", "Socket 2 stops after a minute")
    slots, messages = await run(ActionAddToRequest(portal), addition(CARLA, ticket.reference, "Only with 22 kW cars"))
    assert responses(messages) == ["utter_addition_added"]
    assert slots["addition"] is None and slots["addition_reference"] is None
    _, again = await run(ActionAddToRequest(portal), addition(CARLA, ticket.reference, "Only with 22 kW cars"))
    assert responses(again) == ["utter_addition_added"]
    assert await message_texts(portal) == ["Only with 22 kW cars"]
    assert [name for name, ref, _ in await outbox(portal) if ref == ticket.reference].count("request.message") == 1


async def test_an_addition_to_someone_elses_request_learns_nothing_and_adds_nothing(portal: Portal) -> None:
    ticket = await services.open_service_ticket(portal.uow(), CARLA, "10001R002", "Socket 2 stops after a minute")
    answers = []
    for reference in (ticket.reference, "ST-000999"):
        _, messages = await run(ActionAddToRequest(portal), addition(BEN, reference, "hello"))
        answers.append(responses(messages))
    assert answers == [["utter_status_unknown_reference"]] * 2
    assert await message_texts(portal) == []
    assert [a for a, _, _ in await audited(portal)] == ["add", "add"]


async def test_a_closed_request_takes_no_addition_and_a_resolved_ticket_offers_reopening(portal: Portal) -> None:
    withdrawn = await services.open_service_ticket(portal.uow(), CARLA, "10001R001", "Display is dark since today")
    await services.withdraw_request(portal.uow(), CARLA, withdrawn.reference)
    _, closed = await run(ActionAddToRequest(portal), addition(CARLA, withdrawn.reference, "never mind"))
    assert responses(closed) == ["utter_addition_closed"]
    assert closed[0]["status_text"] == "withdrawn"

    reference = await resolved_ticket(portal)
    _, resolved = await run(ActionAddToRequest(portal), addition(CARLA, reference, "It stopped again"))
    assert responses(resolved) == ["utter_addition_added_resolved"]
    assert [b["payload"] for b in resolved[0]["buttons"]] == [f'/reopen_request{{"reference": "{reference}"}}']
    assert await message_texts(portal) == ["It stopped again"]


async def validated(method: str, value: str) -> tuple[dict[str, Any], list[str]]:
    dispatcher = CollectingDispatcher()
    result = await getattr(ValidateAddToRequestForm(), method)(value, dispatcher, tracker(CARLA), domain())
    return result, responses(dispatcher.messages)


async def test_the_form_reads_a_loose_reference_and_refuses_an_addition_too_long() -> None:
    assert await validated("validate_addition_reference", "it is about st 12") == (
        {"addition_reference": "ST-000012"},
        [],
    )
    assert await validated("validate_addition_reference", "the one from monday") == (
        {"addition_reference": None},
        ["utter_addition_no_reference"],
    )
    assert await validated("validate_addition", "x" * (MESSAGE_MAX + 1)) == (
        {"addition": None},
        ["utter_addition_too_long"],
    )
