"""Agents decide in Slack, the Service Operator consents, everyone is notified — end to end on loopback.

The notifier turns the portal's outbox into deliveries and the sender delivers them to the fake Slack; the tests
run both by hand between steps, as `chargedesk run` does in the background.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bot.slack.egress.delivery import SlackSender
from bot.slack.egress.notifier import Notifier
from bot.slack.ingress.conversations import SlackConversations
from bot.slack.messages.home import home_view
from bot.slack.messages.modals import FORM_CALLBACK
from bot.slack.people.agents import Agents
from bot.slack.people.identity import Directory
from bot.slack.people.registry import People
from portal import services
from portal.adapters import tables
from portal.status_text import STATUS_LABELS
from tests.conftest import FrozenClock
from tests.support import payloads
from tests.support.fake_slack import Call
from tests.support.harness import AGENT, TRIAGE, Harness, button, inputs, text_of
from tests.support.journeys import TRANSFER_REASON, Office, open_transfer_modal, press_button, transfer_state

CHANNEL = "C0SHARED"


class Desk(Office):
    async def press(self, user: str, channel: str, action_id: str, value: str, *, team: str = "T0HOME") -> None:
        status, _ = await self.h.sender.interaction(
            payloads.block_actions(
                user,
                team,
                channel,
                payloads.next_ts(),
                action_id,
                value=value,
                block_id="b",
                trigger_id=payloads.new_trigger_id(),
                user_team=None if team == "T0HOME" else team,
            )
        )
        assert status == 200

    async def status_becomes(self, reference: str, status: str, within: float = 5.0) -> None:
        """Wait for a decision to commit: listeners acknowledge first and work after the HTTP response."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            current = (await services.get_request(self.h.portal.uow(), services_agent(), reference)).summary.status
            if current == status:
                return
            assert asyncio.get_running_loop().time() < deadline, f"{reference} stayed {current}, expected {status}"
            await asyncio.sleep(0.02)

    async def submit(self, user: str, callback: str, view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        state = {block: {"value": element} for block, element in values.items()}
        status, body = await self.h.sender.interaction(
            payloads.view_submission(user, "T0HOME", callback, str(view["private_metadata"]), state)
        )
        assert status == 200
        return json.loads(body) if body else {}


@pytest.fixture
async def desk(slack: Harness) -> Desk:
    return Desk.of(slack)


def sent(h: Harness, method: str, channel: str) -> list[Call]:
    return [c for c in h.fake.calls_to(method) if c.ok and c.args.get("channel") == channel]


def has_buttons(call: Call) -> bool:
    return any(b.get("type") == "actions" for b in call.args.get("blocks") or [])


async def operator_of(h: Harness, serial: str) -> str:
    c, o = tables.chargers, tables.organizations
    async with h.portal.engine.connect() as conn:
        return str(
            await conn.scalar(select(o.c.name).join(c, c.c.service_operator_id == o.c.id).where(c.c.serial == serial))
        )


async def ben_requests_a_transfer(d: Desk) -> str:
    view = await open_transfer_modal(d.h)
    state = transfer_state()
    status, _ = await d.h.sender.interaction(
        payloads.view_submission("U0BEN", "T0HOME", FORM_CALLBACK, str(view["private_metadata"]), state)
    )
    assert status == 200
    return "MT-000001"


async def test_bens_transfer_consented_approved_and_his_first_ticket(desk: Desk) -> None:
    d, h = desk, desk.h
    reference = await ben_requests_a_transfer(d)
    await d.deliver()

    [triage] = sent(h, "chat.postMessage", TRIAGE)
    assert reference in text_of(triage)
    assert "ben@greenfleet.example" in text_of(triage) and "VoltWay Resellers BV" in text_of(triage)
    assert "warranty until" in text_of(triage)
    assert button(triage, "Approve")[2] == reference
    [ask] = sent(h, "chat.postMessage", "U0ANNA")  # anna (VoltWay, the current SO) is asked in her DM
    assert button(ask, "Consent")[2] == reference
    [receipt] = sent(h, "chat.postMessage", "U0BEN")  # filed in a channel: ben keeps a record in his DM
    assert reference in receipt.args["text"]

    await d.press("U0ANNA", "D0ANNA", "consent_yes", reference, team="T0VOLT")
    await d.status_becomes(reference, "awaiting_support")
    await d.deliver()
    [answered] = sent(h, "chat.update", "DU0ANNA")  # her DM, updated in place
    assert "consented by anna@voltway.example" in text_of(answered) and not has_buttons(answered)
    [_, ben_dm] = sent(h, "chat.postMessage", "U0BEN")  # one message for one step
    assert "VoltWay Resellers BV consented" in ben_dm.args["text"]

    await d.press(AGENT, TRIAGE, "triage_approve", reference)
    await d.status_becomes(reference, "completed")
    await d.deliver()
    assert await operator_of(h, "ACE0100002") == "GreenFleet Logistics"
    final = [c for c in h.fake.calls_to("chat.update") if c.ok and c.args["channel"] == TRIAGE][-1]
    assert final.args["ts"] == triage.response["ts"]  # the same message, updated in place
    assert "completed" in text_of(final) and f"<@{AGENT}>" in json.dumps(final.args["blocks"])
    assert not has_buttons(final)  # decided: the buttons are gone
    assert any("now the Service Operator of ACE0100002" in c.args["text"] for c in sent(h, "chat.postMessage", "U0BEN"))
    thread_notes = [c for c in sent(h, "chat.postMessage", CHANNEL) if c.args.get("thread_ts")]
    assert any("There's an update on MT-000001; <@U0BEN> has the details" in c.args["text"] for c in thread_notes)

    # ben can now raise a ticket on it: the modal offers the charger, and the ticket is filed.
    await h.sender.event(payloads.app_mention("U0BEN", "<@UBOT> I have a question", CHANNEL, payloads.next_ts()))
    categories = (await h.fake.wait_for("chat.postEphemeral", count=2))[-1]
    await press_button(h, "U0BEN", categories, "A service request on a charger", CHANNEL)
    opened = (await h.fake.wait_for("views.open", count=2))[-1]
    assert [o["value"] for o in inputs(opened.args["view"])["serial"]["options"]] == ["ACE0100002"]
    answer = await d.submit(
        "U0BEN",
        FORM_CALLBACK,
        opened.args["view"],
        {
            "serial": payloads.static_select_value("ACE0100002"),
            "description": payloads.plain_text_value("Error 42 on the display since Monday"),
        },
    )
    assert "ST-000001" in json.dumps(answer["view"])


def services_agent() -> Any:
    from portal.domain.actors import Agent

    return Agent(AGENT)


async def test_anna_declines(desk: Desk) -> None:
    d, h = desk, desk.h
    reference = await ben_requests_a_transfer(d)
    await d.deliver()
    await d.press("U0ANNA", "D0ANNA", "consent_no", reference, team="T0VOLT")
    await d.status_becomes(reference, "declined_by_operator")
    await d.deliver()
    assert any("declined your management transfer" in c.args["text"] for c in sent(h, "chat.postMessage", "U0BEN"))
    final = [c for c in h.fake.calls_to("chat.update") if c.ok and c.args["channel"] == TRIAGE][-1]
    assert not has_buttons(final)
    assert await operator_of(h, "ACE0100002") == "VoltWay Resellers BV"


async def test_a_non_agent_pressing_approve_is_refused_and_audited(desk: Desk) -> None:
    d, h = desk, desk.h
    reference = await ben_requests_a_transfer(d)
    await d.deliver()
    await d.press("U0CARLA", TRIAGE, "triage_approve", reference)
    [refusal] = await h.fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("user") == "U0CARLA")
    assert "Only support agents" in refusal.args["text"]
    assert (
        await services.get_request(h.portal.uow(), services_agent(), reference)
    ).summary.status == "awaiting_operator"
    [entry] = await services.audit_entries(h.portal.uow(), reference)
    assert (entry.actor, entry.action, entry.outcome) == ("slack:U0CARLA", "triage_approve", "NotSupportAgent")
    # Consent by someone who is not the charger's Service Operator: refused and audited too.
    await d.press("U0CARLA", "D0CARLA", "consent_yes", reference)
    await h.fake.wait_for("chat.postEphemeral", count=2, where=lambda c: c.args.get("user") == "U0CARLA")
    assert [e.outcome for e in await services.audit_entries(h.portal.uow(), reference)] == [
        "NotSupportAgent",
        "NotServiceOperator",
    ]


async def test_dave_is_linked_to_greenfleet_by_an_agent(desk: Desk) -> None:
    d, h = desk, desk.h
    await h.sender.interaction(
        payloads.block_actions(
            "U0DAVE",
            "T0HOME",
            CHANNEL,
            payloads.next_ts(),
            "chargedesk_press_1",
            value="/request_admin_change",
            block_id="cd0|-",
            trigger_id=payloads.new_trigger_id(),
        )
    )
    [opened] = await h.fake.wait_for("views.open")
    await d.submit(
        "U0DAVE",
        FORM_CALLBACK,
        opened.args["view"],
        {
            "description": payloads.plain_text_value("Please link me to GreenFleet Logistics, I run their depot"),
        },
    )
    await d.deliver()
    [triage] = sent(h, "chat.postMessage", TRIAGE)
    assert button(triage, "Link account to an organization")[2] == "AR-000001"

    await d.press(AGENT, TRIAGE, "triage_link", "AR-000001")
    link = (await h.fake.wait_for("views.open", count=2))[-1]
    names = [o["value"] for o in inputs(link.args["view"])["organization"]["options"]]
    assert "GreenFleet Logistics" in names
    await d.submit(
        AGENT,
        "triage_link",
        link.args["view"],
        {
            "organization": payloads.static_select_value("GreenFleet Logistics"),
        },
    )
    await d.deliver()
    assert any("now linked to GreenFleet Logistics" in c.args["text"] for c in sent(h, "chat.postMessage", "U0DAVE"))
    overview = await services.account_overview(h.portal.uow(), "dave@newcustomer.example")
    assert overview.organization == "GreenFleet Logistics"
    detail = await services.get_request(h.portal.uow(), services_agent(), "AR-000001")
    assert detail.summary.status == "resolved"
    final = [c for c in h.fake.calls_to("chat.update") if c.ok and c.args["channel"] == TRIAGE][-1]
    assert not has_buttons(final)


# ---------------------------------------------------------------------------------------------- shared channels


def public_posts(h: Harness) -> list[Call]:
    """Every message posted to a channel other than a DM and the agents' private triage channel."""
    return [
        c
        for c in h.fake.calls_to("chat.postMessage")
        if c.ok and not str(c.args["channel"]).startswith(("D", "U")) and c.args["channel"] != TRIAGE
    ]


async def test_no_public_message_shows_a_status_an_organization_a_serial_or_a_description(desk: Desk) -> None:
    """A transfer filed in a shared channel, consented, approved: its thread learns the reference, nothing else."""
    d, h = desk, desk.h
    reference = await ben_requests_a_transfer(d)
    await d.deliver()
    await d.press("U0ANNA", "D0ANNA", "consent_yes", reference, team="T0VOLT")
    await d.status_becomes(reference, "awaiting_support")
    await d.deliver()
    await d.press(AGENT, TRIAGE, "triage_approve", reference)
    await d.status_becomes(reference, "completed")
    await d.deliver()

    posts = public_posts(h)
    assert len(posts) >= 3  # the filing, the consent and the approval were each noted in the thread
    forbidden = [
        *STATUS_LABELS.values(),
        *(status.replace("_", " ") for _, status in STATUS_LABELS),
        *(status for _, status in STATUS_LABELS),
        "VoltWay",
        "GreenFleet",
        "CityCharge",
        "ACE0100002",
        TRANSFER_REASON,
        "ben@greenfleet.example",
    ]
    for post in posts:
        shown = json.dumps({k: post.args.get(k) for k in ("text", "blocks", "attachments")})
        leaked = [word for word in forbidden if re.search(rf"\b{re.escape(word)}\b", shown, re.IGNORECASE)]
        assert leaked == [], (leaked, post.args["text"])
        assert reference in shown
    print(
        f"[{h.portal.engine.dialect.name}] {len(posts)} public thread messages of a transfer: "
        "0 statuses, organizations, serials or descriptions"
    )


async def test_app_home_refreshes_go_through_the_durable_home_lane(desk: Desk, clock: FrozenClock) -> None:
    """A refresh refused with a long Retry-After waits in the requester's home lane instead of being lost."""
    d, h = desk, desk.h
    client = AsyncWebClient(token="xoxb-test", base_url=h.fake.base_url)
    directory = Directory(client, h.portal)
    people = People(h.portal.engine, client, directory)
    conversations = SlackConversations(h.engine, h.portal, client, directory, people)
    agents = Agents(client, frozenset({AGENT}), None, directory=directory)

    async def home_of(user_id: str, team_id: str) -> dict[str, Any]:
        return await home_view(conversations, agents, user_id, team_id)

    notifier = Notifier(h.portal, people, TRIAGE, home_of, clock=clock)
    sender = SlackSender(h.portal.engine, client, clock=clock, interval=0.0)
    reference = await ben_requests_a_transfer(d)
    while await notifier.run_once():
        pass
    h.fake.fail_next("views.publish", status=429, retry_after=30)
    await sender.drain(timeout=5)
    assert [c.http_status for c in h.fake.calls_to("views.publish")] == [429]
    assert await sender.pending() == 1  # waiting out Retry-After in its lane, not lost

    clock.advance(timedelta(seconds=31))
    await sender.drain(timeout=5)
    [_, published] = h.fake.calls_to("views.publish")
    assert published.ok and published.args["user_id"] == "U0BEN"
    assert reference in json.dumps(published.args["view"])
    assert await sender.pending() == 0
