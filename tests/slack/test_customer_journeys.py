"""Customers in Slack, end to end: signed requests in Slack's formats → the app on loopback → the fake Web API."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from bot.slack.messages.modals import FORM_CALLBACK, FROM_MESSAGE_CALLBACK
from portal import services
from portal.adapters import tables
from tests.support import payloads
from tests.support.fake_slack import Call
from tests.support.harness import Harness, inputs, text_of
from tests.support.journeys import Office, press_button

CHANNEL = "C0SHARED"  # a Slack Connect channel shared with customers


async def thread_notes(h: Harness) -> list[Call]:
    """The public notes in CHANNEL once the outbox is delivered (the "filed" note comes from the notifier)."""
    await Office.of(h).deliver()
    return [c for c in h.fake.calls_to("chat.postMessage") if c.args.get("channel") == CHANNEL]


async def requests_in(h: Harness) -> list[tuple[str, str, str]]:
    rq = tables.requests
    async with h.portal.engine.connect() as conn:
        rows = await conn.execute(select(rq.c.reference, rq.c.status, rq.c.description).order_by(rq.c.id))
        return [(r.reference, r.status, r.description) for r in rows]


async def click(h: Harness, user: str, message: Call, title: str, *, user_team: str | None = None) -> str:
    """Press the button titled `title` in a recorded ephemeral message; returns the trigger id."""
    return await press_button(h, user, message, title, CHANNEL, user_team=user_team)


async def submit(
    h: Harness,
    user: str,
    view: dict[str, Any],
    values: dict[str, dict[str, Any]],
    *,
    callback: str = FORM_CALLBACK,
    user_team: str | None = None,
) -> dict[str, Any]:
    """Submit a recorded modal with `values` (block_id → element state); returns the app's JSON answer."""
    state = {block: {"value": element} for block, element in values.items()}  # our inputs' action id is "value"
    status, body = await h.sender.interaction(
        payloads.view_submission(user, "T0HOME", callback, str(view["private_metadata"]), state, user_team=user_team)
    )
    assert status == 200
    return json.loads(body) if body else {}


async def test_carla_mention_category_modal_ticket_with_warranty(slack: Harness) -> None:
    h = slack
    ts = payloads.next_ts()
    status, _ = await h.sender.event(payloads.app_mention("U0CARLA", "<@UBOT> I have a question", CHANNEL, ts))
    assert status == 200
    [categories] = await h.fake.wait_for("chat.postEphemeral")
    assert categories.args["user"] == "U0CARLA"
    assert categories.args["thread_ts"] == ts  # the conversation lives in the thread of the mention
    trigger = await click(h, "U0CARLA", categories, "A service request on a charger")

    [opened] = await h.fake.wait_for("views.open")
    assert opened.args["trigger_id"] == trigger
    view = opened.args["view"]
    fields = inputs(view)
    assert list(fields) == ["serial", "description"]
    assert [o["value"] for o in fields["serial"]["options"]] == ["10001R001", "10001R002"]  # carla's own only
    assert fields["description"]["multiline"] is True

    answer = await submit(
        h,
        "U0CARLA",
        view,
        {
            "serial": payloads.static_select_value("10001R001"),
            "description": payloads.plain_text_value("The display stays dark since Monday"),
        },
    )
    assert answer["response_action"] == "update"
    outcome = json.dumps(answer["view"])
    assert "ST-000001" in outcome
    assert "warranty ended" in outcome  # out of warranty, so a visit may be billed
    [note] = await thread_notes(h)
    assert note.args["thread_ts"] == ts
    assert "ST-000001" in note.args["text"]
    assert "10001R001" not in note.args["text"]  # details stay private
    assert await requests_in(h) == [("ST-000001", "open", "The display stays dark since Monday")]


async def test_ben_is_told_why_then_files_a_transfer_in_the_modal(slack: Harness) -> None:
    h = slack
    ts = payloads.next_ts()
    await h.sender.event(payloads.app_mention("U0BEN", "<@UBOT> our charger ACE0100002 is broken", CHANNEL, ts))
    [why] = await h.fake.wait_for("chat.postEphemeral")
    assert "another organization" in text_of(why)
    assert "VoltWay" not in json.dumps(why.args)
    assert await requests_in(h) == []

    await click(h, "U0BEN", why, "Request a management transfer")
    [opened] = await h.fake.wait_for("views.open")
    view = opened.args["view"]
    fields = inputs(view)
    # The charger is known (the mention named it): no photo of its label is asked for (issue 17 §1).
    assert list(fields) == ["serials", "description", "transfer_confirmed"]
    assert fields["serials"]["initial_value"] == "ACE0100002"
    answer = await submit(
        h,
        "U0BEN",
        view,
        {
            "serials": payloads.plain_text_value("ACE0100002"),
            "description": payloads.plain_text_value("Bought from VoltWay with the installation in 2025"),
            "transfer_confirmed": payloads.checkboxes_value(["true"]),
        },
    )
    assert "MT-000001" in json.dumps(answer["view"])
    [transfer] = await services.list_requests(h.portal.uow(), "ben@greenfleet.example")
    assert (transfer.reference, transfer.status, transfer.serials) == (
        "MT-000001",
        "awaiting_operator",
        ("ACE0100002",),
    )


async def test_dave_files_an_administrative_request_from_the_entry_button(slack: Harness) -> None:
    h = slack
    entry_ts = payloads.next_ts()
    trigger = payloads.new_trigger_id()
    await h.sender.interaction(
        payloads.block_actions(
            "U0DAVE",
            "T0HOME",
            CHANNEL,
            entry_ts,
            "chargedesk_press_0",
            value="/have_question",
            block_id="cd0|-",
            trigger_id=trigger,
        )
    )
    [categories] = await h.fake.wait_for("chat.postEphemeral")
    assert categories.args["thread_ts"] == entry_ts  # a thread under the entry message, one per user
    await click(h, "U0DAVE", categories, "Administrative changes")
    [opened] = await h.fake.wait_for("views.open")
    view = opened.args["view"]
    assert list(inputs(view)) == ["description"]
    answer = await submit(
        h,
        "U0DAVE",
        view,
        {
            "description": payloads.plain_text_value("Please link me to GreenFleet Logistics, I run their depot"),
        },
    )
    assert "AR-000001" in json.dumps(answer["view"])
    assert [r[0] for r in await requests_in(h)] == ["AR-000001"]


async def test_a_forged_malformed_serial_gets_an_inline_error_and_nothing_is_created(slack: Harness) -> None:
    h = slack
    await h.sender.event(payloads.app_mention("U0CARLA", "<@UBOT> I have a question", CHANNEL, payloads.next_ts()))
    [categories] = await h.fake.wait_for("chat.postEphemeral")
    await click(h, "U0CARLA", categories, "A service request on a charger")
    [opened] = await h.fake.wait_for("views.open")
    answer = await submit(
        h,
        "U0CARLA",
        opened.args["view"],
        {
            "serial": payloads.static_select_value("ACE12"),  # not one of the options: a forged submission
            "description": payloads.plain_text_value("The display stays dark since Monday"),
        },
    )
    assert answer["response_action"] == "errors"
    assert answer["errors"] == {"serial": "Please choose one of your organization's chargers."}
    assert await requests_in(h) == []
    [audited] = await services.audit_entries(h.portal.uow())
    assert (audited.actor, audited.outcome) == ("slack:U0CARLA", "ForgedValue")


async def test_a_typed_malformed_serial_gets_the_validators_message_inline(slack: Harness) -> None:
    h = slack
    # ben's organization operates no charger, so the modal asks him to type the serial.
    await h.sender.event(payloads.app_mention("U0BEN", "<@UBOT> I have a question", CHANNEL, payloads.next_ts()))
    [categories] = await h.fake.wait_for("chat.postEphemeral")
    await click(h, "U0BEN", categories, "A service request on a charger")
    [opened] = await h.fake.wait_for("views.open")
    assert inputs(opened.args["view"])["serial"]["type"] == "plain_text_input"
    answer = await submit(
        h,
        "U0BEN",
        opened.args["view"],
        {
            "serial": payloads.plain_text_value("ACE12"),
            "description": payloads.plain_text_value("The display stays dark since Monday"),
        },
    )
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"serial"}
    assert "doesn't look like a serial number" in answer["errors"]["serial"]
    assert await requests_in(h) == []


async def raise_from_message(
    h: Harness, user: str, text: str, message_ts: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`user` raises a service request from the message `text` (message shortcut) and keeps the kind modal's
    description: the kind modal Slack opened, and the app's answer to its submission."""
    await h.sender.interaction(
        payloads.message_action(user, "T0HOME", CHANNEL, "chargedesk_from_message", text, message_ts)
    )
    [first] = await h.fake.wait_for("views.open")
    kind_view: dict[str, Any] = first.args["view"]
    answer = await submit(
        h,
        user,
        kind_view,
        {
            "category": payloads.static_select_value("/request_service_ticket"),
            "description": payloads.plain_text_value(text),
        },
        callback=FROM_MESSAGE_CALLBACK,
    )
    return kind_view, answer


async def test_a_message_shortcut_prefills_the_description(slack: Harness) -> None:
    h = slack
    text = "Charger at gate 3 shows error 42 since this morning"
    message_ts = payloads.next_ts()
    kind_view, answer = await raise_from_message(h, "U0CARLA", text, message_ts)
    assert inputs(kind_view)["description"]["initial_value"] == text
    assert answer["response_action"] == "update"
    form = answer["view"]
    assert inputs(form)["description"]["initial_value"] == text
    done = await submit(
        h,
        "U0CARLA",
        form,
        {
            "serial": payloads.static_select_value("10001R002"),
            "description": payloads.plain_text_value(text),
        },
    )
    assert "ST-000001" in json.dumps(done["view"])
    [note] = await thread_notes(h)
    assert note.args["thread_ts"] == message_ts
    assert await requests_in(h) == [("ST-000001", "open", text)]


async def test_a_slack_connect_user_from_another_workspace_completes_a_request(slack: Harness) -> None:
    h = slack
    ts = payloads.next_ts()
    await h.sender.event(payloads.app_mention("U0ANNA", "<@UBOT> I have a question", CHANNEL, ts, user_team="T0VOLT"))
    [categories] = await h.fake.wait_for("chat.postEphemeral")
    await click(h, "U0ANNA", categories, "A service request on a charger", user_team="T0VOLT")
    [opened] = await h.fake.wait_for("views.open")
    assert [o["value"] for o in inputs(opened.args["view"])["serial"]["options"]] == ["ACE0100001", "ACE0100002"]
    answer = await submit(
        h,
        "U0ANNA",
        opened.args["view"],
        {
            "serial": payloads.static_select_value("ACE0100001"),
            "description": payloads.plain_text_value("Charging stops after ten minutes"),
        },
        user_team="T0VOLT",
    )
    assert "ST-000001" in json.dumps(answer["view"])
    assert {c.args["user"] for c in h.fake.calls_to("users.info")} == {"U0ANNA"}
    tracker = await h.engine.tracker(f"T0VOLT:{CHANNEL}:{ts}:U0ANNA")  # her own workspace in the conversation id
    assert tracker.slots["request_reference"] == "ST-000001"


async def test_a_direct_message_and_a_user_without_email(slack: Harness) -> None:
    h = slack
    await h.sender.event(payloads.message_im("U0CARLA", "hello", "D0CARLA", payloads.next_ts()))
    [greeting] = await h.fake.wait_for("chat.postMessage")
    assert greeting.args["channel"] == "D0CARLA"
    assert "I have a question" in json.dumps(greeting.args["blocks"])
    await h.sender.event(payloads.message_im("U0NOMAIL", "/request_service_ticket", "D0NOMAIL", payloads.next_ts()))
    [refusal] = await h.fake.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == "D0NOMAIL")
    # Slack keeps this person's email from us: said as such, not "no account" (issue 13 §9; was "can't find").
    assert "Slack doesn't share the email address" in text_of(refusal)


async def test_the_global_shortcut_starts_in_a_dm(slack: Harness) -> None:
    h = slack
    await h.sender.interaction(payloads.shortcut("U0BEN", "T0HOME", "chargedesk_raise"))
    [opened] = await h.fake.wait_for("conversations.open")
    assert opened.args["users"] == "U0BEN"
    [categories] = await h.fake.wait_for("chat.postMessage")
    assert categories.args["channel"] == "DU0BEN"
    assert "A management transfer" in json.dumps(categories.args["blocks"])


async def test_the_charger_search_offers_only_the_askers_chargers(slack: Harness) -> None:
    h = slack
    status, body = await h.sender.interaction(
        payloads.block_suggestion("U0CARLA", "T0HOME", "charger", "serial", "r002", FORM_CALLBACK)
    )
    assert status == 200
    assert [o["value"] for o in json.loads(body)["options"]] == ["10001R002"]
    status, body = await h.sender.interaction(
        payloads.block_suggestion("U0BEN", "T0HOME", "charger", "serial", "", FORM_CALLBACK)
    )
    assert json.loads(body)["options"] == []


async def test_in_a_dm_a_form_asks_field_by_field(slack: Harness) -> None:
    h = slack
    await h.sender.event(payloads.message_im("U0CARLA", "I need a repair on a charger", "D0CARLA", payloads.next_ts()))
    [ask] = await h.fake.wait_for("chat.postMessage")
    assert "Which charger is it?" in text_of(ask)
    assert h.fake.calls_to("views.open") == []  # typed text, no trigger: no modal
    await h.sender.event(payloads.message_im("U0CARLA", "10001R002", "D0CARLA", payloads.next_ts()))
    await h.fake.wait_for("chat.postMessage", count=2)
    await h.sender.event(
        payloads.message_im("U0CARLA", "Socket 2 will not lock the cable", "D0CARLA", payloads.next_ts())
    )
    [*_, summary] = await h.fake.wait_for("chat.postMessage", count=3)
    # Issue 13: a summary with Submit / Change / Cancel comes before anything is filed.
    assert "Socket 2 will not lock the cable" in text_of(summary)
    assert "under warranty until" in text_of(summary)  # a DM is private: the details are there
    assert await services.list_requests(h.portal.uow(), "carla@citycharge.example") == []
    await press_button(h, "U0CARLA", summary, "Submit", "D0CARLA")
    [*_, filed] = await h.fake.wait_for("chat.postMessage", count=4)
    assert "ST-000001" in text_of(filed)
    assert "under warranty until" in text_of(filed)
    assert h.fake.calls_to("views.open") == []  # Submit files; it opens no modal


async def test_a_mention_with_support_words_answers_like_the_slash_command(slack: Harness) -> None:
    h = slack
    ts = payloads.next_ts()
    await h.sender.event(
        payloads.app_mention("U0ANNA", "<@UBOT> charger ACE0100002", CHANNEL, ts, thread_ts=ts, user_team="T0VOLT")
    )
    [answer] = await h.fake.wait_for("chat.postEphemeral")
    assert answer.args["user"] == "U0ANNA"
    assert answer.args["thread_ts"] == ts  # works inside threads and for Slack Connect users
    assert "VoltWay Resellers BV" in text_of(answer)  # anna's organization operates it: she sees the details
    await h.sender.event(payloads.app_mention("U0BEN", "<@UBOT> charger ACE0100002", CHANNEL, payloads.next_ts()))
    [*_, other] = await h.fake.wait_for("chat.postEphemeral", count=2)
    assert other.args["user"] == "U0BEN"
    assert "VoltWay" not in json.dumps(other.args)  # another organization's: no name, no details
