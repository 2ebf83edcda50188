"""Which Slack requests are conversation turns, and what each turn needs: read off the request body alone.

The same reading serves the ack path (a turn is queued before Slack is answered) and the listeners (which run the
turn directly when it could not be queued). Nothing here touches the network or the database.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.slack.ingress.context import Conversation, acting_team
from bot.slack.messages.blocks import CHOOSE, PRESS, thread_of_block

MENTION = re.compile(r"<@[A-Z0-9]+>")
CONVERSATION_BUTTON = re.compile(f"^({PRESS}_[0-9]+|{CHOOSE})$")
GLOBAL_SHORTCUT = "chargedesk_raise"
START = "/have_question"  # what the global shortcut says to the assistant


class TurnKind(StrEnum):
    MESSAGE = "message"  # a direct message
    MENTION = "mention"  # a mention in a channel: a /support query or a turn
    PRESS = "press"  # a button or select in the assistant's messages (may open a form as a modal)
    SHORTCUT = "shortcut"  # the global shortcut: start in the user's DM


@dataclass(frozen=True)
class QueuedTurn:
    kind: TurnKind
    conversation: Conversation  # channel_id is "" when Slack gave none (App Home, global shortcut): the DM then
    text: str
    order_key: str  # Slack's timestamp of the message or click: a conversation's turns run in this order
    trigger_id: str | None = None  # lets the turn open a modal, for about 3 seconds after the click

    def dumps(self) -> str:
        return json.dumps(
            {"kind": self.kind.value, "text": self.text, "trigger_id": self.trigger_id}, separators=(",", ":")
        )

    @classmethod
    def loads(cls, conversation: str, turn: str, order_key: str) -> QueuedTurn:
        data = json.loads(turn)
        trigger = data.get("trigger_id")
        return cls(
            TurnKind(data["kind"]), Conversation.loads(conversation), str(data["text"]), order_key, trigger or None
        )


def turn_of(body: dict[str, Any]) -> QueuedTurn | None:
    """The conversation turn this request asks for, or None (it is something else, or nothing at all)."""
    kind = body.get("type")
    if kind == "event_callback":
        event = body.get("event") or {}
        if event.get("type") == "message":
            return _direct_message(body, event)
        if event.get("type") == "app_mention":
            return _mention(body, event)
        return None
    if kind == "block_actions":
        actions = body.get("actions") or []
        if actions and CONVERSATION_BUTTON.match(str(actions[0].get("action_id") or "")):
            return _press(body, actions[0])
        return None
    if kind == "shortcut" and body.get("callback_id") == GLOBAL_SHORTCUT:
        user = body.get("user") or {}
        conversation = Conversation(
            acting_team(user, (body.get("team") or {}).get("id")), str(user.get("id") or ""), "", None, "im"
        )
        return QueuedTurn(TurnKind.SHORTCUT, conversation, START, _order_key(body.get("action_ts")))
    return None


def _direct_message(body: dict[str, Any], event: dict[str, Any]) -> QueuedTurn | None:
    if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id") or "user" not in event:
        return None  # edits, joins, and the assistant's own messages are not turns
    conversation = Conversation(
        team_id=_event_team(body, event),
        user_id=str(event["user"]),
        channel_id=str(event.get("channel") or ""),
        thread_ts=None,
        surface="im",
    )
    return QueuedTurn(TurnKind.MESSAGE, conversation, str(event.get("text", "")).strip(), _order_key(event.get("ts")))


def _mention(body: dict[str, Any], event: dict[str, Any]) -> QueuedTurn | None:
    if "user" not in event or not event.get("channel"):
        return None
    # The conversation lives in the thread of the first message; a mention inside a thread continues it.
    conversation = Conversation(
        team_id=_event_team(body, event),
        user_id=str(event["user"]),
        channel_id=str(event["channel"]),
        thread_ts=str(event.get("thread_ts") or event.get("ts") or ""),
        surface="channel",
    )
    text = MENTION.sub("", str(event.get("text", ""))).strip()
    return QueuedTurn(TurnKind.MENTION, conversation, text, _order_key(event.get("ts")))


def _press(body: dict[str, Any], action: dict[str, Any]) -> QueuedTurn:
    # The value is whatever the client sent: it is only ever a message to the assistant, and every decision it
    # leads to is checked again by the portal.
    value = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
    trigger = body.get("trigger_id")
    return QueuedTurn(
        TurnKind.PRESS,
        conversation_of_press(body, action),
        str(value),
        _order_key(action.get("action_ts")),
        str(trigger) if trigger else None,
    )


def conversation_of_press(body: dict[str, Any], action: dict[str, Any]) -> Conversation:
    """The conversation a click in one of the assistant's messages belongs to."""
    container = body.get("container") or {}
    channel = str((body.get("channel") or {}).get("id") or container.get("channel_id") or "")
    private = channel.startswith("D")
    # A click in a thread belongs to that thread; on the entry message it starts a thread under it.
    thread = (
        None
        if private
        else (thread_of_block(action.get("block_id")) or container.get("thread_ts") or container.get("message_ts"))
    )
    return Conversation(
        team_id=acting_team(body.get("user"), (body.get("team") or {}).get("id")),
        user_id=str((body.get("user") or {}).get("id") or ""),
        channel_id=channel,
        thread_ts=str(thread) if thread else None,
        surface="im" if private or not channel else "channel",
    )


def _event_team(body: dict[str, Any], event: dict[str, Any]) -> str:
    return str(event.get("user_team") or event.get("team") or body.get("team_id") or "")


def _order_key(ts: Any) -> str:
    """Slack's timestamp ("1700000000.000100"); a request without one is ordered by when it arrived."""
    return str(ts) if ts else f"{time.time():.6f}"
