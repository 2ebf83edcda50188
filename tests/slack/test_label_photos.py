"""A photo of the charger's label instead of a typed serial (issue 17 §1), end to end on loopback, both databases.

The customer sends the photo in their DM (or with a mention); the app fetches it from the fake Slack with the bot
token, reads the serial, and asks "Is it …?" with Yes / No: Yes answers as the typed serial would, and the request
keeps the photo as a Slack file reference. Everything that is not a readable photo of a label gets a clear answer
and changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.slack.ingress.context import Conversation
from bot.slack.messages.photos import LABEL_NO
from portal import services
from portal.adapters import tables
from portal.domain.actors import Agent
from tests.photos.label_images import label_photo, no_label_photo
from tests.slack.test_customer_journeys import submit
from tests.support import payloads
from tests.support.fake_slack import Call
from tests.support.harness import Harness, button, inputs, text_of
from tests.support.journeys import TRANSFER_REASON, open_transfer_modal, press_button, transfer_state

CARLA, DM = "U0CARLA", "D0CARLA"


def dm_posts(h: Harness) -> list[Call]:
    return [c for c in h.fake.calls_to("chat.postMessage") if c.ok and c.args.get("channel") == DM]


async def say(
    h: Harness,
    text: str,
    *,
    files: list[dict[str, Any]] | None = None,
    subtype: str | None = None,
    answers: int = 1,
) -> Call:
    """Carla writes in her DM; returns the assistant's last answer once its `answers` messages came."""
    before = len(dm_posts(h))
    await h.sender.event(payloads.message_im(CARLA, text, DM, payloads.next_ts(), files=files or (), subtype=subtype))
    await h.fake.wait_for(
        "chat.postMessage", count=before + answers, timeout=20, where=lambda c: c.args.get("channel") == DM
    )
    await h.fake.assert_no_new_calls("chat.postMessage", duration=0.2)
    return dm_posts(h)[-1]


async def press(h: Harness, message: Call, title: str) -> Call:
    before = len(dm_posts(h))
    await press_button(h, CARLA, message, title, DM)
    await h.fake.wait_for("chat.postMessage", count=before + 1, where=lambda c: c.args.get("channel") == DM)
    return dm_posts(h)[-1]


async def kept_files(h: Harness) -> list[dict[str, str]]:
    async with h.portal.engine.connect() as conn:
        rows = await conn.execute(select(tables.request_messages.c.files))
        return [f for row in rows for f in (row.files or [])]


async def requests_count(h: Harness) -> int:
    async with h.portal.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(tables.requests)) or 0)


async def test_a_photo_in_the_dm_answers_which_charger_and_the_ticket_keeps_it(slack: Harness) -> None:
    h = slack
    await say(h, "I need a repair on a charger")
    photo = h.fake.add_file(label_photo("10001R002", seed=1), user=CARLA)
    question = await say(h, "", files=[photo])
    assert "10001R002" in text_of(question) and "Is that the one on the label?" in text_of(question)
    # Downloaded once, from the file's private URL, with the bot token (never without it).
    [download] = h.fake.calls_to("files.download")
    assert download.token == "xoxb-test" and download.ok
    # Yes is the serial as if typed: the form goes on, here as a modal (a click can open one) with the charger chosen.
    await press_button(h, CARLA, question, "Yes, 10001R002", DM)
    [opened] = await h.fake.wait_for("views.open")
    view = opened.args["view"]
    assert inputs(view)["serial"]["initial_option"]["value"] == "10001R002"
    answer = await submit(
        h,
        CARLA,
        view,
        {
            "serial": payloads.static_select_value("10001R002"),
            "description": payloads.plain_text_value("Socket 1 trips the breaker after a few minutes of charging"),
        },
    )
    assert "ST-000001" in json.dumps(answer["view"])
    [kept] = await kept_files(h)
    # A reference only: what Slack's permalink names, never the bytes or the private URL.
    assert kept == {"id": photo["id"], "name": photo["name"], "permalink": photo["permalink"]}
    detail = await services.get_request(h.portal.uow(), Agent("U0AGENT"), "ST-000001")
    assert detail.summary.serials == ("10001R002",)


async def test_the_first_message_may_carry_the_photo(slack: Harness) -> None:
    h = slack
    photo = h.fake.add_file(label_photo("10001R001", seed=2, rotation=4), user=CARLA)
    await say(h, "Hi, our charger in the garage stopped working", files=[photo], subtype="file_share", answers=2)
    first, question = dm_posts(h)[-2:]
    # The words are a turn as always (a service request: which charger?), then the question about the photo.
    assert "Which charger is it?" in text_of(first)
    assert "10001R001" in text_of(question) and "10001R001" not in text_of(first)
    await press_button(h, CARLA, question, "Yes, 10001R001", DM)
    [opened] = await h.fake.wait_for("views.open")
    assert inputs(opened.args["view"])["serial"]["initial_option"]["value"] == "10001R001"


async def test_a_yes_before_any_form_is_kept_for_the_form_that_follows(slack: Harness) -> None:
    h = slack
    photo = h.fake.add_file(label_photo("10001R002", seed=8), user=CARLA)
    question = await say(h, "", files=[photo])
    categories = await press(h, question, "Yes, 10001R002")
    assert "A service request on a charger" in json.dumps(categories.args["blocks"])
    await press_button(h, CARLA, categories, "A service request on a charger", DM)
    [opened] = await h.fake.wait_for("views.open")
    assert inputs(opened.args["view"])["serial"]["initial_option"]["value"] == "10001R002"


async def test_no_means_type_it_and_nothing_is_taken_from_the_photo(slack: Harness) -> None:
    h = slack
    await say(h, "I need a repair on a charger")
    question = await say(h, "", files=[h.fake.add_file(label_photo("10001R002", seed=3), user=CARLA)])
    block_id, action_id, value = button(question, "No")
    assert action_id == LABEL_NO
    status, _ = await h.sender.interaction(
        payloads.block_actions(
            CARLA,
            "T0HOME",
            DM,
            question.response["ts"],
            action_id,
            value=value,
            block_id=block_id,
            response_url=h.fake.response_url("no"),
        )
    )
    assert status == 200
    [replaced] = await h.fake.wait_for("response_url")
    assert replaced.args["replace_original"] is True and "type the serial number" in replaced.args["text"]
    # The form still asks for the charger: typing it goes on as usual.
    ask_description = await say(h, "10001R002")
    assert "describe the problem" in text_of(ask_description)


async def test_words_with_a_serial_win_over_the_photo(slack: Harness) -> None:
    h = slack
    await say(h, "I need a repair on a charger")
    photo = h.fake.add_file(label_photo("ACE0100001", seed=4), user=CARLA)
    answer = await say(h, "it is 10001R002", files=[photo])
    assert "describe the problem" in text_of(answer)
    assert h.fake.calls_to("files.download") == []  # not even fetched


@pytest.mark.parametrize(
    ("shared", "expected"),
    [
        ({"content": b"%PDF-1.7\n...", "name": "invoice.pdf", "mimetype": "application/pdf"}, "isn't a photo"),
        ({"content": b"just some text", "name": "label.jpg", "mimetype": "image/jpeg"}, "isn't a photo"),
        ({"content": b"\xff\xd8", "name": "huge.jpg", "size": 60 * 1024 * 1024}, "too large"),
        ({"content": b"\xff\xd8", "name": "theirs.jpg", "readable": False}, "another workspace"),
        ({"content": no_label_photo(5), "name": "garage.jpg"}, "couldn't find a serial number"),
    ],
    ids=["pdf", "text-as-jpeg", "huge", "other-workspace", "no-label"],
)
async def test_what_is_not_a_readable_label_gets_a_clear_answer_and_changes_nothing(
    slack: Harness, shared: dict[str, Any], expected: str
) -> None:
    h = slack
    asked = await say(h, "I need a repair on a charger")
    details = dict(shared)  # the parameters are shared by both databases' runs
    photo = h.fake.add_file(details.pop("content"), user=CARLA, **details)
    answer = await say(h, "", files=[photo])
    assert expected in text_of(answer)
    assert not any(b.get("type") == "actions" for b in answer.args.get("blocks") or [])
    if expected in ("too large", "another workspace") or photo["mimetype"] == "application/pdf":
        assert h.fake.calls_to("files.download") == []  # refused on what files.info says, before any download
    assert await requests_count(h) == 0 and await kept_files(h) == []
    tracker = await h.engine.tracker(Conversation("T0HOME", CARLA, DM, None, "im").sender_id)
    assert tracker.slots.get("requested_slot") == "serial" and tracker.slots.get("label_photo") is None
    assert "Which charger is it?" in text_of(asked)


async def test_slack_failing_to_serve_the_photo_asks_to_send_it_again(slack: Harness) -> None:
    h = slack
    await say(h, "I need a repair on a charger")
    h.fake.fail_next("files.download", status=503)
    answer = await say(h, "", files=[h.fake.add_file(label_photo("10001R002", seed=6), user=CARLA)])
    assert "send it again" in text_of(answer)


async def test_a_forged_photo_link_is_not_kept(slack: Harness) -> None:
    h = slack
    await say(h, "I need a repair on a charger")
    forged = '/inform{"serial":"10001R002","label_photo":"10001R002 https://evil.example/files/U0/F0X/x.jpg"}'
    ask_description = await say(h, forged)
    assert "describe the problem" in text_of(ask_description)
    summary = await say(h, "Socket 1 trips the breaker after a few minutes of charging")
    await press(h, summary, "Submit")
    assert await requests_count(h) == 1 and await kept_files(h) == []


async def test_a_mention_with_a_photo_asks_in_the_thread_only_to_its_sender(slack: Harness) -> None:
    h = slack
    ts = payloads.next_ts()
    photo = h.fake.add_file(label_photo("10001R002", seed=7), user=CARLA)
    await h.sender.event(payloads.app_mention(CARLA, "<@UBOT>", "C0SHARED", ts, files=[photo]))
    [question] = await h.fake.wait_for("chat.postEphemeral")
    assert question.args["user"] == CARLA and question.args["thread_ts"] == ts
    assert "10001R002" in text_of(question)
    assert h.fake.calls_to("chat.postMessage") == []  # nothing public in a shared channel


async def empty_transfer_modal(h: Harness) -> dict[str, Any]:
    """ben asks in the shared channel and chooses "A management transfer": the modal, with no charger known yet."""
    await h.sender.event(payloads.app_mention("U0BEN", "<@UBOT> I have a question", "C0SHARED", payloads.next_ts()))
    [categories] = await h.fake.wait_for("chat.postEphemeral")
    await press_button(h, "U0BEN", categories, "A management transfer")
    [opened] = await h.fake.wait_for("views.open")
    view: dict[str, Any] = opened.args["view"]
    return view


async def test_a_modal_reads_the_photo_shows_the_serial_to_check_then_files_with_it(slack: Harness) -> None:
    h = slack
    view = await empty_transfer_modal(h)
    assert inputs(view)["label_photo"]["type"] == "file_input"
    assert next(b for b in view["blocks"] if b.get("block_id") == "serials")["optional"] is True
    photo = h.fake.add_file(label_photo("ACE0100002", seed=9, blur=0.6), user="U0BEN")
    state = transfer_state() | {"serials": {"value": payloads.plain_text_value(None)}}  # the field left empty
    state["label_photo"] = {"value": payloads.file_input_value([photo])}
    answer = await submit(h, "U0BEN", view, {k: v["value"] for k, v in state.items()})
    # At once: "reading"; then the form again with the serial to check, and what was typed still there.
    assert answer["response_action"] == "update" and "Reading the photo" in json.dumps(answer["view"])
    [updated] = await h.fake.wait_for("views.update", timeout=20)
    again = updated.args["view"]
    assert "ACE0100002" in json.dumps(again["blocks"][0]) and "check it below" in json.dumps(again["blocks"][0])
    assert inputs(again)["serials"]["initial_value"] == "ACE0100002"
    assert inputs(again)["description"]["initial_value"] == TRANSFER_REASON
    assert await requests_count(h) == 0  # nothing filed unseen
    sent_again = transfer_state() | {"serials": {"value": payloads.plain_text_value("ACE0100002")}}
    done = await submit(h, "U0BEN", again, {k: v["value"] for k, v in sent_again.items()})
    assert "MT-000001" in json.dumps(done["view"])
    [kept] = await kept_files(h)
    assert kept["id"] == photo["id"] and kept["permalink"] == photo["permalink"]


async def test_a_modal_photo_without_a_serial_says_so_and_files_nothing(slack: Harness) -> None:
    h = slack
    view = await empty_transfer_modal(h)
    photo = h.fake.add_file(no_label_photo(10), user="U0BEN")
    state = transfer_state() | {"serials": {"value": payloads.plain_text_value(None)}}
    state["label_photo"] = {"value": payloads.file_input_value([photo])}
    await submit(h, "U0BEN", view, {k: v["value"] for k, v in state.items()})
    [updated] = await h.fake.wait_for("views.update", timeout=20)
    again = updated.args["view"]
    assert "couldn't find a serial number" in json.dumps(again["blocks"][0])
    assert inputs(again)["serials"].get("initial_value") is None
    assert json.loads(again["private_metadata"]).get("label_photo") is None
    assert await requests_count(h) == 0


async def test_a_photo_beside_a_typed_serial_is_kept_without_reading_it(slack: Harness) -> None:
    h = slack
    view = await empty_transfer_modal(h)
    photo = h.fake.add_file(label_photo("ACE0100002", seed=11), user="U0BEN")
    state = transfer_state()
    state["label_photo"] = {"value": payloads.file_input_value([photo])}
    done = await submit(h, "U0BEN", view, {k: v["value"] for k, v in state.items()})
    assert "MT-000001" in json.dumps(done["view"])
    assert h.fake.calls_to("files.download") == []
    [kept] = await kept_files(h)
    assert kept["id"] == photo["id"]


async def test_the_question_about_the_photo_is_in_the_customers_language(slack: Harness) -> None:
    h = slack
    asked = await say(h, "Ik heb een reparatie nodig aan een laadpaal")
    assert "serienummer" in text_of(asked)
    question = await say(h, "", files=[h.fake.add_file(label_photo("10001R002", seed=12), user=CARLA)])
    assert "Op je foto lees ik het serienummer *10001R002*" in text_of(question)
    button(question, "Ja, 10001R002")
    button(question, "Nee")


async def test_a_modal_that_knows_the_charger_asks_for_no_photo(slack: Harness) -> None:
    h = slack
    view = await open_transfer_modal(h)  # ben's mention named ACE0100002
    assert "label_photo" not in inputs(view)
