"""The Slack harness's cast and helpers: the fake workspace's users, the app on loopback, and reading what it sent."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.engine.engine import Engine
from portal.bootstrap import Portal
from tests.support.fake_slack import Call, FakeSlack
from tests.support.signing import SlackSender

SECRET = "test-signing-secret"
USERS = {
    "U0CARLA": {"team_id": "T0HOME", "email": "carla@citycharge.example", "name": "carla"},
    "U0BEN": {"team_id": "T0HOME", "email": "ben@greenfleet.example", "name": "ben"},
    "U0DAVE": {"team_id": "T0HOME", "email": "dave@newcustomer.example", "name": "dave"},
    # A Slack Connect user: VoltWay's own workspace, in a channel shared with ours.
    "U0ANNA": {"team_id": "T0VOLT", "email": "anna@voltway.example", "name": "anna"},
    "U0NOMAIL": {"team_id": "T0HOME", "name": "hidden"},
    "U0GHOST": {"team_id": "T0HOME", "email": "ghost@nowhere.example", "name": "ghost"},  # no portal account
    "U0AGENT": {"team_id": "T0HOME", "email": "sam@manufacturer.example", "name": "sam"},
}
TRIAGE = "C0TRIAGE"
AGENT = "U0AGENT"


@dataclass
class Harness:
    fake: FakeSlack
    sender: SlackSender
    engine: Engine
    portal: Portal
    port: int


def button(call: Call, title: str) -> tuple[str, str, str]:
    """(block_id, action_id, value) of the button titled `title` in a recorded message."""
    for block in call.args.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("type") == "button" and element["text"]["text"] == title:
                return block["block_id"], element["action_id"], element["value"]
    raise AssertionError(f"no button {title!r} in {json.dumps(call.args.get('blocks'))}")


def text_of(call: Call) -> str:
    return " ".join(block["text"]["text"] for block in call.args.get("blocks") or [] if block.get("type") == "section")


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """block_id → element of every input block of a view."""
    return {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
