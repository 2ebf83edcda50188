"""Steps several Slack tests share."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Protocol, Self

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.egress.delivery import SlackSender
from bot.slack.egress.notifier import Notifier
from bot.slack.people.agents import Agents
from bot.slack.people.registry import People
from tests.support import payloads
from tests.support.fake_slack import Call, FakeSlack
from tests.support.harness import AGENT, TRIAGE, Harness, button
from tests.support.signing import SlackSender as SignedRequests

TRANSFER_REASON = "Bought from VoltWay with the installation in 2025"
_response_urls = itertools.count(1)


class Surface(Protocol):
    """What sending a slash command needs: the app's signed sender and the fake Slack recording its answers."""

    @property
    def fake(self) -> FakeSlack: ...

    @property
    def sender(self) -> SignedRequests: ...


async def support_command(
    h: Surface, user: str, text: str, *, channel: str = "C0SHARED", team: str = "T0HOME"
) -> dict[str, Any]:
    """`/support text` as `user`: the ephemeral answer the app posted to the command's response_url (the
    acknowledgement itself is empty: the answer always comes through the response_url)."""
    name = f"support{next(_response_urls)}"
    status, body = await h.sender.command(
        payloads.slash_command(user, team, channel, "/support", text, response_url=h.fake.response_url(name))
    )
    assert (status, body) == (200, ""), body
    [posted] = await h.fake.wait_for("response_url", where=lambda c: c.ok and c.path == f"/response/{name}")
    answer: dict[str, Any] = posted.args
    assert answer["response_type"] == "ephemeral"
    return answer


@dataclass
class Office:
    """The app on loopback with what `chargedesk run` does in the background: the notifier and the sender, which the
    tests run until idle when they want the outbox's messages delivered."""

    h: Harness
    notifier: Notifier
    sender: SlackSender

    @classmethod
    def of(cls, h: Harness) -> Self:
        client = AsyncWebClient(token="xoxb-test", base_url=h.fake.base_url)
        agents = Agents(client, frozenset({AGENT}))
        notifier = Notifier(h.portal, People(h.portal.engine, client), TRIAGE, is_support=agents.is_agent)
        return cls(h, notifier, SlackSender(h.portal.engine, client, interval=0.0))

    async def deliver(self) -> None:
        """Let the background work run: the outbox becomes Slack messages."""
        while await self.notifier.run_once():
            pass
        await self.sender.drain(timeout=10)


async def open_transfer_modal(h: Harness, channel: str = "C0SHARED") -> dict[str, Any]:
    """ben mentions his broken charger, is told why, presses "Request a management transfer": the modal's view."""
    await h.sender.event(
        payloads.app_mention("U0BEN", "<@UBOT> our charger ACE0100002 is broken", channel, payloads.next_ts())
    )
    [why] = await h.fake.wait_for("chat.postEphemeral")
    await press_button(h, "U0BEN", why, "Request a management transfer", channel)
    [opened] = await h.fake.wait_for("views.open")
    view: dict[str, Any] = opened.args["view"]
    return view


async def press_button(
    h: Harness, user: str, message: Call, title: str, channel: str = "C0SHARED", *, user_team: str | None = None
) -> str:
    """Press the button titled `title` in a recorded ephemeral message; returns the trigger id."""
    block_id, action_id, value = button(message, title)
    trigger = payloads.new_trigger_id()
    status, _ = await h.sender.interaction(
        payloads.block_actions(
            user,
            "T0HOME",
            channel,
            payloads.next_ts(),
            action_id,
            value=value,
            block_id=block_id,
            trigger_id=trigger,
            is_ephemeral=True,
            user_team=user_team,
        )
    )
    assert status == 200
    return trigger


def transfer_state(description: str = TRANSFER_REASON) -> dict[str, Any]:
    """The transfer modal filled in: ACE0100002, a reason, the terms accepted."""
    return {
        "serials": {"value": payloads.plain_text_value("ACE0100002")},
        "description": {"value": payloads.plain_text_value(description)},
        "transfer_confirmed": {"value": payloads.checkboxes_value(["true"])},
    }
