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
    # A customer's message in the thread of a request (the channel thread it was filed from, or their DM thread
    # under one of our messages about it): added to the request, not a turn of the assistant's conversation.
    ADDITION = "addition"


# A person's message: plain, with files (older clients), or a thread reply also sent to the channel.
ADDITION_SUBTYPES = (None, "file_share", "thread_broadcast")
File = tuple[str, str, str]  # a Slack file as a request keeps it: (id, name, permalink); never its content or URL


@dataclass(frozen=True)
class QueuedTurn:
    kind: TurnKind
    conversation: Conversation  # channel_id is "" when Slack gave none (App Home, global shortcut): the DM then
    text: str
    order_key: str  # Slack's timestamp of the message or click: a conversation's turns run in this order
    trigger_id: str | None = None  # lets the turn open a modal, for about 3 seconds after the click
    # Additions only: the message the customer replied under (the channel thread's, or our DM's), and the request
    # it belongs to once the inbox has looked it up.
    parent_ts: str | None = None
    # The files the message carried: an addition's are kept on the request; a turn's are read for a serial (a photo
    # of the label).
    files: tuple[File, ...] = ()
    reference: str | None = None

    def dumps(self) -> str:
        data: dict[str, Any] = {"kind": self.kind.value, "text": self.text, "trigger_id": self.trigger_id}
        if self.files:
            data["files"] = [list(f) for f in self.files]
        if self.kind is TurnKind.ADDITION:
            data |= {"parent_ts": self.parent_ts, "reference": self.reference}
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def loads(cls, conversation: str, turn: str, order_key: str) -> QueuedTurn:
        data = json.loads(turn)
        trigger = data.get("trigger_id")
        files = tuple((str(f[0]), str(f[1]), str(f[2])) for f in data.get("files") or [])
        return cls(
            TurnKind(data["kind"]),
            Conversation.loads(conversation),
            str(data["text"]),
            order_key,
            trigger or None,
            data.get("parent_ts") or None,
            files,
            data.get("reference") or None,
        )

    @property
    def message_key(self) -> str:
        """An addition's key: the Slack message that carried it, which the request keeps once however often run."""
        return f"slack:{self.conversation.channel_id}:{self.order_key}"


def turn_of(body: dict[str, Any]) -> QueuedTurn | None:
    """The conversation turn this request asks for, or None (it is something else, or nothing at all)."""
    kind = body.get("type")
    if kind == "event_callback":
        event = body.get("event") or {}
        if event.get("type") == "message":
            return _addition(body, event) or _direct_message(body, event)
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
    if event.get("channel_type") != "im" or event.get("bot_id") or "user" not in event:
        return None  # the assistant's own messages are not turns
    if event.get("subtype") not in (None, "file_share"):
        return None  # edits, deletions, joins are not turns; a message with a photo (older clients' file_share) is
    conversation = Conversation(
        team_id=_event_team(body, event),
        user_id=str(event["user"]),
        channel_id=str(event.get("channel") or ""),
        thread_ts=None,
        surface="im",
    )
    text = str(event.get("text", "")).strip()
    return QueuedTurn(TurnKind.MESSAGE, conversation, text, _order_key(event.get("ts")), files=files_of(event))


def _addition(body: dict[str, Any], event: dict[str, Any]) -> QueuedTurn | None:
    """A person's reply in a thread, which may be a customer adding to a request: read off the body alone, so that
    every other message of the channels the assistant is in costs nothing more (whether the thread is a request's
    is the inbox's one indexed look-up).

    Not: top-level messages, edits, deletions, joins and other subtypes (a file shared, or a reply also sent to the
    channel, is a message), anything a bot
    or app posted, and a message that mentions the assistant (Slack sends it as an app_mention too: it is a turn, or
    /support words, and is handled once, as that).
    """
    ts, thread = str(event.get("ts") or ""), str(event.get("thread_ts") or "")
    if not ts or not thread or thread == ts or event.get("subtype") not in ADDITION_SUBTYPES:
        return None
    if event.get("bot_id") or event.get("app_id") or not event.get("user") or not event.get("channel"):
        return None
    channel_type = event.get("channel_type")
    if channel_type not in ("channel", "group", "im"):
        return None
    text = str(event.get("text") or "")
    if any(f"<@{bot}" in text for bot in _assistant_users(body)):
        return None
    surface = "im" if channel_type == "im" else "channel"
    conversation = Conversation(
        team_id=_event_team(body, event),
        user_id=str(event["user"]),
        channel_id=str(event["channel"]),
        # A DM addition runs in the DM's conversation (its turns and additions in one order); in a channel it runs
        # in the conversation the person has in that thread.
        thread_ts=None if surface == "im" else thread,
        surface=surface,
    )
    return QueuedTurn(TurnKind.ADDITION, conversation, text.strip(), ts, parent_ts=thread, files=files_of(event))


def files_of(event: dict[str, Any]) -> tuple[File, ...]:
    """The files of a message as a request keeps them: id, name and permalink (never url_private: nothing is
    downloaded, nothing re-uploaded; agents open the permalink with their own Slack access)."""
    files = event.get("files")
    kept: list[File] = []
    for file in files if isinstance(files, list) else []:
        if isinstance(file, dict) and file.get("id"):
            name = str(file.get("name") or file.get("title") or "")
            kept.append((str(file["id"]), name, str(file.get("permalink") or "")))
    return tuple(kept)


def _assistant_users(body: dict[str, Any]) -> list[str]:
    """The assistant's own Slack user ids (the installations' bot users the event was delivered for)."""
    authorizations = body.get("authorizations")
    if not isinstance(authorizations, list):
        return []
    return [str(a["user_id"]) for a in authorizations if isinstance(a, dict) and a.get("user_id")]


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
    return QueuedTurn(TurnKind.MENTION, conversation, text, _order_key(event.get("ts")), files=files_of(event))


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
