"""Slash commands are parsed by their fields: the word "payload" in their text, channel or user name changes nothing.

slack-bolt 1.30 took any form body containing "payload" for an interactivity payload and answered such a command
404 (see `bot/slack/ingress/verified.py`).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support import payloads
from tests.support.harness import Harness

COMMANDS = {
    "text": {"text": "status payload"},
    "channel name": {"text": "help", "channel_name": "payload-team"},
    "user name": {"text": "help", "username": "payload.tester"},
    "everything": {"text": "payload=1&payload={}", "channel_name": "payload", "username": "payload"},
}


async def answer(h: Harness, status: int, body: str, name: str) -> dict[str, Any]:
    """The command's ephemeral answer: in the HTTP response, or posted to its response_url."""
    assert status == 200, body
    if body.strip():
        return dict(json.loads(body))
    [posted] = await h.fake.wait_for("response_url", where=lambda c: c.path.endswith(f"/{name}"))
    return dict(posted.args)


@pytest.mark.parametrize("fields", list(COMMANDS.values()), ids=list(COMMANDS))
async def test_a_command_mentioning_payload_is_answered_normally(slack: Harness, fields: dict[str, str]) -> None:
    h = slack
    name = f"r{abs(hash(json.dumps(fields))) % 10**6}"
    command = payloads.slash_command("U0CARLA", "T0HOME", "C0SHARED", response_url=h.fake.response_url(name), **fields)
    status, body = await h.sender.command(command)
    answered = await answer(h, status, body, name)
    assert answered.get("response_type", "ephemeral") == "ephemeral"
    assert answered.get("text") or answered.get("blocks")


async def test_an_interaction_is_still_read_from_its_payload_field(slack: Harness) -> None:
    h = slack
    status, _ = await h.sender.interaction(
        payloads.block_actions(
            "U0CARLA", "T0HOME", "C0SHARED", payloads.next_ts(), "chargedesk_press_0", value="/request_admin_change"
        )
    )
    assert status == 200
    await h.fake.wait_for("views.open")  # the request form opens
