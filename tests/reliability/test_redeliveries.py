"""Slack redelivers events it thinks were missed, and clicks can arrive twice: each is handled once."""

from __future__ import annotations

import asyncio
import json

from bot.config import Settings
from bot.engine.actions import InProcessActions
from bot.engine.engine import Engine
from bot.engine.store import TrackerStore
from bot.slack.app import build_app, web_app
from bot.slack.messages.modals import FORM_CALLBACK
from portal import services
from tests.slack.conftest import slack  # noqa: F401  (the `slack` fixture)
from tests.support import payloads
from tests.support.fake_slack import start_local_server
from tests.support.harness import (
    SECRET,
    Harness,
    button,
)
from tests.support.signing import SlackSender

EVENTS = 100


async def test_every_event_delivered_three_times_is_handled_once(slack: Harness) -> None:  # noqa: F811
    h = slack
    events = [
        (payloads.message_im("U0CARLA", f"hello number {i}", f"D{i:04d}", payloads.next_ts()), f"Ev{i:08d}")
        for i in range(EVENTS)
    ]
    for event, event_id in events:  # the first delivery, then Slack's retries 1 and 2
        for retry in (None, 1, 2):
            status, _ = await h.sender.event(event, event_id=event_id, retry_num=retry)
            assert status == 200
    replies = await h.fake.wait_for("chat.postMessage", count=EVENTS, timeout=30)
    await h.fake.assert_no_new_calls("chat.postMessage", duration=0.5)
    per_channel: dict[str, int] = {}
    for reply in h.fake.calls_to("chat.postMessage"):
        per_channel[reply.args["channel"]] = per_channel.get(reply.args["channel"], 0) + 1
    duplicates = sum(n - 1 for n in per_channel.values())
    print(f"{EVENTS} events delivered 3x each → {len(replies)} replies, {duplicates} duplicates")
    assert len(per_channel) == EVENTS
    assert duplicates == 0
    assert await h.engine.store.count() == EVENTS


async def test_a_redelivery_to_another_process_after_a_restart_is_ignored(slack: Harness) -> None:  # noqa: F811
    h = slack
    event = payloads.message_im("U0CARLA", "hello", "D0CARLA", payloads.next_ts())
    await h.sender.event(event, event_id="Ev0RESTART")
    await h.fake.wait_for("chat.postMessage")
    # A second app — another process, or this one restarted — on the same database gets Slack's retry.
    settings = Settings(
        slack_bot_token="xoxb-test",
        slack_signing_secret=SECRET,
        slack_api_url=h.fake.base_url,
    )
    other_engine = Engine(
        h.engine.design, h.engine.interpreter, TrackerStore(h.portal.engine), InProcessActions(portal=h.portal)
    )
    runner, port = await start_local_server(web_app(build_app(settings, other_engine, h.portal)))
    try:
        other = SlackSender(f"http://127.0.0.1:{port}/slack/events", SECRET)
        status, _ = await other.event(event, event_id="Ev0RESTART", retry_num=1)
        assert status == 200
        await h.fake.assert_no_new_calls("chat.postMessage", duration=0.5)
        assert len(h.fake.calls_to("chat.postMessage")) == 1
    finally:
        await runner.cleanup()
        await other_engine.close()


async def test_the_same_interaction_twice_and_a_double_click_create_one_request(slack: Harness) -> None:  # noqa: F811
    h = slack
    ts = payloads.next_ts()
    await h.sender.event(payloads.app_mention("U0BEN", "<@UBOT> our charger ACE0100002 is broken", "C0SHARED", ts))
    [why] = await h.fake.wait_for("chat.postEphemeral")
    block_id, action_id, value = button(why, "Request a management transfer")
    press = payloads.block_actions(
        "U0BEN",
        "T0HOME",
        "C0SHARED",
        payloads.next_ts(),
        action_id,
        value=value,
        block_id=block_id,
        trigger_id=payloads.new_trigger_id(),
        is_ephemeral=True,
    )
    for _ in range(3):  # the very same interaction delivered three times
        assert (await h.sender.interaction(press))[0] == 200
    await h.fake.wait_for("views.open")
    await h.fake.assert_no_new_calls("views.open", duration=0.5)
    [opened] = h.fake.calls_to("views.open")

    view = opened.args["view"]
    state = {
        "serials": {"value": payloads.plain_text_value("ACE0100002")},
        "description": {"value": payloads.plain_text_value("Bought from VoltWay with the installation in 2025")},
        "transfer_confirmed": {"value": payloads.checkboxes_value(["true"])},
    }

    async def submit() -> dict[str, object]:
        status, body = await h.sender.interaction(
            payloads.view_submission(
                "U0BEN",
                "T0HOME",
                FORM_CALLBACK,
                str(view["private_metadata"]),
                state,
                trigger_id=payloads.new_trigger_id(),
            )
        )
        assert status == 200
        return json.loads(body) if body else {}

    # A double click on Send: two submissions of the same modal at once, with different trigger ids. Both are
    # answered with the one request (the second finds the form closed, and the request filed by this modal).
    answers = await asyncio.gather(submit(), submit())
    filed = [a for a in answers if "MT-000001" in json.dumps(a)]
    requests = await services.list_requests(h.portal.uow(), "ben@greenfleet.example")
    print(f"modal submitted twice at once → {len(requests)} request, {len(filed)} answers naming it")
    assert [r.reference for r in requests] == ["MT-000001"]
    assert len(filed) == 2
