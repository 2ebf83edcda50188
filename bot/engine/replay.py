"""Stories as events, and checking that the engine's policy takes the actions a story takes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.engine.design import ActionStep, Domain, LoopStep, SlotStep, Step, Story, UserStep
from bot.engine.tracker import ACTION_LISTEN, Tracker, action_event, loop_event, slot_event

if TYPE_CHECKING:
    from bot.engine.policy import Policy


def story_events(steps: Sequence[Step]) -> list[dict[str, Any]]:
    """The events a conversation following these steps would have (bot messages left out)."""
    events: list[dict[str, Any]] = []
    for step in steps:
        if isinstance(step, UserStep):
            events.append(action_event(ACTION_LISTEN, 0.0))
            entities = [{"entity": name, "value": value} for name, value in step.entity_values.items()]
            entities += [{"entity": name, "value": name} for name in step.entities if name not in step.entity_values]
            parse = {"intent": {"name": step.intents[0], "confidence": 1.0}, "entities": entities, "text": ""}
            events.append({"event": "user", "text": "", "parse_data": parse, "metadata": {}, "timestamp": 0.0})
        elif isinstance(step, ActionStep):
            events.append(action_event(step.name, 0.0))
        elif isinstance(step, SlotStep):
            events.extend(slot_event(name, value, 0.0) for name, value in step.slots.items())
        elif isinstance(step, LoopStep):
            events.append(loop_event(step.name, 0.0))
    return events


@dataclass(frozen=True)
class Mismatch:
    story: str
    position: int
    expected: str
    predicted: str
    source: str


def check_story(policy: Policy, domain: Domain, story: Story) -> list[Mismatch]:
    """Ask the policy for every action of the story (and the listen that ends each turn), as `rasa test` does.

    As there, when a loop is predicted but the story takes another action, the loop's rejection is emulated
    and the policy asked again.
    """
    tracker = Tracker(f"story:{story.name}", domain)
    mismatches: list[Mismatch] = []
    for position, event in enumerate(story_events(story.steps)):
        is_action = event.get("event") == "action"
        if is_action and (tracker.events or event["name"] != ACTION_LISTEN):
            expected = event["name"]
            prediction = policy.predict(tracker)
            if prediction.action != expected and prediction.action == tracker.loop_name:
                emulated = tracker.copy()
                emulated.apply({"event": "action_execution_rejected", "name": tracker.loop_name})
                prediction = policy.predict(emulated)
            if prediction.action != expected:
                mismatches.append(Mismatch(story.name, position, expected, prediction.action, prediction.source))
        tracker.apply(event)
    final = policy.predict(tracker)
    if final.action != ACTION_LISTEN:
        mismatches.append(Mismatch(story.name, len(tracker.events), ACTION_LISTEN, final.action, final.source))
    return mismatches
