"""The helpdesk loop in one journey (issue 16's "done when"), on loopback, SQLite and PostgreSQL: carla files in her
company's channel; the agent asks a question; carla answers in the thread with a photo of the label; the answer
appears in the triage thread; the agent resolves; carla reopens from the resolution DM; the agent resolves again.
Nothing of it reaches anyone outside CityCharge and support.
"""

from __future__ import annotations

from typing import Any

from portal import services
from tests.slack.test_customer_additions import reply
from tests.slack.test_relay import press as press_card
from tests.slack.test_relay import sent, status_of, submit, to_customers
from tests.slack.test_reopen import press, status_becomes
from tests.support.fake_slack import Call
from tests.support.harness import AGENT, TRIAGE, Harness, button
from tests.support.journeys import Office

CARLA = "carla@citycharge.example"
CHANNEL, THREAD = "C0SHARED", "1700000000.000100"  # CityCharge's channel with support, and carla's thread in it
IN_THREAD = {
    "slack_user_id": "U0CARLA",
    "slack_team_id": "T0HOME",
    "channel_id": CHANNEL,
    "thread_ts": THREAD,
    "surface": "channel",
}
LABEL = {
    "id": "F0LABEL",
    "name": "label.jpg",
    "mimetype": "image/jpeg",
    "url_private": "https://files.slack.com/files-pri/T0HOME-F0LABEL/label.jpg",
    "permalink": "https://chargedesk-support.slack.com/files/U0CARLA/F0LABEL/label.jpg",
}


def in_triage_thread(h: Harness, words: str) -> list[Call]:
    return [c for c in sent(h, "chat.postMessage", TRIAGE) if c.args.get("thread_ts") and words in c.args["text"]]


async def test_ask_answer_with_a_photo_resolve_reopen_resolve(slack: Harness) -> None:
    h, office = slack, Office.of(slack)
    h.fake.channels[CHANNEL] = {"is_channel": True, "is_shared": False, "context_team_id": "T0HOME"}
    h.fake.members[CHANNEL] = ["U0CARLA", AGENT, h.fake.bot_user_id]
    filed = await services.open_service_ticket(
        h.portal.uow(), CARLA, "10001R001", "Socket 2 will not lock the cable", origin=IN_THREAD
    )
    reference = filed.reference
    await office.deliver()
    [card] = [c for c in sent(h, "chat.postMessage", TRIAGE) if not c.args.get("thread_ts")]

    # The agent asks; carla reads it in her own thread, with the agent's name, and the request waits for her.
    view = await press_card(h, AGENT, "triage_ask", reference)
    assert await submit(h, AGENT, view, "Does the label say type 2 or type 3?") == {}
    assert await status_of(h, reference) == "waiting_for_customer"
    await office.deliver()
    [question] = [c for c in sent(h, "chat.postMessage", CHANNEL) if "label say" in c.args["text"]]
    assert question.args["thread_ts"] == THREAD and "sam" in question.args["text"]

    # carla answers in the thread with a photo of the label: on the request, back with support, in triage.
    answer = reply("U0CARLA", "Type 2, photo attached", subtype="file_share", files=[LABEL], upload=False)
    status, _ = await h.sender.event(answer)
    assert status == 200
    await h.fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("user") == "U0CARLA")
    assert await status_of(h, reference) == "open"
    await office.deliver()
    [mirrored] = in_triage_thread(h, "Type 2, photo attached")
    assert mirrored.args["thread_ts"] == card.response["ts"]
    assert LABEL["permalink"] in mirrored.args["text"] and "From the customer" in mirrored.args["text"]
    assert h.fake.calls_to("files.upload") == [] and h.fake.calls_to("files.uploadV2") == []

    # Resolved; carla reopens from her resolution DM; resolved again.
    await press(h, AGENT, TRIAGE, "triage_resolve", reference)
    await status_becomes(h, reference, "resolved")
    await office.deliver()
    [resolution] = [c for c in sent(h, "chat.postMessage", "U0CARLA") if "resolved" in c.args["text"]]
    _, action_id, value = button(resolution, f"Reopen {reference}")
    await press(h, "U0CARLA", "DU0CARLA", action_id, value)
    await status_becomes(h, reference, "open")
    await press(h, AGENT, TRIAGE, "triage_resolve", reference)
    await status_becomes(h, reference, "resolved")
    await office.deliver()

    facts = await services.request_facts(h.portal.uow(), reference)
    assert [step.to_status for step in facts.history] == [
        *("open", "waiting_for_customer", "open", "resolved", "open", "resolved"),
    ]
    assert [(m.direction, m.asks, len(m.files)) for m in facts.messages] == [
        ("to_requester", True, 0),
        ("from_requester", False, 1),
    ]
    # Everything a customer could read went to carla's thread or her DM, never anywhere else.
    places: set[Any] = {c.args.get("channel") for c in to_customers(h)}
    assert places <= {CHANNEL, "U0CARLA", "DU0CARLA"}
    assert all(c.args.get("thread_ts") == THREAD for c in sent(h, "chat.postMessage", CHANNEL))
