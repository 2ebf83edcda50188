"""Customer → agents (issue 16 §2): while a request is open, the customer's replies in the channel thread it was
filed from, or in their DM thread under our messages about it, are added to the request (text and Slack file
references) and mirrored into the triage thread, marked as the customer's; everyone else's and every other thread's
are not.

All through the app on loopback, with Slack's signed event payloads, the in-process inbox consumer, and the
notifier and sender run until idle.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from bot.slack.tables import slack_inbox, slack_messages, slack_people, slack_receipts
from portal import services
from portal.domain.actors import Agent
from portal.views import RequestSummary
from tests.support import payloads
from tests.support.fake_slack import Call
from tests.support.harness import AGENT, TRIAGE, Harness
from tests.support.journeys import Office

CHANNEL = "C0SHARED"
THREAD = "1700000000.000100"
CARLA = "carla@citycharge.example"
IN_THREAD = {
    "slack_user_id": "U0CARLA",
    "slack_team_id": "T0HOME",
    "channel_id": CHANNEL,
    "thread_ts": THREAD,
    "surface": "channel",
}


@pytest.fixture
def office(slack: Harness) -> Office:
    return Office.of(slack)


async def filed_in_thread(office: Office) -> RequestSummary:
    """carla filed a service ticket from the thread THREAD of CHANNEL; support got its triage card."""
    ticket = await services.open_service_ticket(
        office.h.portal.uow(), CARLA, "10001R001", "Socket 2 will not lock the cable", origin=IN_THREAD
    )
    await office.deliver()
    return ticket


def reply(user: str, text: str, *, channel: str = CHANNEL, thread: str = THREAD, **extra: Any) -> dict[str, Any]:
    """A person's reply in a channel thread, as Slack's `message.channels` event has it."""
    event = payloads.message(user, text, channel, payloads.next_ts(), thread_ts=thread)
    event.update(extra)
    return event


async def messages_of(h: Harness, reference: str) -> list[Any]:
    return list((await services.request_facts(h.portal.uow(), reference)).messages)


def triage_thread_posts(h: Harness) -> list[Call]:
    return [
        c
        for c in h.fake.calls_to("chat.postMessage")
        if c.ok and c.args.get("channel") == TRIAGE and c.args.get("thread_ts")
    ]


def slack_calls_since(h: Harness, before: int) -> list[str]:
    """The Web API methods called since `before` calls, but bolt's own auth.test (once per process, at its first
    request)."""
    return [c.method for c in h.fake.calls[before:] if c.method != "auth.test"]


def ephemerals_to(h: Harness, user: str) -> list[str]:
    return [str(c.args.get("text")) for c in h.fake.calls_to("chat.postEphemeral") if c.args.get("user") == user]


async def test_the_customer_answers_in_the_channel_thread(office: Office) -> None:
    h = office.h
    ticket = await filed_in_thread(office)
    await services.write_to_requester(
        h.portal.uow(), Agent(AGENT), ticket.reference, "Which cable do you use?", ask=True
    )
    assert (await services.request_facts(h.portal.uow(), ticket.reference)).status == "waiting_for_customer"

    status, _ = await h.sender.event(reply("U0CARLA", "The one that came with it, <b>type 2</b>"))
    assert status == 200
    [answer] = await h.fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("user") == "U0CARLA")
    assert answer.args["channel"] == CHANNEL and answer.args["thread_ts"] == THREAD
    assert answer.args["text"] == f"Added to {ticket.reference}. Support sees it."

    facts = await services.request_facts(h.portal.uow(), ticket.reference)
    assert facts.status == ticket.status  # back from waiting for the customer
    added = facts.messages[-1]
    assert (added.direction, added.author, added.text) == (
        "from_requester",
        f"account:{CARLA}",
        "The one that came with it, <b>type 2</b>",
    )

    posted_before = len(h.fake.calls_to("chat.postMessage"))
    await office.deliver()
    [mirrored] = [c for c in triage_thread_posts(h) if "From the customer" in str(c.args.get("text"))]
    [card] = [
        c
        for c in h.fake.calls_to("chat.postMessage")
        if c.args.get("channel") == TRIAGE and not c.args.get("thread_ts")
    ]
    assert mirrored.args["thread_ts"] == card.response["ts"]  # in the request's triage thread
    text = str(mirrored.args["text"])
    assert "<@U0CARLA>" in text and CARLA in text
    assert "> The one that came with it, &lt;b&gt;type 2&lt;/b&gt;" in text
    # Their words went to the triage thread only: the customer was answered ephemerally, where they wrote.
    new = h.fake.calls_to("chat.postMessage")[posted_before:]
    assert [c.args["channel"] for c in new if "type 2" in str(c.args.get("text"))] == [TRIAGE]


async def test_files_are_recorded_as_references_and_linked_in_triage(office: Office) -> None:
    h = office.h
    ticket = await filed_in_thread(office)
    files = [
        {
            "id": "F0LABEL",
            "name": "label.jpg",
            "title": "label.jpg",
            "mimetype": "image/jpeg",
            "url_private": "https://files.slack.com/files-pri/T0HOME-F0LABEL/label.jpg",
            "url_private_download": "https://files.slack.com/files-pri/T0HOME-F0LABEL/download/label.jpg",
            "permalink": "https://chargedesk-support.slack.com/files/U0CARLA/F0LABEL/label.jpg",
        },
        {
            "id": "F0SCREEN",
            "name": "error.png",
            "title": "error.png",
            "mimetype": "image/png",
            "url_private": "https://files.slack.com/files-pri/T0HOME-F0SCREEN/error.png",
            "permalink": "https://chargedesk-support.slack.com/files/U0CARLA/F0SCREEN/error.png",
        },
    ]
    await h.sender.event(
        reply("U0CARLA", "Label and the error screen", subtype="file_share", files=files, upload=False)
    )
    await h.fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("user") == "U0CARLA")
    [added] = await messages_of(h, ticket.reference)
    assert added.files == (
        ("F0LABEL", "label.jpg", "https://chargedesk-support.slack.com/files/U0CARLA/F0LABEL/label.jpg"),
        ("F0SCREEN", "error.png", "https://chargedesk-support.slack.com/files/U0CARLA/F0SCREEN/error.png"),
    )

    await office.deliver()
    [mirrored] = [c for c in triage_thread_posts(h) if "From the customer" in str(c.args.get("text"))]
    text = str(mirrored.args["text"])
    assert "<https://chargedesk-support.slack.com/files/U0CARLA/F0LABEL/label.jpg|label.jpg>" in text
    assert "<https://chargedesk-support.slack.com/files/U0CARLA/F0SCREEN/error.png|error.png>" in text
    assert "url_private" not in text and "files.slack.com" not in text
    uploads = [c for c in h.fake.calls if c.method.startswith("files.")]
    assert uploads == []  # nothing downloaded through the API, nothing uploaded anywhere


async def test_a_reply_in_the_dm_thread_under_a_relayed_message_is_added(office: Office) -> None:
    h = office.h
    ticket = await filed_in_thread(office)
    relayed_ts = payloads.next_ts()
    async with h.portal.engine.begin() as conn:  # what the relay's post remembered
        await conn.execute(
            insert(slack_messages).values(
                key=f"relay:{ticket.reference}:1", channel="DU0CARLA", ts=relayed_ts, updated_at=datetime.now(UTC)
            )
        )
    await h.sender.event(
        payloads.message_im("U0CARLA", "It is the type 2 cable", "DU0CARLA", payloads.next_ts(), thread_ts=relayed_ts)
    )
    [answer] = await h.fake.wait_for(
        "chat.postMessage", where=lambda c: c.args.get("channel") == "DU0CARLA" and bool(c.args.get("thread_ts"))
    )
    assert answer.args["thread_ts"] == relayed_ts
    assert answer.args["text"] == f"Added to {ticket.reference}. Support sees it."
    [added] = await messages_of(h, ticket.reference)
    assert added.text == "It is the type 2 cable"


async def test_a_reply_under_the_filing_receipt_is_added(office: Office) -> None:
    """The receipt DM is remembered: answering in its thread adds to the request."""
    h = office.h
    ticket = await filed_in_thread(office)
    [receipt] = [
        c
        for c in h.fake.calls_to("chat.postMessage")
        if c.args.get("channel") == "U0CARLA" and "For your records" in str(c.args.get("text"))
    ]
    dm, ts = receipt.response["channel"], receipt.response["ts"]
    await h.sender.event(
        payloads.message_im("U0CARLA", "One more detail: it beeps", dm, payloads.next_ts(), thread_ts=ts)
    )
    await h.fake.wait_for("chat.postMessage", where=lambda c: c.args.get("thread_ts") == ts)
    [added] = await messages_of(h, ticket.reference)
    assert added.text == "One more detail: it beeps"


async def test_slacks_retry_of_the_same_event_adds_one_message(office: Office) -> None:
    h = office.h
    ticket = await filed_in_thread(office)
    event = reply("U0CARLA", "It started after the update")
    await h.sender.event(event, event_id="Ev0RETRY1")
    await h.sender.event(event, event_id="Ev0RETRY1", retry_num=1)
    await h.sender.event(event)  # even a new delivery of the same message: the request keeps it once
    await h.fake.wait_for("chat.postEphemeral", count=2, where=lambda c: c.args.get("user") == "U0CARLA")
    await office.deliver()
    assert [m.text for m in await messages_of(h, ticket.reference)] == ["It started after the update"]
    assert len([c for c in triage_thread_posts(h) if "From the customer" in str(c.args.get("text"))]) == 1


@pytest.mark.parametrize(
    ("user", "user_team"),
    [("U0BEN", None), ("U0ANNA", "T0VOLT")],
    ids=["another organization", "an unverified workspace"],
)
async def test_someone_else_in_the_thread_adds_nothing(office: Office, user: str, user_team: str | None) -> None:
    h = office.h
    ticket = await filed_in_thread(office)
    event = payloads.message(
        user, "Same problem here", CHANNEL, payloads.next_ts(), thread_ts=THREAD, user_team=user_team
    )
    await h.sender.event(event)
    [answer] = await h.fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("user") == user)
    assert answer.args["text"] == f"I can't find a request {ticket.reference} that you can see, so nothing was added."
    await office.deliver()
    assert await messages_of(h, ticket.reference) == []
    assert [c for c in triage_thread_posts(h) if "From the customer" in str(c.args.get("text"))] == []


async def test_a_message_in_the_triage_thread_is_nothing(office: Office) -> None:
    h = office.h
    await filed_in_thread(office)
    [card] = [c for c in h.fake.calls_to("chat.postMessage") if c.args.get("channel") == TRIAGE]
    before = len(h.fake.calls)
    await h.sender.event(reply(AGENT, "Looks like the lock actuator", channel=TRIAGE, thread=card.response["ts"]))
    await h.fake.assert_no_new_calls("chat.postEphemeral")
    assert slack_calls_since(h, before) == []


async def test_a_closed_request_says_so_and_keeps_nothing(office: Office) -> None:
    h = office.h
    ticket = await filed_in_thread(office)
    await services.set_ticket_status(h.portal.uow(), Agent(AGENT), ticket.reference, "closed")
    await h.sender.event(reply("U0CARLA", "It is broken again"))
    [answer] = await h.fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("user") == "U0CARLA")
    assert answer.args["text"] == f"{ticket.reference} is closed, so nothing was added to it."
    assert await messages_of(h, ticket.reference) == []


async def test_a_resolved_ticket_takes_the_message_and_says_how_to_reopen(office: Office) -> None:
    """Support sees it (the triage thread), but a resolved ticket is in nobody's queue: the customer learns how to
    put it back there."""
    h = office.h
    ticket = await filed_in_thread(office)
    await services.set_ticket_status(h.portal.uow(), Agent(AGENT), ticket.reference, "resolved")
    await h.sender.event(reply("U0CARLA", "It is broken again"))
    [answer] = await h.fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("user") == "U0CARLA")
    assert answer.args["text"] == (
        f"Added to {ticket.reference}. Support sees it. It is resolved: if the problem is back, press Reopen in my "
        f"message about it, or type `/support reopen {ticket.reference}` and what is still wrong."
    )
    assert [m.text for m in await messages_of(h, ticket.reference)] == ["It is broken again"]
    assert (await services.request_facts(h.portal.uow(), ticket.reference)).status == "resolved"


async def test_a_too_long_message_is_refused_clearly(office: Office) -> None:
    h = office.h
    ticket = await filed_in_thread(office)
    await h.sender.event(reply("U0CARLA", "x" * 3001))
    [answer] = await h.fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("user") == "U0CARLA")
    assert "too long" in answer.args["text"] and "3000" in answer.args["text"]
    assert await messages_of(h, ticket.reference) == []


async def test_a_thread_of_no_request_costs_no_slack_call(office: Office) -> None:
    h = office.h
    await filed_in_thread(office)
    before = len(h.fake.calls)
    await h.sender.event(reply("U0CARLA", "Lunch at noon?", thread=payloads.next_ts()))
    await h.sender.event(payloads.message("U0CARLA", "Top-level chat", CHANNEL, payloads.next_ts()))
    await h.fake.assert_no_new_calls("chat.postEphemeral")
    assert slack_calls_since(h, before) == []
    async with h.portal.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(slack_inbox)) == 0  # never even queued
        # The top-level message was not even recorded as received: channel chatter costs no write.
        assert await conn.scalar(select(func.count()).select_from(slack_receipts)) == 1


async def test_a_mention_in_the_thread_is_a_turn_not_an_addition(office: Office) -> None:
    """Slack sends a mention twice (app_mention and message): it is the conversation's turn, added nowhere."""
    h = office.h
    ticket = await filed_in_thread(office)
    ts = payloads.next_ts()
    await h.sender.event(payloads.app_mention("U0CARLA", "<@UBOT> status", CHANNEL, ts, thread_ts=THREAD))
    await h.sender.event(payloads.message("U0CARLA", "<@UBOT> status", CHANNEL, ts, thread_ts=THREAD))
    await h.fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("user") == "U0CARLA")
    await h.fake.assert_no_new_calls("chat.postEphemeral")
    assert await messages_of(h, ticket.reference) == []


async def test_bot_messages_and_edits_in_the_thread_are_nothing(office: Office) -> None:
    h = office.h
    ticket = await filed_in_thread(office)
    before = len(h.fake.calls)
    await h.sender.event(
        payloads.bot_message("A note", CHANNEL, payloads.next_ts(), channel_type="channel", thread_ts=THREAD)
    )
    edited = reply("U0CARLA", "edited", subtype="message_changed")
    await h.sender.event(edited)
    await h.fake.assert_no_new_calls("chat.postEphemeral")
    assert slack_calls_since(h, before) == []
    assert await messages_of(h, ticket.reference) == []


async def test_a_request_filed_in_the_triage_channel_takes_no_agents_notes(office: Office) -> None:
    """Even when a request was filed from a thread of the triage channel, the replies there are agents' notes among
    themselves: never added to the request, never seen by the customer."""
    h = office.h
    ticket = await services.open_service_ticket(
        h.portal.uow(), CARLA, "10001R001", "Socket 2 will not lock", origin={**IN_THREAD, "channel_id": TRIAGE}
    )
    await office.deliver()
    before = len(h.fake.calls)
    await h.sender.event(reply("U0CARLA", "Internal: check the actuator", channel=TRIAGE))
    await h.fake.assert_no_new_calls("chat.postEphemeral")
    assert slack_calls_since(h, before) == []
    assert await messages_of(h, ticket.reference) == []


@pytest.mark.parametrize(
    ("language", "added"),
    [
        ("nl", "Toegevoegd aan {reference}. Support ziet het."),
        ("de", "Zu {reference} hinzugefügt. Der Support sieht es."),
        ("fr", "Ajouté à {reference}. Le support le voit."),
    ],
)
async def test_the_customer_hears_back_in_their_language(office: Office, language: str, added: str) -> None:
    h = office.h
    ticket = await filed_in_thread(office)
    async with h.portal.engine.begin() as conn:  # carla talked to the assistant in `language` before
        await conn.execute(
            insert(slack_people).values(
                user_id="U0CARLA", team_id="T0HOME", email=CARLA, language=language, updated_at=datetime.now(UTC)
            )
        )
    await h.sender.event(reply("U0CARLA", "Das Kabel ist neu"))
    [answer] = await h.fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("user") == "U0CARLA")
    assert answer.args["text"] == added.format(reference=ticket.reference)
    await office.deliver()
    [mirrored] = [c for c in triage_thread_posts(h) if "Das Kabel ist neu" in str(c.args.get("text"))]
    assert str(mirrored.args["text"]).startswith("*From the customer*")  # the agents' language, not the customer's


async def test_an_agent_writing_in_the_customers_thread_adds_nothing_and_hears_nothing(office: Office) -> None:
    h = office.h
    ticket = await filed_in_thread(office)
    before = len(h.fake.calls)
    await h.sender.event(reply(AGENT, "We are looking into it"))
    await h.fake.assert_no_new_calls("chat.postEphemeral")
    assert [m for m in slack_calls_since(h, before) if m.startswith("chat.")] == []
    assert await messages_of(h, ticket.reference) == []
