"""A conversation's tracker: Rasa-format events, and the state they add up to.

The events are exactly what Rasa would store (so they can be sent to a rasa-sdk action server); the derived
state (slots, active loop, latest message) is rebuilt by applying them in order. A tracker may hold only the
conversation's latest events: then it starts from a `Snapshot` of the state the earlier ones added up to, and
`offset` says how many there were (a turn's cost must not grow with the conversation's length, see
`bot.engine.window`).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rasa_sdk.events import ActionExecuted, ActiveLoop, SlotSet

from bot.engine.design import REQUESTED_SLOT, Domain
from bot.engine.snapshot import Snapshot
from bot.engine.states import ACTION_LISTEN as ACTION_LISTEN
from bot.engine.states import INITIAL_STATE, STATES_KEPT, UNFEATURIZED_ACTIONS, State, state_of

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
    """Events of one conversation and the state they produce.

    `events` are the conversation's events from position `offset` on; `base` is the state the first `offset` ones
    added up to (None when the tracker holds them all).
    """

    def __init__(
        self,
        sender_id: str,
        domain: Domain,
        events: Iterable[Mapping[str, Any]] = (),
        *,
        offset: int = 0,
        base: Snapshot | None = None,
    ) -> None:
        if offset and base is None:
            raise ValueError("a tracker without the first events needs the snapshot of their state")
        self.sender_id = sender_id
        self.domain = domain
        self.events: list[dict[str, Any]] = []
        self.offset = offset
        self.base = base
        # The story memory's states so far (the latest `STATES_KEPT` at least), and the action they continue from.
        self.states: list[State] = []
        self.previous_action: str | None = None
        self._reset_state()
        if base is not None:
            self._restore(base)
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

    def _restore(self, base: Snapshot) -> None:
        # Copies: the tracker changes its state in place, and the snapshot may be used again (`snapshot_at`). A
        # slot the design added since the snapshot was taken starts at its initial value, as in a replay.
        self.slots.update(copy.deepcopy(base.slots))
        self.active_loop = copy.deepcopy(base.active_loop)
        self.latest_message = copy.deepcopy(base.latest_message)
        self.latest_action_name = base.latest_action_name
        self.followup_action = base.followup_action
        self.turn = [Frame(action, loop, copy.deepcopy(slots)) for action, loop, slots in base.turn]
        self.previous_action = base.previous_action
        self.states = list(base.states)

    # --- applying events --------------------------------------------------------------------------------

    def apply(self, event: dict[str, Any]) -> None:
        """Append an event and update the state, as Rasa's DialogueStateTracker does."""
        kind = event.get("event")
        self.events.append(event)
        counted = kind == "action" and event.get("name") not in UNFEATURIZED_ACTIONS
        if counted and self.states:
            # The state this action was chosen in: before the action changes anything.
            self._record_state(self.memory_state())
        if kind == "user":
            parse = event.get("parse_data") or {}
            self.latest_message = {
                **parse,
                "text": event.get("text"),
                "message_id": event.get("message_id"),
                "metadata": event.get("metadata") or {},
            }
            self.turn = [Frame(None, self.loop_name, dict(self.slots))]
            if not self.states:
                self.states.append(INITIAL_STATE)  # stories start from the state before any message
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
            if counted:
                self.previous_action = name
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

    def _record_state(self, state: State) -> None:
        self.states.append(state)
        if len(self.states) > 2 * STATES_KEPT:  # trimmed now and then rather than at every action
            del self.states[:-STATES_KEPT]

    def _set_slot(self, name: str, value: Any) -> None:
        slot = self.domain.slots.get(name)
        if slot is not None and slot.type == "list" and value is not None and not isinstance(value, list):
            value = [value]  # Rasa's ListSlot wraps single values
        self.slots[name] = value

    # --- reading the state -----------------------------------------------------------------------------

    @property
    def event_count(self) -> int:
        """The number of events of the stored conversation this tracker stands for (the position after the last)."""
        return self.offset + len(self.events)

    @property
    def first_timestamp(self) -> float | None:
        """The timestamp of the conversation's first event, whether or not this tracker holds it."""
        if self.base is not None:
            return self.base.first_timestamp
        first = self.events[0].get("timestamp") if self.events else None
        return first if isinstance(first, int | float) else None

    def memory_state(self) -> State:
        """The story memory's view of the current state."""
        return state_of(self.domain, self.previous_action, self.latest_intent, self.loop_name, self.slots)

    def memory_states(self) -> list[State]:
        """One state per prediction point of the conversation so far, the current one last (the latest
        `STATES_KEPT` at least)."""
        return [*self.states, self.memory_state()]

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

    def snapshot(self) -> Snapshot:
        """The current state, to start a tracker of the conversation's next events from."""
        return Snapshot(
            first_timestamp=self.first_timestamp,
            slots=copy.deepcopy(self.slots),
            active_loop=copy.deepcopy(self.active_loop),
            latest_message=copy.deepcopy(self.latest_message),
            latest_action_name=self.latest_action_name,
            followup_action=self.followup_action,
            turn=tuple((f.action, f.active_loop, copy.deepcopy(f.slots)) for f in self.turn),
            previous_action=self.previous_action,
            states=tuple(self.states[-STATES_KEPT:]),
        )

    def snapshot_at(self, position: int) -> Snapshot:
        """The state after the conversation's first `position` events (which this tracker must hold the last of)."""
        if not self.offset <= position <= self.event_count:
            raise ValueError(f"position {position} is outside {self.offset}..{self.event_count}")
        replay = Tracker(
            self.sender_id, self.domain, self.events[: position - self.offset], offset=self.offset, base=self.base
        )
        snapshot = replay.snapshot()
        if snapshot.first_timestamp != self.first_timestamp:  # a replay of no event has not seen the first one
            snapshot = dataclasses.replace(snapshot, first_timestamp=self.first_timestamp)
        return snapshot

    def copy(self) -> Tracker:
        """An independent tracker in the same state, without replaying the events (they are immutable)."""
        twin = Tracker.__new__(Tracker)
        twin.sender_id, twin.domain = self.sender_id, self.domain
        twin.events = list(self.events)
        twin.offset, twin.base = self.offset, self.base
        twin.states, twin.previous_action = list(self.states), self.previous_action
        twin.slots = copy.deepcopy(self.slots)
        twin.active_loop = dict(self.active_loop)
        twin.latest_message = self.latest_message
        twin.latest_action_name = self.latest_action_name
        twin.followup_action = self.followup_action
        twin.turn = [Frame(f.action, f.active_loop, dict(f.slots)) for f in self.turn]
        return twin
