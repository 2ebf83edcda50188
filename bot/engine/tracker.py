"""A conversation's tracker: Rasa-format events, and the state they add up to.

The events are exactly what Rasa would store (so they can be sent to a rasa-sdk action server); the derived
state (slots, active loop, latest message) is rebuilt by applying them in order.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rasa_sdk.events import ActionExecuted, ActiveLoop, SlotSet

from bot.engine.design import REQUESTED_SLOT, Domain

ACTION_LISTEN = "action_listen"
RASA_VERSION = "3.6.21"  # the event and tracker format we follow


class UnsupportedEvent(ValueError):
    """An action returned an event the engine does not implement."""


# Events are built by rasa-sdk's own constructors (rasa_sdk.events), the format the actions return too.


def action_event(name: str, at: float) -> dict[str, Any]:
    event: dict[str, Any] = ActionExecuted(name, confidence=1.0, timestamp=at)  # the engine's policies are rules
    return event


def slot_event(name: str, value: Any, at: float) -> dict[str, Any]:
    event: dict[str, Any] = SlotSet(name, value, timestamp=at)
    return event


def loop_event(name: str | None, at: float) -> dict[str, Any]:
    event: dict[str, Any] = ActiveLoop(name, timestamp=at)
    return event


@dataclass
class Frame:
    """The state after one step of the current turn (the user message, then each action)."""

    action: str | None  # None for the user message itself
    active_loop: str | None
    slots: dict[str, Any]


class Tracker:
    """Events of one conversation and the state they produce."""

    def __init__(self, sender_id: str, domain: Domain, events: Iterable[Mapping[str, Any]] = ()) -> None:
        self.sender_id = sender_id
        self.domain = domain
        self.events: list[dict[str, Any]] = []
        self._reset_state()
        for event in events:
            self.apply(dict(event))

    def _reset_state(self, keep_slots: bool = False) -> None:
        if not keep_slots:
            self.slots: dict[str, Any] = {name: slot.initial_value for name, slot in self.domain.slots.items()}
        self.active_loop: dict[str, Any] = {}
        self.latest_message: dict[str, Any] = {}
        self.latest_action_name: str | None = None
        self.followup_action: str | None = None
        self.turn: list[Frame] = []

    # --- applying events --------------------------------------------------------------------------------

    def apply(self, event: dict[str, Any]) -> None:
        """Append an event and update the state, as Rasa's DialogueStateTracker does."""
        kind = event.get("event")
        self.events.append(event)
        if kind == "user":
            parse = event.get("parse_data") or {}
            self.latest_message = {
                **parse,
                "text": event.get("text"),
                "message_id": event.get("message_id"),
                "metadata": event.get("metadata") or {},
            }
            self.turn = [Frame(None, self.loop_name, dict(self.slots))]
        elif kind == "action":
            name = event["name"]
            self.latest_action_name = name
            self.followup_action = None
            if self.active_loop:
                # As in Rasa: any action ends an interruption; the loop running again ends its rejection.
                self.active_loop["is_interrupted"] = False
                if name == self.loop_name:
                    self.active_loop["rejected"] = False
            if name != ACTION_LISTEN:
                self.turn.append(Frame(name, self.loop_name, dict(self.slots)))
        elif kind == "slot":
            self._set_slot(event["name"], event.get("value"))
        elif kind == "active_loop":
            name = event.get("name")
            self.active_loop = (
                {"name": name, "is_interrupted": False, "rejected": False, "trigger_message": self.latest_message}
                if name
                else {}
            )
        elif kind == "action_execution_rejected":
            if self.active_loop and event.get("name") == self.loop_name:
                self.active_loop["rejected"] = True
        elif kind == "followup":
            self.followup_action = event.get("name")
        elif kind == "reset_slots":
            self.slots = {name: slot.initial_value for name, slot in self.domain.slots.items()}
        elif kind == "restart":
            self._reset_state()
        elif kind == "session_started":
            self._reset_state(keep_slots=self.domain.carry_over_slots)
        elif kind in ("bot", "loop_interrupted"):
            if kind == "loop_interrupted" and self.active_loop:
                self.active_loop["is_interrupted"] = bool(event.get("is_interrupted"))
        else:
            self.events.pop()
            raise UnsupportedEvent(f"event type {kind!r} is not supported by the embedded engine")
        if kind in ("slot", "active_loop", "reset_slots") and self.turn:
            # Keep the current frame's view in step with the state, for rule and story matching.
            self.turn[-1].slots = dict(self.slots)
            self.turn[-1].active_loop = self.loop_name

    def _set_slot(self, name: str, value: Any) -> None:
        slot = self.domain.slots.get(name)
        if slot is not None and slot.type == "list" and value is not None and not isinstance(value, list):
            value = [value]  # Rasa's ListSlot wraps single values
        self.slots[name] = value

    # --- reading the state -----------------------------------------------------------------------------

    @property
    def loop_name(self) -> str | None:
        name = self.active_loop.get("name")
        return name if isinstance(name, str) else None

    @property
    def loop_rejected(self) -> bool:
        return bool(self.active_loop.get("rejected"))

    @property
    def loop_interrupted(self) -> bool:
        return bool(self.active_loop.get("is_interrupted"))

    @property
    def latest_intent(self) -> str | None:
        intent = self.latest_message.get("intent") or {}
        name = intent.get("name") if isinstance(intent, dict) else None
        return name if isinstance(name, str) else None

    def latest_entities(self, entity: str) -> list[Any]:
        return [e.get("value") for e in self.latest_message.get("entities") or [] if e.get("entity") == entity]

    @property
    def requested_slot(self) -> str | None:
        value = self.slots.get(REQUESTED_SLOT)
        return value if isinstance(value, str) else None

    def events_since_user(self) -> list[dict[str, Any]]:
        """The events after the latest user message (the current turn so far)."""
        for index in range(len(self.events) - 1, -1, -1):
            if self.events[index].get("event") == "user":
                return self.events[index + 1 :]
        return []

    def current_state(self) -> dict[str, Any]:
        """The tracker as Rasa sends it to an action server (`EventVerbosity.ALL`).

        Events are shared, not copied: they are never changed once appended, and actions only read them.
        """
        latest_action = {"action_name": self.latest_action_name} if self.latest_action_name else {}
        return {
            "sender_id": self.sender_id,
            "slots": copy.deepcopy(self.slots),
            "latest_message": self.latest_message,
            "latest_event_time": self.events[-1].get("timestamp") if self.events else None,
            "followup_action": self.followup_action,
            "paused": False,
            "events": list(self.events),
            "latest_input_channel": None,
            "active_loop": dict(self.active_loop),
            "latest_action": latest_action,
            "latest_action_name": self.latest_action_name,
        }

    def copy(self) -> Tracker:
        """An independent tracker in the same state, without replaying the events (they are immutable)."""
        twin = Tracker.__new__(Tracker)
        twin.sender_id, twin.domain = self.sender_id, self.domain
        twin.events = list(self.events)
        twin.slots = copy.deepcopy(self.slots)
        twin.active_loop = dict(self.active_loop)
        twin.latest_message = self.latest_message
        twin.latest_action_name = self.latest_action_name
        twin.followup_action = self.followup_action
        twin.turn = [Frame(f.action, f.active_loop, dict(f.slots)) for f in self.turn]
        return twin
