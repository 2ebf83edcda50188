"""Choosing the next action: Rasa's RulePolicy and MemoizationPolicy semantics for the supported subset.

Order, as in Rasa: an active loop runs first unless it just rejected the message; then the most specific rule
that matches the current turn; a general rule that would listen while a loop is active hands back to the loop;
then stories (memoization); otherwise a fallback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.engine.design import (
    NOT_GIVEN,
    ActionStep,
    ConversationDesign,
    Domain,
    LoopStep,
    Rule,
    SlotStep,
    Step,
    Story,
    UserStep,
)
from bot.engine.states import STATES_KEPT, State
from bot.engine.tracker import ACTION_LISTEN, Frame, Tracker

FALLBACK_ACTION = "action_default_fallback"


@dataclass(frozen=True)
class Prediction:
    action: str
    source: str  # "loop", "rule: <name>", "story: <name>", "fallback"


def slot_matches(domain: Domain, name: str, expected: Any, actual: Any) -> bool:
    """Compare as Rasa's featurization does: text and list slots only count as set or not set."""
    slot = domain.slots[name]
    if slot.type in ("text", "list", "any"):
        return (actual is not None) == (expected is not None)
    if slot.type == "bool":
        return (actual is None and expected is None) or (actual is not None and bool(actual) == bool(expected))
    if expected is None or actual is None:
        return expected is actual
    return str(actual).lower() == str(expected).lower()


class RuleMatcher:
    def __init__(self, domain: Domain, rules: Sequence[Rule]) -> None:
        self.domain = domain
        self.rules = rules

    def predict(self, tracker: Tracker) -> tuple[str, Rule] | None:
        """The next action of the most specific matching rule, with that rule."""
        best: tuple[int, str, Rule] | None = None
        for rule in self.rules:
            matched = self._match(rule, tracker)
            if matched is not None and (best is None or matched[0] > best[0]):
                best = (matched[0], matched[1], rule)
        return (best[1], best[2]) if best else None

    def _match(self, rule: Rule, tracker: Tracker) -> tuple[int, str] | None:
        frames = tracker.turn
        if not frames:
            return None
        if rule.starts_with_user:
            return self._match_from(rule, frames, 0, tracker)
        # A rule that starts with an action may apply to the end of the turn: try each alignment.
        best: tuple[int, str] | None = None
        for start in range(1, len(frames)):
            matched = self._match_from(rule, frames, start, tracker)
            if matched is not None and (best is None or matched[0] > best[0]):
                best = matched
        return best

    def _match_from(self, rule: Rule, frames: list[Frame], start: int, tracker: Tracker) -> tuple[int, str] | None:
        """Match `rule` against frames[start:], which must all be consumed; returns (specificity, next action)."""
        score = 0
        # Conditions describe the state the rule starts from.
        origin = frames[start] if rule.starts_with_user else frames[start - 1]
        if rule.condition_loop is not NOT_GIVEN:
            if origin.active_loop != rule.condition_loop:
                return None
            score += 1
        for name, value in rule.condition_slots.items():
            if not slot_matches(self.domain, name, value, origin.slots.get(name)):
                return None
            score += 1
        # `position` is the last frame consumed: the user frame, or the frame just before an action-first rule.
        position = start if rule.starts_with_user else start - 1
        steps = list(rule.steps)
        index = 0
        if rule.starts_with_user:
            user = steps[0]
            assert isinstance(user, UserStep)
            if not self._user_matches(user, tracker):
                return None
            # Each entity the rule names is a feature of its state, as in Rasa: the rule that names one is more
            # specific than the same rule without it (a follow-up button, say, against the plain intent).
            score += 1 + len(user.entities)
            index = 1
        for step in steps[index:]:
            if isinstance(step, ActionStep):
                if position + 1 >= len(frames):
                    return score, step.name  # the rule's next action
                position += 1
                if frames[position].action != step.name:
                    return None
                score += 1
            elif isinstance(step, SlotStep):
                if not all(
                    slot_matches(self.domain, n, v, frames[position].slots.get(n)) for n, v in step.slots.items()
                ):
                    return None
                score += 1
            elif isinstance(step, LoopStep):
                if frames[position].active_loop != step.name:
                    return None
                score += 1
            else:
                return None  # a second user step: rules describe one turn here
        if position + 1 < len(frames):
            return None  # the turn went on beyond the rule
        return (score, ACTION_LISTEN) if rule.wait_for_user_input else None

    def _user_matches(self, step: UserStep, tracker: Tracker) -> bool:
        if tracker.latest_intent not in step.intents:
            return False
        return all(tracker.latest_entities(entity) for entity in step.entities)


class StoryMemory:
    """MemoizationPolicy: the action a story took after the same recent states."""

    def __init__(self, domain: Domain, stories: Sequence[Story], max_history: int) -> None:
        self.domain = domain
        self.max_history = max_history
        if max_history > STATES_KEPT:
            # A turn's tracker may start from a snapshot, which carries only the last STATES_KEPT states over.
            raise ValueError(f"max_history {max_history} is more than the {STATES_KEPT} states a tracker keeps")
        self.memory: dict[tuple[State, ...], tuple[str, str]] = {}
        for story in stories:
            for states, action in story_states(domain, story.steps):
                self.memory.setdefault(self._key(states), (action, story.name))

    def _key(self, states: Sequence[State]) -> tuple[State, ...]:
        return tuple(states[-self.max_history :])

    def predict(self, tracker: Tracker) -> tuple[str, str] | None:
        return self.memory.get(self._key(tracker_states(tracker)))


def tracker_states(tracker: Tracker) -> list[State]:
    """One state per prediction point of the conversation so far (after each action and user message).

    The tracker records them as its events are applied (`Tracker.memory_states`); a tracker restored from a
    snapshot has the latest ones, as many as the memory compares.
    """
    return tracker.memory_states()


def story_states(domain: Domain, steps: Sequence[Step]) -> list[tuple[list[State], str]]:
    """(states before it, action) for every action of a story, replaying its steps as events."""
    from bot.engine.replay import story_events  # replay builds on this module

    tracker = Tracker("story", domain)
    examples: list[tuple[list[State], str]] = []
    for event in story_events(steps):
        if event.get("event") == "action" and event["name"] != ACTION_LISTEN:
            examples.append((tracker_states(tracker), event["name"]))
        tracker.apply(event)
    return examples


class Policy:
    def __init__(self, design: ConversationDesign) -> None:
        self.domain = design.domain
        self.rules = RuleMatcher(design.domain, design.rules)
        max_history = design.nlu.memoization_max_history
        self.memory = StoryMemory(design.domain, design.stories, max_history) if max_history else None

    def predict(self, tracker: Tracker) -> Prediction:
        if tracker.followup_action:
            return Prediction(tracker.followup_action, "followup")
        loop = tracker.loop_name
        if loop and not tracker.loop_rejected and tracker.latest_action_name != loop:
            return Prediction(loop, "loop")
        if loop and not tracker.loop_rejected and tracker.latest_action_name == loop:
            return Prediction(ACTION_LISTEN, "loop")
        ruled = self.rules.predict(tracker)
        if ruled is not None:
            action, rule = ruled
            if action == ACTION_LISTEN and loop and not rule.mentions_loop:
                return Prediction(loop, f"rule: {rule.name}, back to the loop")
            return Prediction(action, f"rule: {rule.name}")
        if self.memory is not None:
            remembered = self.memory.predict(tracker)
            if remembered is not None:
                return Prediction(remembered[0], f"story: {remembered[1]}")
        if tracker.latest_action_name == ACTION_LISTEN:
            return Prediction(FALLBACK_ACTION, "fallback")
        return Prediction(ACTION_LISTEN, "fallback")
