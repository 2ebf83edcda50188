"""The events the engine stores are rasa-sdk's (rasa_sdk.events): the format the action server reads and returns."""

from __future__ import annotations

from typing import Any

from rasa_sdk import events

from bot.engine.engine import Engine
from portal.bootstrap import Portal

SENDER = "T0TEST:C0TEST:1700000000.000200:U0TEST"
# Each event type as rasa-sdk builds it; Rasa 3.6 also stores a user message's id and metadata.
RASA_SDK = {
    "action": events.ActionExecuted("action_listen"),
    "action_execution_rejected": events.ActionExecutionRejected("transfer_form"),
    "active_loop": events.ActiveLoop(None),
    "bot": events.BotUttered("hi"),
    "restart": events.Restarted(),
    "session_started": events.SessionStarted(),
    "slot": events.SlotSet("serials"),
    "user": {**events.UserUttered("hi"), "message_id": None, "metadata": {}},
}


async def test_every_stored_event_has_the_fields_rasa_sdk_gives_it(engine: Engine, portal: Portal) -> None:
    metadata = {"requester": {"email": "ben@greenfleet.example", "slack_user_id": "U0TEST", "slack_team_id": "T0TEST"}}
    categories = engine.domain.responses["utter_ask_category"][0]["buttons"]
    transfer = next(b["payload"] for b in categories if b["title"] == "A management transfer")
    for text in (transfer, "wait, what is a service operator actually?"):  # a question the form cannot use
        await engine.handle(SENDER, text, metadata)
    stored: list[dict[str, Any]] = (await engine.tracker(SENDER)).events
    seen = {event["event"] for event in stored}
    assert {"action_execution_rejected", "session_started", "slot", "active_loop", "bot", "user"} <= seen
    for event in stored:
        assert set(event) == set(RASA_SDK[event["event"]]), event["event"]
