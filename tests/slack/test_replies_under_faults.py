"""Replies survive Slack's limits: a whole customer journey while Slack fails the first attempt of every call.

Signed requests go into the app on loopback; the fake Web API answers the first attempt of every call (every
method, response URLs included) with HTTP 429 + Retry-After: 1, or with HTTP 500, and the same request sent again
normally. Every reply must arrive exactly once, and a conversation's replies in the order of its messages.
"""

from __future__ import annotations

import json

import pytest

from tests.slack import payloads
from tests.slack.conftest import Harness
from tests.slack.fake_slack import Call

CHANNEL = "C0SHARED"
REPLIES = ("chat.postMessage", "chat.postEphemeral", "views.publish", "response_url")
WAIT = 30.0  # seconds; each faulted call waits up to a second before its retry


def shown(call: Call) -> str:
    return json.dumps({k: v for k, v in call.args.items() if k in ("text", "blocks", "view")}, sort_keys=True)


def fingerprint(call: Call) -> str:
    return call.method + call.path + json.dumps(call.args, sort_keys=True)


def replies(h: Harness) -> list[Call]:
    return [c for c in h.fake.calls if c.method in REPLIES]


@pytest.mark.parametrize("fault", [429, 500])
async def test_a_whole_journey_with_every_first_attempt_failing_delivers_every_reply_once_in_order(
    slack: Harness, fault: int
) -> None:
    h = slack
    h.fake.fail_first_attempts(status=fault, retry_after=1)

    # carla files a ticket in a DM, typing her four messages in quick succession.
    for text in ("hello", "I need a repair on a charger", "10001R002", "Socket 2 will not lock the cable"):
        status, _ = await h.sender.event(payloads.message_im("U0CARLA", text, "D0CARLA", payloads.next_ts()))
        assert status == 200
    dm = await h.fake.wait_for("chat.postMessage", 4, WAIT, where=lambda c: c.ok and c.args["channel"] == "D0CARLA")
    assert "I have a question" in shown(dm[0])
    assert "Which charger is it?" in shown(dm[1])
    assert "ST-000001" in shown(dm[3])

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
    assert len(delivered) == 8  # 4 DM replies, 2 ephemerals, 1 Home tab, 1 /support answer
    print(
        f"first attempt of every call answered {fault}: {len(delivered)} replies, "
        f"{h.fake.first_attempt_faults} faults (all methods) → {len(delivered)} delivered once, in order"
    )
