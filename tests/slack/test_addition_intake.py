"""Which Slack messages may be a customer adding to a request: read off the body alone (no database, no Slack), so
that the other messages of every channel the assistant is in cost nothing more than their receipt."""

from __future__ import annotations

from typing import Any

import pytest

from bot.slack.ingress.intake import QueuedTurn, TurnKind, turn_of
from tests.support import payloads
from tests.support.signing import SlackSender

ENVELOPE = SlackSender("http://127.0.0.1:9/slack/events", "secret")
THREAD = "1700000000.000100"


def body(event: dict[str, Any]) -> dict[str, Any]:
    return ENVELOPE.envelope(event)


def test_a_reply_in_a_channel_thread_is_a_candidate_addition() -> None:
    event = payloads.message("U0CARLA", "It is the type 2 cable", "C0SHARED", "1700000001.000200", thread_ts=THREAD)
    turn = turn_of(body(event))
    assert turn is not None and turn.kind is TurnKind.ADDITION
    assert (turn.conversation.channel_id, turn.conversation.thread_ts, turn.parent_ts) == ("C0SHARED", THREAD, THREAD)
    assert turn.message_key == "slack:C0SHARED:1700000001.000200"
    assert turn.reference is None  # the inbox looks it up


def test_a_reply_also_sent_to_the_channel_is_a_candidate_too() -> None:
    event = payloads.message("U0CARLA", "Also for everyone", "C0SHARED", "1700000001.000250", thread_ts=THREAD)
    turn = turn_of(body({**event, "subtype": "thread_broadcast"}))
    assert turn is not None and turn.kind is TurnKind.ADDITION


def test_a_dm_thread_reply_runs_in_the_dms_conversation() -> None:
    event = payloads.message_im("U0CARLA", "Here", "DU0CARLA", "1700000001.000300", thread_ts=THREAD)
    turn = turn_of(body(event))
    assert turn is not None and turn.kind is TurnKind.ADDITION
    assert (turn.conversation.thread_ts, turn.conversation.surface, turn.parent_ts) == (None, "im", THREAD)


@pytest.mark.parametrize(
    "event",
    [
        payloads.message("U0CARLA", "Top-level chat", "C0SHARED", "1700000001.000400"),
        payloads.message("U0CARLA", "<@UBOT> status", "C0SHARED", "1700000001.000500", thread_ts=THREAD),
        payloads.bot_message("A note", "C0SHARED", "1700000001.000600", channel_type="channel", thread_ts=THREAD),
        {
            **payloads.message("U0CARLA", "edited", "C0SHARED", "1700000001.000700", thread_ts=THREAD),
            "subtype": "message_changed",
        },
        {
            **payloads.message("U0CARLA", "joined", "C0SHARED", "1700000001.000800", thread_ts=THREAD),
            "subtype": "channel_join",
        },
        payloads.message("U0CARLA", "group dm", "G0MPIM", "1700000001.000900", channel_type="mpim", thread_ts=THREAD),
    ],
    ids=["top-level", "mentions the assistant", "a bot's", "an edit", "a join", "a group DM"],
)
def test_other_messages_are_no_addition(event: dict[str, Any]) -> None:
    turn = turn_of(body(event))
    assert turn is None or turn.kind is not TurnKind.ADDITION


def test_files_are_kept_as_references_only() -> None:
    event = payloads.message("U0CARLA", "", "C0SHARED", "1700000001.001000", thread_ts=THREAD)
    event |= {
        "subtype": "file_share",
        "files": [
            {
                "id": "F0LABEL",
                "name": "label.jpg",
                "url_private": "https://files.slack.com/files-pri/T0HOME-F0LABEL/label.jpg",
                "permalink": "https://chargedesk-support.slack.com/files/U0CARLA/F0LABEL/label.jpg",
            },
            {"name": "no id"},
        ],
    }
    turn = turn_of(body(event))
    assert turn is not None and turn.files == (
        ("F0LABEL", "label.jpg", "https://chargedesk-support.slack.com/files/U0CARLA/F0LABEL/label.jpg"),
    )
    again = QueuedTurn.loads(turn.conversation.dumps(), turn.dumps(), turn.order_key)
    assert again == turn
    assert "files.slack.com" not in turn.dumps()
