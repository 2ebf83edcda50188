"""`/support` and the App Home tab end to end: signed requests → the app on loopback → the fake Web API.

The app is built like the `slack` fixture's (build_app), with the command and home listeners registered on it
and agents configured.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text as sql

from bot.config import Settings
from bot.engine.actions import InProcessActions
from bot.engine.design import ConversationDesign
from bot.engine.engine import Engine
from bot.engine.store import TrackerStore
from bot.engine.understanding import Interpreter
from bot.slack.app import build_app, web_app
from bot.slack.listeners import commands
from bot.slack.messages import support
from bot.slack.people import identity
from bot.slack.people.identity import IDENTITY_UNAVAILABLE
from portal import services
from portal.bootstrap import Portal
from portal.domain.actors import Agent
from tests.conftest import FrozenClock
from tests.support import payloads
from tests.support.fake_slack import Call, FakeSlack, start_local_server
from tests.support.harness import SECRET, USERS, inputs
from tests.support.journeys import support_command
from tests.support.signing import SlackSender

CHANNEL = "C0SHARED"
AGENT = "U0AGENT"  # a support agent without a portal account
AGENT_CUSTOMER = "U0ERIN"  # an agent who also has an account (erin, GreenFleet)
AGENT_USERS = {
    AGENT: {"team_id": "T0HOME", "email": "agent@chargedesk.example", "name": "agent"},
    AGENT_CUSTOMER: {"team_id": "T0HOME", "email": "erin@greenfleet.example", "name": "erin"},
}
CARLA, BEN, ANNA = "carla@citycharge.example", "ben@greenfleet.example", "anna@voltway.example"


@dataclass
class Desk:
    fake: FakeSlack
    sender: SlackSender
    portal: Portal

    async def command(self, user: str, text: str, *, channel: str = CHANNEL) -> dict[str, Any]:
        """Send `/support text`; the answer the app posted to the command's response_url (ephemeral)."""
        answer = await support_command(self, user, text, channel=channel)
        answer.setdefault("blocks", [])
        return answer

    async def home(self, user: str) -> dict[str, Any]:
        """Open the Home tab as `user`; the view the app published."""
        self.fake.clear()
        status, _ = await self.sender.event(payloads.app_home_opened(user))
        assert status == 200
        [published] = await self.fake.wait_for("views.publish")
        assert published.args["user_id"] == user
        view: dict[str, Any] = published.args["view"]
        assert view["type"] == "home"
        return view


@pytest.fixture
async def desk(portal: Portal, trained: tuple[ConversationDesign, Interpreter]) -> AsyncIterator[Desk]:
    fake = FakeSlack(users={**USERS, **AGENT_USERS})
    settings = Settings(
        slack_bot_token="xoxb-test",
        slack_signing_secret=SECRET,
        slack_api_url=await fake.start(),
        agent_users=frozenset(AGENT_USERS),
    )
    design, interpreter = trained
    engine = Engine(design, interpreter, TrackerStore(portal.engine), InProcessActions(portal=portal))
    app = build_app(settings, engine, portal)  # registers /support and the Home tab with everything else
    runner, port = await start_local_server(web_app(app))
    try:
        yield Desk(fake, SlackSender(f"http://127.0.0.1:{port}/slack/events", SECRET), portal)
    finally:
        await runner.cleanup()
        await engine.close()
        await fake.stop()


def text_of(blocks: list[dict[str, Any]]) -> str:
    """The mrkdwn/plain text of sections, headers and context blocks."""
    parts: list[str] = []
    for block in blocks:
        if block.get("text"):
            parts.append(block["text"]["text"])
        parts.extend(e["text"] for e in block.get("elements") or [] if e.get("type") in ("mrkdwn", "plain_text"))
    return "\n".join(parts)


def buttons(blocks: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(title, action_id, value) of every button."""
    return [
        (e["text"]["text"], e["action_id"], e["value"])
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "button"
    ]


QUESTION_BUTTON = ("I have a question", "chargedesk_press_0", "/have_question")


async def carla_ticket(desk: Desk) -> str:
    ticket = await services.open_service_ticket(desk.portal.uow(), CARLA, "10001R001", "Display <!channel> stays dark")
    return ticket.reference


async def bens_transfer(desk: Desk, *, consented: bool = False) -> str:
    transfer = await services.request_transfer(
        desk.portal.uow(), BEN, ["ACE0100002"], "Bought from VoltWay in March, invoice attached", terms_accepted=True
    )
    if consented:
        await services.answer_transfer(desk.portal.uow(), ANNA, transfer.reference, consent=True)
    return transfer.reference


# ---------------------------------------------------------------------------------------------- /support


async def test_status_lists_my_requests_with_what_happens_next(desk: Desk) -> None:
    reference = await carla_ticket(desk)
    answer = await desk.command("U0CARLA", "status")
    shown = text_of(answer["blocks"])
    assert reference in shown
    assert "service ticket (10001R001): open, waiting for support to pick it up" in shown
    assert reference in answer["text"]  # the notification fallback says it too
    assert desk.fake.calls_to("chat.postMessage") == []  # nothing public, nothing posted besides the answer

    nothing = text_of((await desk.command("U0BEN", "status"))["blocks"])
    assert "no requests yet" in nothing
    no_email = text_of((await desk.command("U0NOMAIL", "status"))["blocks"])
    assert "Slack doesn't share the email address" in no_email  # issue 13 §9 (was "can't find … account")
    no_account = text_of((await desk.command("U0GHOST", "status"))["blocks"])
    assert "can't find a support portal account" in no_account


async def test_status_of_one_request_only_for_those_who_may_see_it(desk: Desk) -> None:
    reference = await carla_ticket(desk)
    mine = text_of((await desk.command("U0CARLA", f"status {reference.lower()}"))["blocks"])
    assert f"*{reference}*: service ticket" in mine
    assert "out of warranty" in mine
    assert "Display &lt;!channel&gt; stays dark" in mine  # the description is escaped, never a channel ping
    assert "Requested by" not in mine  # agents' details only

    for user, ref in (("U0BEN", reference), ("U0CARLA", "ST-000999"), ("U0NOMAIL", reference)):
        refused = text_of((await desk.command(user, f"status {ref}"))["blocks"])
        assert refused == f"There is no request {ref} that you can see. `status` lists yours."

    agent = text_of((await desk.command(AGENT, "status ST-1"))["blocks"])  # short forms are understood
    assert "*ST-000001*: service ticket" in agent
    assert f"Requested by*: {CARLA} (CityCharge)" in agent


async def test_a_transfer_shows_its_current_service_operator_to_the_requester(desk: Desk) -> None:
    reference = await bens_transfer(desk)
    shown = text_of((await desk.command("U0BEN", f"status {reference}"))["blocks"])
    assert "waiting for the current Service Operator to consent" in shown
    assert "ACE0100002: current Service Operator VoltWay Resellers BV, answer pending" in shown


async def test_charger_details_for_its_service_operator(desk: Desk) -> None:
    # anna's organization, VoltWay, operates ACE0100002; in a DM, with the serial typed as on the label.
    answer = await desk.command("U0ANNA", "charger ace 010 0002", channel="DU0ANNA")
    shown = text_of(answer["blocks"])
    assert "*ACE0100002*: ACE Single 22 kW" in shown
    assert "*Service Operator*: VoltWay Resellers BV (your organization" in shown
    assert "until 1 February 2027 (in warranty)" in shown
    assert "*Open requests*: none" in shown


async def test_charger_managed_elsewhere_offers_a_transfer_that_opens_the_form(desk: Desk) -> None:
    answer = await desk.command("U0BEN", "charger ACE0100002")
    shown = json.dumps(answer)
    assert "managed by another organization" in text_of(answer["blocks"])
    assert "VoltWay" not in shown and "2027" not in shown and "22 kW" not in shown  # no name, warranty, model
    [transfer] = buttons(answer["blocks"])
    assert transfer == (support.TRANSFER_BUTTON, "chargedesk_press_0", '/request_transfer{"serial": "ACE0100002"}')

    # The existing button listener runs the conversation: the transfer form opens with the serial filled in.
    block_id = next(b["block_id"] for b in answer["blocks"] if b["type"] == "actions")
    status, _ = await desk.sender.interaction(
        payloads.block_actions(
            "U0BEN",
            "T0HOME",
            CHANNEL,
            payloads.next_ts(),
            transfer[1],
            value=transfer[2],
            block_id=block_id,
            trigger_id=payloads.new_trigger_id(),
            is_ephemeral=True,
        )
    )
    assert status == 200
    [opened] = await desk.fake.wait_for("views.open")
    assert inputs(opened.args["view"])["serials"]["initial_value"] == "ACE0100002"


async def test_charger_for_those_who_cannot_request_a_transfer(desk: Desk) -> None:
    dave = (await desk.command("U0DAVE", "charger ACE0100002"))["blocks"]
    assert "isn't linked to an organization yet" in text_of(dave)
    assert buttons(dave) == [QUESTION_BUTTON]

    await bens_transfer(desk)
    ben = (await desk.command("U0BEN", "charger ACE0100002"))["blocks"]
    assert "Your organization's management transfer MT-000001 for it is waiting" in text_of(ben)
    assert buttons(ben) == []
    carla = (await desk.command("U0CARLA", "charger ACE0100002"))["blocks"]
    assert "A management transfer for it is already waiting for a decision." in text_of(carla)
    assert "MT-000001" not in text_of(carla)


async def test_agents_see_any_charger_with_its_open_requests(desk: Desk) -> None:
    reference = await bens_transfer(desk)
    shown = text_of((await desk.command(AGENT, "charger ACE0100002"))["blocks"])
    assert "*Service Operator*: VoltWay Resellers BV" in shown
    assert "your organization" not in shown
    assert f"*{reference}* management transfer (ACE0100002): waiting for the current Service Operator" in shown


async def test_bad_serials_are_explained(desk: Desk) -> None:
    malformed = text_of((await desk.command("U0BEN", "charger ACE01"))["blocks"])
    assert "`ACE01` is not a serial number" in malformed
    unknown = text_of((await desk.command("U0BEN", "charger ACE9999999"))["blocks"])
    assert "I don't know a charger with serial number ACE9999999" in unknown
    which = text_of((await desk.command("U0BEN", "charger"))["blocks"])
    assert "Which charger?" in which


async def test_a_failing_portal_still_gets_an_answer(desk: Desk, caplog: pytest.LogCaptureFixture) -> None:
    async with desk.portal.engine.begin() as conn:
        await conn.execute(sql("ALTER TABLE requests RENAME TO requests_away"))
    try:
        answer = await desk.command("U0CARLA", "status")
    finally:
        async with desk.portal.engine.begin() as conn:
            await conn.execute(sql("ALTER TABLE requests_away RENAME TO requests"))
    assert answer["text"] == commands.FAILED
    assert "/support 'status' failed" in caplog.text


@pytest.mark.parametrize(("users_info_seconds", "expected"), [(4.0, "ST-000001"), (8.0, IDENTITY_UNAVAILABLE)])
async def test_support_is_acknowledged_within_three_seconds_whatever_users_info_does(
    desk: Desk, users_info_seconds: float, expected: str
) -> None:
    """Slow (4 s) or hanging (8 s, past the identity check's 5 s limit): Slack gets its 200 at once, and the person
    gets the answer, or "can't check who you are" (never "no account"), at the response_url."""
    await carla_ticket(desk)
    desk.fake.delay("users.info", users_info_seconds)
    response_url = desk.fake.response_url("slow")
    loop = asyncio.get_running_loop()
    started = loop.time()
    status, body = await desk.sender.command(
        payloads.slash_command("U0CARLA", "T0HOME", CHANNEL, "/support", "status", response_url=response_url)
    )
    acknowledged = loop.time() - started
    assert (status, body) == (200, "")
    assert acknowledged < 3.0
    [answer] = await desk.fake.wait_for("response_url", timeout=15.0, where=lambda c: c.path == "/response/slow")
    answered = loop.time() - started
    assert answered >= min(users_info_seconds, identity.SLACK_TIMEOUT_SECONDS)
    assert answer.args["response_type"] == "ephemeral"
    assert expected in answer.args["text"] + text_of(answer.args.get("blocks") or [])
    print(
        f"/support with users.info taking {users_info_seconds:.0f} s: HTTP 200 after {acknowledged:.2f} s, "
        f"answer after {answered:.2f} s"
    )


async def test_an_answer_refused_once_by_the_response_url_is_posted_again(desk: Desk) -> None:
    desk.fake.fail_first_attempts(status=500, methods={"response_url"})
    answer = await desk.command("U0DAVE", "help")
    assert "`charger ACE0123456`" in text_of(answer["blocks"])
    assert desk.fake.first_attempt_faults == 1
    assert [c.http_status for c in desk.fake.calls_to("response_url")] == [500, 200]


async def test_help_empty_and_unknown_text(desk: Desk) -> None:
    for text in ("help", "", "  HELP "):
        answer = await desk.command("U0DAVE", text)
        assert "`charger ACE0123456`" in text_of(answer["blocks"])
        assert "`reopen ST-000012 <why>`" in text_of(answer["blocks"])  # every command the app answers is listed
        assert buttons(answer["blocks"]) == [QUESTION_BUTTON]
    unknown = await desk.command("U0DAVE", "reboot <!channel>")
    shown = text_of(unknown["blocks"])
    assert shown.startswith("I didn't understand `reboot &lt;!channel&gt;`.")
    assert "<!channel>" not in json.dumps(unknown)


# ---------------------------------------------------------------------------------------------- App Home


def section_texts(view: dict[str, Any]) -> str:
    return text_of(view["blocks"])


async def test_home_for_a_customer(desk: Desk) -> None:
    reference = await carla_ticket(desk)
    view = await desk.home("U0CARLA")
    shown = section_texts(view)
    assert "Your organization: *CityCharge*." in shown
    assert (
        "*10001R001* Pro-line Double 2x22 kW: Service Operator CityCharge; warranty until 1 May 2024 (warranty ended)"
        in shown
    )
    assert "*10001R002* Pro-line Double 2x22 kW" in shown and "(in warranty)" in shown
    assert f"*{reference}* service ticket (10001R001): open, waiting for support to pick it up" in shown
    # Issue 13 §8: an undecided request of hers can be withdrawn from here (the button asks first).
    withdraw = ("Withdraw ST-000001", "chargedesk_press_0", '/withdraw_request{"reference": "ST-000001"}')
    assert buttons(view["blocks"]) == [QUESTION_BUTTON, withdraw]
    assert "Waiting for support" not in shown  # not an agent


async def test_home_asks_the_service_operator_for_consent(desk: Desk) -> None:
    reference = await bens_transfer(desk)
    anna = section_texts(await desk.home("U0ANNA"))
    assert "Transfers waiting for your organization's consent" in anna
    assert f"*{reference}* management transfer (ACE0100002)" in anna
    ben = section_texts(await desk.home("U0BEN"))
    assert "Chargers your organization operates\nNone yet." in ben
    assert f"*{reference}* management transfer (ACE0100002): waiting for the current Service Operator" in ben


async def test_home_without_an_organization_or_an_account(desk: Desk) -> None:
    dave = await desk.home("U0DAVE")
    assert "isn't linked to an organization yet" in section_texts(dave)
    assert "Chargers your organization operates" not in section_texts(dave)
    assert buttons(dave["blocks"]) == [QUESTION_BUTTON]
    hidden = await desk.home("U0NOMAIL")
    assert "Slack doesn't share the email address" in section_texts(hidden)  # issue 13 §9
    assert "can't find a support portal account" in section_texts(await desk.home("U0GHOST"))
    assert buttons(hidden["blocks"]) == []


async def test_home_for_agents_shows_the_queue(desk: Desk) -> None:
    ticket = await carla_ticket(desk)
    transfer = await bens_transfer(desk, consented=True)
    await services.request_transfer(
        desk.portal.uow(), CARLA, ["ACE0100001"], "We run this site now", terms_accepted=True
    )  # waiting for VoltWay, so not support's yet
    view = await desk.home(AGENT)
    shown = section_texts(view)
    assert "Waiting for support (2)" in shown
    assert "*Unassigned* (2)" in shown and "*Mine*" not in shown
    ticket_line = f"*{ticket}* service ticket (10001R001), CityCharge: open, waiting for support to pick it up"
    assert f"{ticket_line}; waiting 0 min" in shown
    transfer_line = f"*{transfer}* management transfer (ACE0100002), GreenFleet Logistics"
    assert f"{transfer_line}: waiting for support to decide" in shown
    # Not support's yet, but an agent sees it coming: the current Service Operator has not answered.
    waiting = shown.index("*Waiting for the current Service Operator* (1)")
    assert shown.index("MT-000002") > waiting > shown.index(ticket)
    assert "Your support" not in shown  # no account of their own
    assert buttons(view["blocks"]) == [("Search requests", "agent_search_open", "search")]  # nothing else to press

    # Taken: the agent's own first; for another agent, counted as someone else's, with who has it.
    await services.assign_request(desk.portal.uow(), Agent(AGENT), ticket)
    mine = section_texts(await desk.home(AGENT))
    assert mine.index("*Mine* (1)") < mine.index(ticket) < mine.index("*Unassigned* (1)")
    assert f"<@{AGENT}>" in mine

    both = section_texts(await desk.home(AGENT_CUSTOMER))
    assert both.index("Waiting for support (2)") < both.index("Your support")
    assert "*Taken by someone else* (1)" in both and f"<@{AGENT}>" in both
    assert "Your organization: *GreenFleet Logistics*." in both
    assert "linked for service from" in both  # erin registered two hours before the seed


async def test_the_messages_tab_publishes_nothing(desk: Desk) -> None:
    status, _ = await desk.sender.event(payloads.app_home_opened("U0CARLA", tab="messages"))
    assert status == 200
    await desk.fake.assert_no_new_calls("views.publish", duration=0.3)


async def test_the_queue_shows_how_long_each_request_waits(desk: Desk, clock: FrozenClock) -> None:
    await carla_ticket(desk)
    clock.advance(timedelta(hours=5))
    assert "; waiting 5 h" in section_texts(await desk.home(AGENT))
    clock.advance(timedelta(days=3))
    assert "; waiting 3 days" in section_texts(await desk.home(AGENT))


async def test_the_home_question_button_starts_a_conversation(desk: Desk) -> None:
    view = await desk.home("U0CARLA")
    [block] = [b for b in view["blocks"] if b["type"] == "actions"]
    press = payloads.block_actions_in_view(
        "U0CARLA", "T0HOME", "V0HOME", "", QUESTION_BUTTON[1], value=QUESTION_BUTTON[2], block_id=block["block_id"]
    )
    press["view"]["type"] = "home"
    status, _ = await desk.sender.interaction(press)
    assert status == 200

    def categories(call: Call) -> bool:
        return call.ok and "What is your question about?" in json.dumps(call.args)

    await desk.fake.wait_for("chat.postMessage", timeout=2.0, where=categories)
