"""Replies survive Slack's limits: a whole customer journey while Slack fails the first attempt of every call.

Signed requests go into the app on loopback; the fake Web API answers the first attempt of every call (every
method, response URLs included) with HTTP 429 + Retry-After: 1, or with HTTP 500, and the same request sent again
normally. Every reply must arrive exactly once, and a conversation's replies in the order of its messages.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select

from bot.slack.egress.delivery import SlackSender
from bot.slack.tables import slack_deliveries
from tests.conftest import FrozenClock
from tests.support import payloads
from tests.support.fake_slack import Call
from tests.support.harness import Harness

CHANNEL = "C0SHARED"
REPLIES = ("chat.postMessage", "chat.postEphemeral", "views.publish", "response_url")
WAIT = 30.0  # seconds; each faulted call waits up to a second before its retry


def shown(call: Call) -> str:
    return json.dumps({k: v for k, v in call.args.items() if k in ("text", "blocks", "view")}, sort_keys=True)


def fingerprint(call: Call) -> str:
    return call.method + call.path + json.dumps(call.args, sort_keys=True)


async def queued(h: Harness, lane: str) -> int:
    async with h.portal.engine.connect() as conn:
        return int(
            await conn.scalar(
                select(func.count()).select_from(slack_deliveries).where(slack_deliveries.c.channel == lane)
            )
            or 0
        )


async def wait_until(condition: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def until_queued(h: Harness, lane: str, count: int) -> bool:
    return await queued(h, lane) == count


def replies(h: Harness) -> list[Call]:
    return [c for c in h.fake.calls if c.method in REPLIES]


@pytest.mark.parametrize("fault", [429, 500])
async def test_a_whole_journey_with_every_first_attempt_failing_delivers_every_reply_once_in_order(
    slack: Harness, fault: int
) -> None:
    h = slack
    h.fake.fail_first_attempts(status=fault, retry_after=1)

    # carla files a ticket in a DM, typing her five messages in quick succession (the last one submits the summary).
    texts = ("hello", "I need a repair on a charger", "10001R002", "Socket 2 will not lock the cable", "submit")
    for text in texts:
        status, _ = await h.sender.event(payloads.message_im("U0CARLA", text, "D0CARLA", payloads.next_ts()))
        assert status == 200
    dm = await h.fake.wait_for("chat.postMessage", 5, WAIT, where=lambda c: c.ok and c.args["channel"] == "D0CARLA")
    assert "I have a question" in shown(dm[0])
    assert "Which charger is it?" in shown(dm[1])
    assert "Socket 2 will not lock the cable" in shown(dm[3])  # the summary (issue 13)
    assert "ST-000001" in shown(dm[4])

    # ben and carla in a shared channel: answered privately, in the thread.
    await h.sender.event(
        payloads.app_mention("U0BEN", "<@UBOT> our charger ACE0100002 is broken", CHANNEL, payloads.next_ts())
    )
    [why] = await h.fake.wait_for("chat.postEphemeral", 1, WAIT, where=lambda c: c.ok)
    assert "another organization" in shown(why)
    await h.sender.event(payloads.app_mention("U0CARLA", "<@UBOT> charger 10001R002", CHANNEL, payloads.next_ts()))
    [*_, charger] = await h.fake.wait_for("chat.postEphemeral", 2, WAIT, where=lambda c: c.ok)
    assert "10001R002" in shown(charger)

    # carla's App Home, and /support status.
    await h.sender.event(payloads.app_home_opened("U0CARLA"))
    [home] = await h.fake.wait_for("views.publish", 1, WAIT, where=lambda c: c.ok)
    assert "ST-000001" in shown(home)
    status, body = await h.sender.command(
        payloads.slash_command(
            "U0CARLA", "T0HOME", CHANNEL, "/support", "status", response_url=h.fake.response_url("status")
        )
    )
    assert (status, body) == (200, "")
    [answer] = await h.fake.wait_for("response_url", 1, WAIT, where=lambda c: c.ok)
    assert "ST-000001" in shown(answer)

    everything = replies(h)
    delivered = [c for c in everything if c.ok]
    refused = [c for c in everything if not c.ok]
    assert {c.http_status for c in refused} == {fault}
    # Every reply was refused once (its first attempt) and then delivered once: same count, same order.
    assert [fingerprint(c) for c in refused] == [fingerprint(c) for c in delivered]
    assert len({fingerprint(c) for c in delivered}) == len(delivered)
    assert len(delivered) == 9  # 5 DM replies, 2 ephemerals, 1 Home tab, 1 /support answer
    print(
        f"[{h.portal.engine.dialect.name}] first attempt of every call answered {fault}: {len(delivered)} replies, "
        f"{h.fake.first_attempt_faults} faults (all methods) → {len(delivered)} delivered once, in order"
    )


async def test_a_reply_refused_longer_than_a_turn_may_wait_is_queued_and_keeps_its_place(
    slack: Harness, clock: FrozenClock
) -> None:
    """Retry-After 30 s is beyond the 10 s a reply may wait in the call: it waits in the durable queue instead,
    and the conversation's next reply queues behind it rather than overtaking it."""
    h = slack
    h.fake.fail_next("chat.postMessage", status=429, retry_after=30)
    dm = "D0CARLA"
    for number, text in enumerate(("hello", "I need a repair on a charger"), 1):
        await h.sender.event(payloads.message_im("U0CARLA", text, dm, payloads.next_ts()))
        await wait_until(lambda count=number: until_queued(h, dm, count))  # type: ignore[misc]
    assert [c.http_status for c in h.fake.calls_to("chat.postMessage")] == [429]  # nothing overtook the first

    sender = SlackSender(
        h.portal.engine, AsyncWebClient(token="xoxb-test", base_url=h.fake.base_url), clock=clock, interval=0.0
    )
    await sender.drain(timeout=1.0)
    assert [c.http_status for c in h.fake.calls_to("chat.postMessage")] == [429]  # Slack said 30 s: it waits

    clock.advance(timedelta(seconds=31))
    await sender.drain(timeout=5.0)
    posts = h.fake.calls_to("chat.postMessage")
    assert [c.http_status for c in posts] == [429, 200, 200]
    assert fingerprint(posts[0]) == fingerprint(posts[1])  # the refused greeting, then the same greeting, once
    assert "I have a question" in shown(posts[1])
    assert "Which charger is it?" in shown(posts[2])
    assert await sender.pending() == 0
