"""Reopen and follow-up, Reject and Duplicate for service tickets (issue 16 §3), end to end on loopback.

Signed requests into the app, the fake Web API recording every call; the notifier and the sender run by hand
between steps, as `chargedesk run` does in the background. SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from portal import services
from portal.adapters import tables
from portal.domain.actors import Agent
from tests.conftest import FrozenClock
from tests.support import payloads
from tests.support.fake_slack import Call
from tests.support.harness import AGENT, TRIAGE, Harness, button
from tests.support.journeys import Office, support_command

CHANNEL = "C0SHARED"
CARLA, BEN = "carla@citycharge.example", "ben@greenfleet.example"
CARLA_DM = {"surface": "im", "channel_id": "D0CARLA", "slack_user_id": "U0CARLA", "slack_team_id": "T0HOME"}


def shown(message: dict[str, Any]) -> str:
    return " ".join(b["text"]["text"] for b in message.get("blocks") or [] if b.get("type") == "section")


def titles(message: dict[str, Any]) -> list[str]:
    return [e["text"]["text"] for b in message.get("blocks") or [] if b["type"] == "actions" for e in b["elements"]]


def sent(h: Harness, method: str, channel: str) -> list[Call]:
    return [c for c in h.fake.calls_to(method) if c.ok and c.args.get("channel") == channel]


async def press(h: Harness, user: str, channel: str, action_id: str, value: str) -> str:
    trigger = payloads.new_trigger_id()
    status, _ = await h.sender.interaction(
        payloads.block_actions(
            user, "T0HOME", channel, payloads.next_ts(), action_id, value=value, block_id="b", trigger_id=trigger
        )
    )
    assert status == 200
    return trigger


async def submit(h: Harness, user: str, callback: str, view: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    state = {block: {"value": {"type": "plain_text_input", "value": value}} for block, value in values.items()}
    status, body = await h.sender.interaction(
        payloads.view_submission(user, "T0HOME", callback, str(view["private_metadata"]), state)
    )
    assert status == 200
    return json.loads(body) if body else {}


async def status_of(h: Harness, reference: str) -> str:
    return (await services.get_request(h.portal.uow(), Agent(AGENT), reference)).summary.status


async def status_becomes(h: Harness, reference: str, status: str, within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while (current := await status_of(h, reference)) != status:
        assert asyncio.get_running_loop().time() < deadline, f"{reference} stayed {current}, expected {status}"
        await asyncio.sleep(0.02)


async def ephemeral_to(h: Harness, user: str, containing: str) -> Call:
    [said] = await h.fake.wait_for(
        "chat.postEphemeral", where=lambda c: c.args.get("user") == user and containing in str(c.args)
    )
    return said


async def carlas_resolved_ticket(h: Harness, office: Office) -> str:
    ticket = await services.open_service_ticket(
        h.portal.uow(), CARLA, "10001R002", "Socket 2 stops after a minute", origin=CARLA_DM
    )
    await services.set_ticket_status(h.portal.uow(), Agent(AGENT), ticket.reference, "resolved")
    await office.deliver()
    return ticket.reference


async def test_resolved_requester_reopens_by_button_then_the_agent_resolves_again(slack: Harness) -> None:
    h, office = slack, Office.of(slack)
    reference = await carlas_resolved_ticket(h, office)
    [resolved] = [c for c in sent(h, "chat.postMessage", "U0CARLA") if "resolved" in c.args["text"]]
    assert "Your service ticket ST-000001 is now resolved." in resolved.args["text"]
    _, action_id, value = button(resolved, "Reopen ST-000001")
    assert (action_id, value) == ("request_reopen", reference)
    [card] = [c for c in sent(h, "chat.update", TRIAGE)][-1:]
    assert titles(card.args) == ["Reopen", "Close", "Reply to requester"]  # agents may reopen a resolved ticket too

    h.fake.clear()
    await press(h, "U0CARLA", "DU0CARLA", action_id, value)
    said = await ephemeral_to(h, "U0CARLA", "open again")
    assert "ST-000001 is open again" in said.args["text"]
    assert await status_of(h, reference) == "open"  # nobody had it: back to open
    await office.deliver()
    [updated] = sent(h, "chat.update", TRIAGE)  # the card, refreshed in place, once
    assert titles(updated.args) == [
        *("In progress", "Resolve", "Assign to me", "Reject", "Duplicate of…"),
        *("Reply to requester", "Ask for information"),  # writing to the requester (issue 16 §1)
    ]
    assert "Reopened by carla@citycharge.example" in json.dumps(updated.args["blocks"])
    [told] = sent(h, "chat.postMessage", "U0CARLA")
    assert "ST-000001 is now open" in told.args["text"]

    # Pressed again: already open, nothing changes, no second event.
    h.fake.clear()
    await press(h, "U0CARLA", "DU0CARLA", action_id, value)
    await ephemeral_to(h, "U0CARLA", "nothing to reopen")
    await office.deliver()
    assert sent(h, "chat.update", TRIAGE) == []

    # The agent takes it, resolves it again; reopened now it goes back to the agent (in progress).
    await press(h, AGENT, TRIAGE, "triage_assign", reference)
    await office.deliver()
    await press(h, AGENT, TRIAGE, "triage_resolve", reference)
    await status_becomes(h, reference, "resolved")
    await press(h, AGENT, TRIAGE, "triage_reopen", reference)
    await status_becomes(h, reference, "in_progress")
    await press(h, AGENT, TRIAGE, "triage_resolve", reference)
    await status_becomes(h, reference, "resolved")
    async with h.portal.engine.connect() as conn:
        steps = (await conn.execute(select(tables.request_transitions.c.to_status))).scalars().all()
    assert steps == ["open", "resolved", "open", "resolved", "in_progress", "resolved"]


async def test_after_the_window_reopening_is_refused_with_a_new_linked_ticket_offered(
    slack: Harness, clock: FrozenClock
) -> None:
    h, office = slack, Office.of(slack)
    reference = await carlas_resolved_ticket(h, office)
    clock.advance(timedelta(days=15))  # CHARGEDESK_REOPEN_DAYS is 14 by default

    answer = await support_command(h, "U0CARLA", f"reopen {reference.lower()} it stops again after a minute")
    assert "can't be reopened any more" in shown(answer) and "more than 14 days ago" in shown(answer)
    assert titles(answer) == ["Open a new ticket"]
    assert await status_of(h, reference) == "resolved"

    # The button of the resolution message says the same.
    [resolved] = [c for c in sent(h, "chat.postMessage", "U0CARLA") if "resolved" in c.args["text"]]
    _, action_id, value = button(resolved, "Reopen ST-000001")
    await press(h, "U0CARLA", "DU0CARLA", action_id, value)
    offer = await ephemeral_to(h, "U0CARLA", "can't be reopened any more")
    assert titles(offer.args) == ["Open a new ticket"]
    assert await status_of(h, reference) == "resolved"

    # Accepting the offer files one ticket that follows the old one, however often pressed.
    [follow] = [
        e
        for b in answer["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "request_follow_up"
    ]
    h.fake.clear()
    status, _ = await h.sender.interaction(
        payloads.block_actions(
            "U0CARLA", "T0HOME", CHANNEL, "1700000000.000100", "request_follow_up", value=follow["value"]
        )
    )
    assert status == 200
    done = await ephemeral_to(h, "U0CARLA", "ST-000002")
    assert "refers to ST-000001" in done.args["text"]
    status, _ = await h.sender.interaction(
        payloads.block_actions(
            "U0CARLA", "T0HOME", CHANNEL, "1700000000.000100", "request_follow_up", value=follow["value"]
        )
    )
    await asyncio.sleep(0.2)
    async with h.portal.engine.connect() as conn:
        rows = (await conn.execute(select(tables.requests.c.reference, tables.requests.c.follows))).all()
    assert sorted(rows) == [("ST-000001", None), ("ST-000002", "ST-000001")]
    new = await services.get_request(h.portal.uow(), Agent(AGENT), "ST-000002")
    assert "it stops again after a minute" in new.description
    await office.deliver()
    [card] = [c for c in sent(h, "chat.postMessage", TRIAGE) if "ST-000002" in c.args["text"]]
    assert "Follows ST-000001" in json.dumps(card.args["blocks"])

    # Agents may reopen whenever it was resolved.
    await press(h, AGENT, TRIAGE, "triage_reopen", reference)
    await status_becomes(h, reference, "open")


async def test_support_reopen_without_a_reason_is_the_usage_line_and_changes_nothing(
    slack: Harness,
) -> None:
    h, office = slack, Office.of(slack)
    reference = await carlas_resolved_ticket(h, office)
    for typed in ("reopen", f"reopen {reference}"):
        answer = await support_command(h, "U0CARLA", typed)
        assert "`reopen ST-000012 it stops charging again`" in shown(answer)
        assert "Nothing was changed." in shown(answer)
        assert titles(answer) == []
    assert await status_of(h, reference) == "resolved"

    answer = await support_command(h, "U0CARLA", f"reopen {reference} socket 2 stops again")
    assert "ST-000001 is open again with your note" in shown(answer)
    assert await status_of(h, reference) == "open"
    async with h.portal.engine.connect() as conn:
        reason = await conn.scalar(
            select(tables.request_transitions.c.reason).order_by(tables.request_transitions.c.id.desc()).limit(1)
        )
    assert reason == "socket 2 stops again"


async def test_a_forged_or_foreign_reopen_is_refused_audited_and_changes_nothing(slack: Harness) -> None:
    h, office = slack, Office.of(slack)
    reference = await carlas_resolved_ticket(h, office)
    # ben (GreenFleet) presses carla's Reopen (its value forged into his own message).
    await press(h, "U0BEN", "DU0BEN", "request_reopen", reference)
    refused = await ephemeral_to(h, "U0BEN", "Nothing was changed")
    assert "can't find a request ST-000001 that you can see" in refused.args["text"]
    # A value that names no request at all, and /support from another organization.
    await press(h, "U0BEN", "DU0BEN", "request_reopen", "<!channel> DROP")
    await ephemeral_to(h, "U0BEN", "doesn't name a request")
    answer = await support_command(h, "U0BEN", f"reopen {reference} still broken")
    assert "There is no request ST-000001 that you can see" in shown(answer)
    entries = await services.audit_entries(h.portal.uow())
    assert [(e.actor, e.action, e.outcome) for e in entries] == [
        ("slack:U0BEN", "reopen", "UnknownRequest"),
        ("slack:U0BEN", "reopen", "ForgedValue"),
        ("slack:U0BEN", "reopen", "UnknownRequest"),
    ]
    assert await status_of(h, reference) == "resolved"
    # A customer pressing the agents' Reopen on the triage card: refused as not an agent.
    await press(h, "U0CARLA", TRIAGE, "triage_reopen", reference)
    await ephemeral_to(h, "U0CARLA", "Only support agents")
    assert await status_of(h, reference) == "resolved"


async def test_reject_with_a_reason_and_duplicate_of_links_and_closes(slack: Harness) -> None:
    h, office = slack, Office.of(slack)
    first = await services.open_service_ticket(h.portal.uow(), CARLA, "10001R002", "Socket 2 stops", origin=CARLA_DM)
    second = await services.open_service_ticket(
        h.portal.uow(), CARLA, "10001R002", "Socket 2 stops after a minute", origin={**CARLA_DM, "language": "nl"}
    )
    third = await services.open_service_ticket(h.portal.uow(), CARLA, "10001R002", "Please call me", origin=CARLA_DM)
    await office.deliver()
    h.fake.clear()

    # Reject: a modal asks why; without a reason the modal says so; with one the ticket is rejected.
    trigger = await press(h, AGENT, TRIAGE, "triage_reject", third.reference)
    [opened] = await h.fake.wait_for("views.open", where=lambda c: c.args.get("trigger_id") == trigger)
    view = opened.args["view"]
    answer = await submit(h, AGENT, view["callback_id"], view, {"reason": "  "})
    assert answer.get("response_action") == "errors"
    assert await status_of(h, third.reference) == "open"
    assert (
        await submit(h, AGENT, view["callback_id"], view, {"reason": "Not a charger fault: a call-back request"}) == {}
    )
    assert await status_of(h, third.reference) == "rejected"
    await office.deliver()
    [told] = [c for c in sent(h, "chat.postMessage", "U0CARLA") if third.reference in c.args["text"]]
    assert "rejected by support" in told.args["text"] and "Not a charger fault" in told.args["text"]

    # Duplicate of…: a modal asks the other ticket's reference (as typed); an unknown one is refused in the modal.
    h.fake.clear()
    trigger = await press(h, AGENT, TRIAGE, "triage_duplicate", second.reference)
    [opened] = await h.fake.wait_for("views.open", where=lambda c: c.args.get("trigger_id") == trigger)
    view = opened.args["view"]
    answer = await submit(h, AGENT, view["callback_id"], view, {"original": "ST-999"})
    assert answer["response_action"] == "errors" and "ST-999" in answer["errors"]["original"]
    answer = await submit(h, AGENT, view["callback_id"], view, {"original": second.reference})
    assert answer["response_action"] == "errors"  # not a duplicate of itself
    assert await submit(h, AGENT, view["callback_id"], view, {"original": "st-1"}) == {}
    assert await status_of(h, second.reference) == "closed"
    async with h.portal.engine.connect() as conn:
        linked = await conn.scalar(
            select(tables.requests.c.duplicate_of).where(tables.requests.c.reference == second.reference)
        )
    assert linked == first.reference
    await office.deliver()
    [card] = [c for c in sent(h, "chat.update", TRIAGE) if second.reference in c.args["text"]]
    assert "Duplicate of ST-000001" in json.dumps(card.args["blocks"]) and titles(card.args) == []
    [told] = [c for c in sent(h, "chat.postMessage", "U0CARLA") if second.reference in c.args["text"]]
    # In the language the ticket was filed in (Dutch), with the other reference.
    assert told.args["text"] == (
        "Je servicemelding ST-000002 gaat over hetzelfde probleem als ST-000001, dus support heeft hem gesloten en "
        "gaat verder onder ST-000001."
    )
    assert await status_of(h, first.reference) == "open"
