"""The dialogue states the story memory (Rasa's MemoizationPolicy) compares: one per prediction point.

A state is (previous action, intent if the previous action was listening, active loop, featurized slots). The
tracker records one as each action is about to be applied, so the policy reads the latest ones instead of
replaying the conversation from its first event, and a tracker restored from a snapshot carries the last few over.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.engine.design import Domain

ACTION_LISTEN = "action_listen"

State = tuple[str | None, str | None, str | None, tuple[tuple[str, Any], ...]]

# Rasa leaves the session's start out of the states the policies see.
UNFEATURIZED_ACTIONS = frozenset({"action_session_start"})

STATES_KEPT = 16
"""States a snapshot carries over: the story memory looks at most this far back (config.yml's `max_history`,
checked by `Policy`)."""


def featurized_slots(domain: Domain, slots: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    values: list[tuple[str, Any]] = []
    for name, slot in sorted(domain.slots.items()):
        if not slot.influence_conversation or slots.get(name) is None:
            continue
        value = slots[name]
        if slot.type == "categorical":
            values.append((name, str(value).lower()))
        elif slot.type == "bool":
            values.append((name, bool(value)))
        else:
            values.append((name, True))  # text and list slots count only as set
    return tuple(values)


def state_of(
    domain: Domain, previous: str | None, intent: str | None, loop: str | None, slots: Mapping[str, Any]
) -> State:
    return (previous, intent if previous == ACTION_LISTEN else None, loop, featurized_slots(domain, slots))


INITIAL_STATE: State = (None, None, None, ())
"""The state before a conversation's first user message (what a story's first state is compared with)."""


def states_from_json(raw: Sequence[Any]) -> list[State]:
    """States as `states_to_json` wrote them: JSON has lists where states have tuples (and tuples are hashed)."""
    return [
        (previous, intent, loop, tuple((str(name), value) for name, value in slots))
        for previous, intent, loop, slots in raw
    ]


def states_to_json(states: Sequence[State]) -> list[Any]:
    return [[previous, intent, loop, [list(pair) for pair in slots]] for previous, intent, loop, slots in states]
