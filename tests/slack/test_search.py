"""Agents search requests from their App Home (a modal), and triage cards follow a completed transfer — on loopback.

Only agents may open or submit the search; anyone else is refused and audited. When a transfer completes, the cards
of the other requests still under way on its chargers are updated in place to show the new Service Operator.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.slack.messages.modals import FORM_CALLBACK
from bot.slack.messages.search import SEARCH_CALLBACK, search_view
from portal import services
from portal.domain.actors import Agent
from portal.languages.texts import texts
from portal.services.overview import QueueItem
from portal.views import RequestSummary
from tests.support import payloads
from tests.support.fake_slack import Call
from tests.support.harness import AGENT, TRIAGE, Harness, text_of
from tests.support.journeys import Office, open_transfer_modal, transfer_state

ANNA = "anna@voltway.example"


async def press(h: Harness, user: str, action_id: str, value: str, *, team: str = "T0HOME") -> None:
    status, _ = await h.sender.interaction(
        payloads.block_actions(
            user,
            team,
            f"D{user}",
            payloads.next_ts(),
            action_id,
            value=value,
            trigger_id=payloads.new_trigger_id(),
            user_team=None if team == "T0HOME" else team,
        )
    )
    assert status == 200


async def search(h: Harness, user: str, query: str) -> dict[str, Any]:
    """Submit the search modal as `user` with `query`; the app's answer (its response_action)."""
    state = {"query": {"value": payloads.plain_text_value(query)}}
    status, body = await h.sender.interaction(payloads.view_submission(user, "T0HOME", SEARCH_CALLBACK, "", state))
    assert status == 200
    answer: dict[str, Any] = json.loads(body) if body else {}
    return answer


def shown(view: dict[str, Any]) -> str:
    return " ".join(
        str(b.get("text", {}).get("text", "")) + " ".join(str(e.get("text", "")) for e in b.get("elements") or [])
        for b in view["blocks"]
    )


async def home_of(h: Harness, user: str) -> dict[str, Any]:
    h.fake.clear()
    status, _ = await h.sender.event(payloads.app_home_opened(user))
    assert status == 200
    [published] = await h.fake.wait_for("views.publish")
    view: dict[str, Any] = published.args["view"]
    return view


def search_button(view: dict[str, Any]) -> dict[str, Any] | None:
    for block in view["blocks"]:
        for element in block.get("elements") or []:
            if element.get("type") == "button" and element["text"]["text"] == "Search requests":
                return dict(element)
    return None


async def refusals(h: Harness) -> list[tuple[str, str, str]]:
    return [
        (e.actor, e.action, e.outcome) for e in await services.audit_entries(h.portal.uow()) if e.action == "search"
    ]


async def test_an_agent_searches_from_the_app_home(slack: Harness) -> None:
    h = slack
    await services.open_service_ticket(h.portal.uow(), ANNA, "ACE0100002", "Cable lock stuck on socket 2")
    await services.assign_request(h.portal.uow(), Agent(AGENT), "ST-000001")

    button = search_button(await home_of(h, AGENT))
    assert button is not None
    assert search_button(await home_of(h, "U0CARLA")) is None  # customers' Home tab has none

    await press(h, AGENT, button["action_id"], button["value"])
    [opened] = await h.fake.wait_for("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == SEARCH_CALLBACK and view["blocks"][0]["element"]["max_length"] == 100

    for query in ("ace 010 0002", "st 1", "voltway"):
        answer = await search(h, AGENT, query)
        assert answer["response_action"] == "update", query
        assert answer["view"]["callback_id"] == SEARCH_CALLBACK
        text = shown(answer["view"])
        assert "1 request found" in text, query
        for part in ("ST-000001", "service ticket", "ACE0100002", "VoltWay Resellers BV", "open", f"<@{AGENT}>"):
            assert part in text, (query, part)
        assert answer["view"]["blocks"][0]["element"]["initial_value"] == query  # to search again from there

    nothing = await search(h, AGENT, "Volt_ay")  # a LIKE wildcard is a literal character
    assert nothing["response_action"] == "update"
    assert "Nothing found for “Volt_ay”" in shown(nothing["view"])
    assert await refusals(h) == []


async def test_a_non_agent_is_refused_and_audited(slack: Harness) -> None:
    h = slack
    await services.open_service_ticket(h.portal.uow(), ANNA, "ACE0100002", "Cable lock stuck on socket 2")

    await press(h, "U0ANNA", "agent_search_open", "search", team="T0VOLT")
    [opened] = await h.fake.wait_for("views.open")
    assert "Only support agents can search requests." in shown(opened.args["view"])
    assert "callback_id" not in opened.args["view"] or opened.args["view"]["callback_id"] != SEARCH_CALLBACK

    answer = await search(h, "U0CARLA", "ACE0100002")  # a submission made up without the modal
    assert answer == {"response_action": "errors", "errors": {"query": "Only support agents can search requests."}}
    assert "ST-000001" not in json.dumps(answer)
    assert await refusals(h) == [
        ("slack:U0ANNA", "search", "NotSupportAgent"),
        ("slack:U0CARLA", "search", "NotSupportAgent"),
    ]


@pytest.mark.parametrize("query", ["x" * 101, "ACE0100002" * 50])
async def test_a_forged_oversized_query_is_refused_and_audited(slack: Harness, query: str) -> None:
    answer = await search(slack, AGENT, query)
    assert answer["response_action"] == "errors"
    assert "at most 100 characters" in answer["errors"]["query"]
    assert query not in json.dumps(answer)  # not echoed back
    assert await refusals(slack) == [(f"agent:{AGENT}", "search", "ForgedValue")]


async def test_garbage_finds_nothing(slack: Harness) -> None:
    for query in ("", "   ", "a\x00b", "\x1b[2J", "%%"):
        answer = await search(slack, AGENT, query)
        assert answer["response_action"] == "update", repr(query)
        assert "Nothing found" in shown(answer["view"])


def sent(h: Harness, method: str, channel: str) -> list[Call]:
    return [c for c in h.fake.calls_to(method) if c.ok and c.args.get("channel") == channel]


async def status_becomes(h: Harness, reference: str, status: str) -> None:
    for _ in range(250):
        if (await services.get_request(h.portal.uow(), Agent(AGENT), reference)).summary.status == status:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{reference} never became {status}")


async def test_a_completed_transfer_updates_the_other_tickets_card(slack: Harness) -> None:
    h = slack
    office = Office.of(h)
    await services.open_service_ticket(h.portal.uow(), ANNA, "ACE0100002", "Cable lock stuck on socket 2")
    await services.open_service_ticket(h.portal.uow(), "carla@citycharge.example", "10001R001", "Display dark")
    await office.deliver()
    cards = {c.args["text"].split(":")[0]: c for c in sent(h, "chat.postMessage", TRIAGE)}
    ticket_card = cards["Service ticket ST-000001"]
    assert "SO VoltWay Resellers BV" in text_of(ticket_card)

    view = await open_transfer_modal(h)
    status, _ = await h.sender.interaction(
        payloads.view_submission("U0BEN", "T0HOME", FORM_CALLBACK, str(view["private_metadata"]), transfer_state())
    )
    assert status == 200
    await office.deliver()
    await press(h, "U0ANNA", "consent_yes", "MT-000001", team="T0VOLT")
    await status_becomes(h, "MT-000001", "awaiting_support")
    await office.deliver()
    before = len(sent(h, "chat.update", TRIAGE))
    await press(h, AGENT, "triage_approve", "MT-000001")
    await status_becomes(h, "MT-000001", "completed")
    await office.deliver()

    updates = sent(h, "chat.update", TRIAGE)[before:]
    [ticket] = [c for c in updates if "ST-000001" in c.args["text"]]
    assert ticket.args["ts"] == ticket_card.response["ts"]  # the same card, in place
    assert "SO GreenFleet Logistics (SO VoltWay Resellers BV when filed)" in text_of(ticket)
    assert not [c for c in updates if "ST-000002" in c.args["text"]]  # another charger: left alone
    await office.deliver()  # nothing is sent twice
    assert len([c for c in sent(h, "chat.update", TRIAGE) if "ST-000001" in c.args["text"]]) == 1


def test_the_modal_speaks_the_agents_language() -> None:
    now = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    filed = now - timedelta(days=3)
    item = QueueItem(RequestSummary("ST-000001", "service_ticket", "open", ("ACE0100002",), filed, filed), "X", None)
    dutch = shown(search_view(texts("nl"), "ace", [item], now))
    assert "Aanvragen zoeken" in json.dumps(search_view(texts("nl")), ensure_ascii=False)
    assert "1 aanvraag gevonden voor “ace”" in dutch and "3 dagen geleden ingediend" in dutch
    german = shown(search_view(texts("de"), "zzz", [], now))
    assert "Nichts gefunden für „zzz“" in german
