"""Trackers in the exact shape Rasa sends, and a runner for actions the way rasa-sdk's executor runs them."""

from __future__ import annotations

from functools import cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.config import DESIGN_ROOT
from bot.engine.design import load_domain


@cache
def domain() -> dict[str, Any]:
    """domain/*.yml merged, as Rasa sends it to the action server."""
    return dict(load_domain(DESIGN_ROOT / "domain").raw)


def metadata(email: str | None) -> dict[str, Any]:
    if email is None:
        return {}
    return {
        "requester": {"email": email, "slack_user_id": "U0TEST", "slack_team_id": "T0TEST"},
        "conversation": {"surface": "test", "channel_id": "C0TEST", "thread_ts": None},
    }


def tracker(
    email: str | None,
    intent: str = "inform",
    text: str = "",
    *,
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    set_this_turn: dict[str, Any] | None = None,
    active_loop: str | None = None,
    user_metadata: dict[str, Any] | None = None,
) -> Tracker:
    """A tracker whose latest user message is `text` / `intent`; `set_this_turn` slots were set after it."""
    latest = {
        "intent": {"name": intent, "confidence": 0.97},
        "entities": entities or [],
        "text": text,
        "message_id": "m1",
        "metadata": user_metadata if user_metadata is not None else metadata(email),
    }
    all_slots = {name: None for name in domain()["slots"]} | {"requested_slot": None}
    all_slots |= slots or {}
    all_slots |= set_this_turn or {}
    events: list[dict[str, Any]] = [
        {"event": "action", "name": "action_listen", "timestamp": 1.0},
        {"event": "user", "text": text, "parse_data": latest, "metadata": latest["metadata"], "timestamp": 2.0},
    ]
    events += [{"event": "slot", "name": k, "value": v, "timestamp": 3.0} for k, v in (set_this_turn or {}).items()]
    return Tracker.from_dict(
        {
            "sender_id": "T0TEST:C0TEST:-:U0TEST",
            "slots": all_slots,
            "latest_message": latest,
            "events": events,
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": active_loop} if active_loop else {},
            "latest_action_name": "action_listen",
        }
    )


async def run(action: Action, the_tracker: Tracker) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run an action; returns (slots it set, messages it uttered)."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, the_tracker, domain())
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    return slots, dispatcher.messages


def responses(messages: list[dict[str, Any]]) -> list[str]:
    return [m.get("response") or "" for m in messages]
