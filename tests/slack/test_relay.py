"""Agent → customer (issue 16 §1), end to end on loopback: *Reply to requester*, *Ask for information* and the
*Send to requester* shortcut, with the privacy rule (nothing relayed where another organization reads) and internal
notes (plain replies in the triage thread reach no customer).

Signed requests into the app, the fake Web API recording every call; the notifier and the sender run by hand
between steps, as `chargedesk run` does in the background. SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from bot.slack.messages.relay import RELAY_CALLBACK, SEND_TO_REQUESTER
from bot.slack.tables import slack_messages
from portal import services
from portal.adapters import tables
from portal.domain.actors import Agent
from tests.support import payloads
from tests.support.fake_slack import Call
from tests.support.harness import AGENT, TRIAGE, Harness, button, inputs
from tests.support.journeys import Office

CARLA = "carla@citycharge.example"
CARLA_DM = {"surface": "im", "channel_id": "D0CARLA", "slack_user_id": "U0CARLA", "slack_team_id": "T0HOME"}
CITY = "C0CITY"  # a channel carla asked in
ASKED_AT = "1700000000.000100"
IN_CITY = {
    "surface": "channel",
    "channel_id": CITY,
    "thread_ts": ASKED_AT,
    "slack_user_id": "U0CARLA",
    "slack_team_id": "T0HOME",
}
CONNECT = {"is_channel": True, "is_shared": True, "is_ext_shared": True, "context_team_id": "T0HOME"}


def sent(h: Harness, method: str, channel: str) -> list[Call]:
    return [c for c in h.fake.calls_to(method) if c.ok and c.args.get("channel") == channel]


def to_customers(h: Harness) -> list[Call]:
    """Every post that is not in the triage channel: what customers could read."""
    return [c for c in h.fake.calls_to("chat.postMessage") if c.args.get("channel") != TRIAGE]


async def ticket(h: Harness, office: Office, origin: dict[str, Any]) -> tuple[str, Call]:
    """carla's service ticket on 10001R002, its triage card posted: (reference, the card's post)."""
    filed = await services.open_service_ticket(h.portal.uow(), CARLA, "10001R002", "Socket 2 stops", origin=origin)
    await office.deliver()
    [card] = [c for c in sent(h, "chat.postMessage", TRIAGE) if filed.reference in c.args["text"]]
    h.fake.clear()
    return filed.reference, card


async def press(h: Harness, user: str, action_id: str, reference: str) -> dict[str, Any]:
    """Press a triage card's button as `user`; the modal it opened (agents only)."""
    trigger = payloads.new_trigger_id()
    status, _ = await h.sender.interaction(
        payloads.block_actions(
            user, "T0HOME", TRIAGE, payloads.next_ts(), action_id, value=reference, block_id="b", trigger_id=trigger
        )
    )
    assert status == 200
    if user != AGENT:
        return {}
    [opened] = await h.fake.wait_for("views.open", where=lambda c: c.args.get("trigger_id") == trigger)
    view: dict[str, Any] = opened.args["view"]
    return view


async def submit(
    h: Harness, user: str, view: dict[str, Any], text: str, *, view_id: str = "V0RELAY1", kind: str | None = None
) -> dict[str, Any]:
    state: dict[str, Any] = {"message": {"value": payloads.plain_text_value(text)}}
    if kind is not None:
        state["kind"] = {"value": payloads.radio_buttons_value(kind)}
    status, body = await h.sender.interaction(
        payloads.view_submission(user, "T0HOME", RELAY_CALLBACK, str(view["private_metadata"]), state, view_id=view_id)
    )
    assert status == 200
    return json.loads(body) if body else {}


async def shortcut(h: Harness, user: str, channel: str, text: str, ts: str, thread_ts: str | None) -> dict[str, Any]:
    """*Send to requester* on a message; the modal it opened (the relay modal, or a notice)."""
    trigger = payloads.new_trigger_id()
    action = payloads.message_action(user, "T0HOME", channel, SEND_TO_REQUESTER, text, ts, trigger, message_user=user)
    if thread_ts is not None:
        action["message"]["thread_ts"] = thread_ts
    status, _ = await h.sender.interaction(action)
    assert status == 200
    [opened] = await h.fake.wait_for("views.open", where=lambda c: c.args.get("trigger_id") == trigger)
    view: dict[str, Any] = opened.args["view"]
    return view


def shown(view: dict[str, Any]) -> str:
    return " ".join(b["text"]["text"] for b in view["blocks"] if b["type"] == "section")


async def conversation(h: Harness, reference: str) -> list[tuple[str, str, str, bool]]:
    facts = await services.request_facts(h.portal.uow(), reference)
    return [(m.direction, m.author, m.text, m.asks) for m in facts.messages]


async def status_of(h: Harness, reference: str) -> str:
    return (await services.get_request(h.portal.uow(), Agent(AGENT), reference)).summary.status


async def test_ask_for_information_waits_for_the_customer_who_reads_it_with_the_agents_name(slack: Harness) -> None:
    h, office = slack, Office.of(slack)
    reference, card = await ticket(h, office, CARLA_DM)
    assert button(card, "Reply to requester")[1:] == ("triage_reply", reference)
    assert button(card, "Ask for information")[1:] == ("triage_ask", reference)

    view = await press(h, AGENT, "triage_ask", reference)
    assert view["callback_id"] == RELAY_CALLBACK
    assert inputs(view)["message"]["max_length"] == 3000
    answer = await submit(h, AGENT, view, "Which socket shows the red light? <!channel>")
    assert answer == {}
    assert await status_of(h, reference) == "waiting_for_customer"
    assert await conversation(h, reference) == [
        ("to_requester", f"agent:{AGENT}", "Which socket shows the red light? <!channel>", True)
    ]

    await office.deliver()
    [dm] = sent(h, "chat.postMessage", "U0CARLA")  # the question alone: no "is now waiting…" status DM
    assert dm.args["text"].startswith(f"sam of support asks about {reference}:")
    assert ">Which socket shows the red light? &lt;!channel&gt;" in dm.args["text"]  # shown, never acted on
    assert "Reply in this thread to answer." in dm.args["text"]
    async with h.portal.engine.connect() as conn:  # remembered: a reply in its thread names the request
        remembered = (
            await conn.execute(
                select(slack_messages.c.channel, slack_messages.c.ts).where(
                    slack_messages.c.key == f"relay:{reference}:1"
                )
            )
        ).one()
    assert tuple(remembered) == (dm.response["channel"], dm.response["ts"])
    [note] = [c for c in sent(h, "chat.postMessage", TRIAGE) if c.args.get("thread_ts")]
    assert note.args["thread_ts"] == card.response["ts"]  # in the card's thread
    assert note.args["text"].startswith(f"<@{AGENT}> asked the requester (in their direct message):")
    [update] = sent(h, "chat.update", TRIAGE)  # the card shows the new status
    assert "waiting for an answer" in json.dumps(update.args["blocks"])
    assert to_customers(h) == [dm]


async def test_reply_keeps_the_status_and_goes_into_the_customers_own_thread(slack: Harness) -> None:
    h, office = slack, Office.of(slack)
    h.fake.channels[CITY] = {"is_channel": True, "is_shared": False, "context_team_id": "T0HOME"}
    h.fake.members[CITY] = ["U0CARLA", AGENT]  # CityCharge's requester and support only
    reference, card = await ticket(h, office, {**IN_CITY, "language": "nl"})

    view = await press(h, AGENT, "triage_reply", reference)
    assert await submit(h, AGENT, view, "A technician comes on Monday.") == {}
    assert await status_of(h, reference) == "open"
    await office.deliver()
    [posted] = sent(h, "chat.postMessage", CITY)
    assert posted.args["thread_ts"] == ASKED_AT
    # The fixed parts in the request's language (Dutch), the agent's words as written, the requester mentioned.
    assert posted.args["text"].startswith(f"<@U0CARLA> sam van support schreef over {reference}:")
    assert ">A technician comes on Monday." in posted.args["text"]
    assert "Reply in this thread" not in posted.args["text"]  # a reply asks nothing
    assert sent(h, "chat.postMessage", "U0CARLA") == []  # not twice
    [note] = [c for c in sent(h, "chat.postMessage", TRIAGE) if c.args.get("thread_ts") == card.response["ts"]]
    assert "Sent to the requester by <@U0AGENT> (in the thread where they asked)" in note.args["text"]
    assert sent(h, "chat.update", TRIAGE) == []  # no status change, nothing to update


async def test_a_retried_submission_sends_once(slack: Harness) -> None:
    h, office = slack, Office.of(slack)
    reference, _ = await ticket(h, office, CARLA_DM)
    view = await press(h, AGENT, "triage_reply", reference)
    for _ in range(3):
        assert await submit(h, AGENT, view, "We ordered the part.", view_id="V0SAME") == {}
    assert len(await conversation(h, reference)) == 1
    await office.deliver()
    assert len(sent(h, "chat.postMessage", "U0CARLA")) == 1
    # Another modal is another message.
    view = await press(h, AGENT, "triage_reply", reference)
    assert await submit(h, AGENT, view, "It ships tomorrow.", view_id="V0OTHER") == {}
    assert len(await conversation(h, reference)) == 2


async def test_the_shortcut_sends_a_message_of_the_triage_thread_once(slack: Harness) -> None:
    h, office = slack, Office.of(slack)
    reference, card = await ticket(h, office, CARLA_DM)
    thread = str(card.response["ts"])
    reply_ts = payloads.next_ts()
    view = await shortcut(h, AGENT, TRIAGE, "Could you send a photo of the label &amp; the display?", reply_ts, thread)
    assert view["callback_id"] == RELAY_CALLBACK
    fields = inputs(view)
    assert fields["message"]["initial_value"] == "Could you send a photo of the label & the display?"
    assert [o["value"] for o in fields["kind"]["options"]] == ["reply", "ask"]

    edited = "Could you send a photo of the label and the display?"
    assert await submit(h, AGENT, view, edited, view_id="V0SC1", kind="ask") == {}
    assert await status_of(h, reference) == "waiting_for_customer"
    # The same thread message again (a new modal): it was sent, it is not sent again.
    view = await shortcut(h, AGENT, TRIAGE, "Could you send a photo?", reply_ts, thread)
    assert [o["value"] for o in inputs(view)["kind"]["options"]] == ["reply", "ask"]  # waiting: asking again fits
    assert await submit(h, AGENT, view, edited, view_id="V0SC2", kind="reply") == {}
    assert await conversation(h, reference) == [("to_requester", f"agent:{AGENT}", edited, True)]
    await office.deliver()
    [dm] = sent(h, "chat.postMessage", "U0CARLA")
    assert edited in dm.args["text"] and "Reply in this thread to answer." in dm.args["text"]


async def test_the_shortcut_anywhere_else_sends_nothing(slack: Harness) -> None:
    h, office = slack, Office.of(slack)
    reference, card = await ticket(h, office, CARLA_DM)
    thread = str(card.response["ts"])
    elsewhere = [
        (TRIAGE, thread, None),  # the card itself
        (TRIAGE, payloads.next_ts(), None),  # a message of the triage channel, not in a thread
        (TRIAGE, payloads.next_ts(), "1600000000.000100"),  # in a thread under something else
        ("C0OTHER", payloads.next_ts(), thread),  # another channel, the same ts
        ("D0CARLA", payloads.next_ts(), None),  # a DM
    ]
    for channel, ts, thread_ts in elsewhere:
        view = await shortcut(h, AGENT, channel, "Hello", ts, thread_ts)
        assert "callback_id" not in view or view["callback_id"] != RELAY_CALLBACK
        assert "works on a reply in the thread of a request's triage card" in shown(view)
    # A closed request: explained, nothing sent.
    await services.set_ticket_status(h.portal.uow(), Agent(AGENT), reference, "closed")
    view = await shortcut(h, AGENT, TRIAGE, "Hello", payloads.next_ts(), thread)
    assert "already decided (closed); nothing was sent" in shown(view)
    await office.deliver()
    assert await conversation(h, reference) == []
    assert [c.args["text"] for c in to_customers(h)] == [f"Your service ticket {reference} is now closed."]


async def test_non_agents_are_refused_and_audited_and_forged_forms_change_nothing(slack: Harness) -> None:
    h, office = slack, Office.of(slack)
    reference, card = await ticket(h, office, CARLA_DM)
    # carla presses the agents' button (the card is in the triage channel, but a value can be forged anywhere)
    await press(h, "U0CARLA", "triage_ask", reference)
    [refused] = await h.fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("user") == "U0CARLA")
    assert "Only support agents" in refused.args["text"]
    # …submits a relay modal of her own making, uses the shortcut in the triage thread
    view = {"private_metadata": json.dumps({"reference": reference, "ask": False})}
    answer = await submit(h, "U0CARLA", view, "I am support now")
    assert answer["errors"]["message"] == "Only support agents can write to requesters. Nothing was sent."
    notice = await shortcut(h, "U0CARLA", TRIAGE, "I am support now", payloads.next_ts(), str(card.response["ts"]))
    assert "Only support agents can write to requesters" in shown(notice)
    # An agent's modal with forged metadata: refused, audited.
    for forged in (
        "not json",
        json.dumps({"reference": "<!channel>", "ask": False}),
        json.dumps({"reference": reference}),
    ):
        answer = await submit(h, AGENT, {"private_metadata": forged}, "Hi")
        assert "can't be read" in answer["errors"]["message"]
    entries = await services.audit_entries(h.portal.uow())
    assert [(e.actor, e.action, e.outcome) for e in entries] == [
        ("slack:U0CARLA", "triage_ask", "NotSupportAgent"),
        ("slack:U0CARLA", "relay_to_requester", "NotSupportAgent"),
        ("slack:U0CARLA", "relay_to_requester", "NotSupportAgent"),
        ("slack:U0AGENT", "relay_to_requester", "ForgedValue"),
        ("slack:U0AGENT", "relay_to_requester", "ForgedValue"),
        ("slack:U0AGENT", "relay_to_requester", "ForgedValue"),
    ]
    await office.deliver()
    assert await conversation(h, reference) == []
    assert await status_of(h, reference) == "open"
    assert to_customers(h) == []


async def test_a_portal_refusal_shows_in_the_modal(slack: Harness) -> None:
    h, office = slack, Office.of(slack)
    reference, _ = await ticket(h, office, CARLA_DM)
    view = await press(h, AGENT, "triage_reply", reference)
    answer = await submit(h, AGENT, view, "   ")
    assert answer["response_action"] == "errors" and "the message is empty" in answer["errors"]["message"]
    await services.set_ticket_status(h.portal.uow(), Agent(AGENT), reference, "resolved")
    ask = await press(h, AGENT, "triage_reply", reference)  # resolved: still under way, a reply fits
    answer = await submit(h, AGENT, {**ask, "private_metadata": json.dumps({"reference": reference, "ask": True})}, "?")
    assert answer["response_action"] == "errors" and "Not sent" in answer["errors"]["message"]
    assert await conversation(h, reference) == []


async def test_privacy_a_channel_shared_with_another_organization_gets_nothing_the_dm_does(slack: Harness) -> None:
    h, office = slack, Office.of(slack)
    # C0CITY is a Slack Connect channel with VoltWay's workspace: carla's (CityCharge) words must not go there.
    h.fake.channels[CITY] = {**CONNECT, "shared_team_ids": ["T0HOME", "T0CITY", "T0VOLT"]}
    reference, _ = await ticket(h, office, IN_CITY)
    view = await press(h, AGENT, "triage_ask", reference)
    assert await submit(h, AGENT, view, "Is the charger at Keizersgracht 12?") == {}
    await office.deliver()
    assert [c.args for c in sent(h, "chat.postMessage", CITY)] == []
    [dm] = sent(h, "chat.postMessage", "U0CARLA")
    assert "Keizersgracht 12" in dm.args["text"]
    [note] = [c for c in sent(h, "chat.postMessage", TRIAGE) if c.args.get("thread_ts")]
    assert "(in their direct message)" in note.args["text"]
    assert all("Keizersgracht" not in str(c.args) for c in to_customers(h) if c.args.get("channel") != "U0CARLA")

    # Shared only with CityCharge's own workspace: the thread is theirs.
    h.fake.channels[CITY] = {**CONNECT, "shared_team_ids": ["T0HOME", "T0CITY"]}
    h.fake.members[CITY] = ["U0CARLA", AGENT]
    view = await press(h, AGENT, "triage_reply", reference)
    assert await submit(h, AGENT, view, "Thanks, noted.", view_id="V0SECOND") == {}
    await office.deliver()
    [posted] = sent(h, "chat.postMessage", CITY)
    assert "Thanks, noted." in posted.args["text"] and posted.args["thread_ts"] == ASKED_AT


async def test_privacy_a_customer_of_another_organization_in_our_own_channel_means_the_dm(slack: Harness) -> None:
    h, office = slack, Office.of(slack)
    h.fake.channels[CITY] = {"is_channel": True, "is_shared": False, "context_team_id": "T0HOME"}
    h.fake.members[CITY] = ["U0CARLA", "U0BEN", AGENT]  # ben (GreenFleet) is a member of our workspace too
    reference, _ = await ticket(h, office, IN_CITY)
    view = await press(h, AGENT, "triage_reply", reference)
    assert await submit(h, AGENT, view, "Your warranty covers the new cable.") == {}
    await office.deliver()
    assert sent(h, "chat.postMessage", CITY) == []
    [dm] = sent(h, "chat.postMessage", "U0CARLA")
    assert "Your warranty covers the new cable." in dm.args["text"]


async def test_privacy_slack_not_saying_who_reads_the_channel_means_the_dm(slack: Harness) -> None:
    h, office = slack, Office.of(slack)
    h.fake.channels[CITY] = {"is_channel": True, "is_shared": False, "context_team_id": "T0HOME"}
    reference, _ = await ticket(h, office, IN_CITY)
    view = await press(h, AGENT, "triage_reply", reference)
    assert await submit(h, AGENT, view, "The firmware update is out.") == {}
    h.fake.fail_next("conversations.info", status=500)
    await office.deliver()
    assert sent(h, "chat.postMessage", CITY) == []
    [dm] = sent(h, "chat.postMessage", "U0CARLA")
    assert "The firmware update is out." in dm.args["text"]


async def test_plain_replies_in_the_triage_thread_stay_internal_notes(slack: Harness) -> None:
    h, office = slack, Office.of(slack)
    reference, card = await ticket(h, office, CARLA_DM)
    thread = str(card.response["ts"])
    for user in (AGENT, "U0CARLA"):
        note = payloads.message(
            user,
            "Internal: customer is grumpy, check warranty",
            TRIAGE,
            payloads.next_ts(),
            channel_type="group",
            thread_ts=thread,
        )
        status, _ = await h.sender.event(note)
        assert status == 200
    await h.fake.assert_no_new_calls("chat.postMessage", duration=0.3)
    await office.deliver()
    assert to_customers(h) == []
    assert all("grumpy" not in str(c.args) for c in h.fake.calls)
    assert await conversation(h, reference) == []
    async with h.portal.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(tables.request_messages)) == 0


def titles(call: Call) -> list[str]:
    blocks = call.args.get("blocks") or []
    return [e["text"]["text"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


async def test_the_wait_and_the_answer_send_no_status_dm_a_decision_does(slack: Harness) -> None:
    h, office = slack, Office.of(slack)
    reference, card = await ticket(h, office, CARLA_DM)
    assert titles(card)[-2:] == ["Reply to requester", "Ask for information"]
    view = await press(h, AGENT, "triage_ask", reference)
    assert await submit(h, AGENT, view, "Which socket?") == {}
    await office.deliver()
    [waiting] = sent(h, "chat.update", TRIAGE)
    # Waiting: decide, or write again (a further question waits on).
    expected = ["Resolve", "Assign to me", "Reject", "Duplicate of…", "Reply to requester", "Ask for information"]
    assert titles(waiting) == expected
    h.fake.clear()

    # carla answers (the other side of the loop): back to open, and no "is now open" DM repeats her own answer.
    await services.add_from_requester(h.portal.uow(), CARLA, reference, "Socket 2")
    await office.deliver()
    assert await status_of(h, reference) == "open"
    assert sent(h, "chat.postMessage", "U0CARLA") == []
    [back] = sent(h, "chat.update", TRIAGE)  # the card follows
    assert "Ask for information" in titles(back)

    # Asked again, and support decides without waiting longer: that is news.
    view = await press(h, AGENT, "triage_ask", reference)
    assert await submit(h, AGENT, view, "And which cable?", view_id="V0AGAIN") == {}
    await services.set_ticket_status(h.portal.uow(), Agent(AGENT), reference, "resolved")
    await office.deliver()
    texts = [c.args["text"] for c in sent(h, "chat.postMessage", "U0CARLA")]
    assert len(texts) == 2 and "And which cable?" in texts[0]
    assert texts[1].startswith(f"Your service ticket {reference} is now resolved.")
    [*_, resolved] = sent(h, "chat.update", TRIAGE)
    assert "Ask for information" not in titles(resolved) and "Reply to requester" in titles(resolved)


async def test_a_requester_not_in_slack_gets_nothing_there_and_agents_are_told(slack: Harness) -> None:
    h, office = slack, Office.of(slack)
    reference, card = await ticket(h, office, {})  # filed from the shell: no Slack conversation to write in
    view = await press(h, AGENT, "triage_reply", reference)
    assert await submit(h, AGENT, view, "We called you instead.") == {}
    await office.deliver()
    assert to_customers(h) == []
    [note] = [c for c in sent(h, "chat.postMessage", TRIAGE) if c.args.get("thread_ts") == card.response["ts"]]
    assert "not delivered in Slack" in note.args["text"]
    assert await conversation(h, reference) == [("to_requester", f"agent:{AGENT}", "We called you instead.", False)]
