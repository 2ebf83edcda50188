"""A tracker's state at a position of its conversation, so that a turn starts from it rather than from event 0.

What the events before that position add up to and what is read later: the slots, the active loop, the latest
message and action, the frames of the turn in progress, the story memory's last states, and the timestamp of the
conversation's first event (part of a form instance's name, see `bot.engine.engine.form_instance`). It is stored as
JSON with the conversation (`conversations.snapshot`, migration 0019); the events themselves all stay stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.engine.states import State, states_from_json, states_to_json

FrameState = tuple[str | None, str | None, dict[str, Any]]  # a `Frame`'s (action, active loop, slots)


@dataclass(frozen=True)
class Snapshot:
    first_timestamp: float | None
    slots: dict[str, Any]
    active_loop: dict[str, Any]
    latest_message: dict[str, Any]
    latest_action_name: str | None
    followup_action: str | None
    turn: tuple[FrameState, ...]
    previous_action: str | None  # the latest action the story memory counts (not action_session_start)
    states: tuple[State, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "first_timestamp": self.first_timestamp,
            "slots": self.slots,
            "active_loop": self.active_loop,
            "latest_message": self.latest_message,
            "latest_action_name": self.latest_action_name,
            "followup_action": self.followup_action,
            "turn": [list(frame) for frame in self.turn],
            "previous_action": self.previous_action,
            "states": states_to_json(self.states),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Snapshot:
        return cls(
            first_timestamp=raw["first_timestamp"],
            slots=dict(raw["slots"]),
            active_loop=dict(raw["active_loop"]),
            latest_message=dict(raw["latest_message"]),
            latest_action_name=raw["latest_action_name"],
            followup_action=raw["followup_action"],
            turn=tuple((action, loop, dict(slots)) for action, loop, slots in raw["turn"]),
            previous_action=raw["previous_action"],
            states=tuple(states_from_json(raw["states"])),
        )
