"""Forms, run by the engine as Rasa's FormAction runs them, with validation by the `validate_<form>` action."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.engine.design import REQUESTED_SLOT, Domain
from bot.engine.responses import BotMessage
from bot.engine.slots import extract_slots
from bot.engine.tracker import ACTION_LISTEN, Tracker, loop_event, slot_event

# Runs an action on a tracker: (events, messages). Used for the validation and `action_ask_*` actions.
RunAction = Callable[[str, Tracker], Awaitable[tuple[list[dict[str, Any]], list[BotMessage]]]]


class FormRejected(Exception):
    """The form could not use the message (nothing filled the requested slot): other rules may handle it."""


@dataclass
class FormOutcome:
    events: list[dict[str, Any]] = field(default_factory=list)
    messages: list[BotMessage] = field(default_factory=list)


class FormRunner:
    def __init__(self, domain: Domain, run_action: RunAction, clock: Callable[[], float]) -> None:
        self.domain = domain
        self.run_action = run_action
        self.clock = clock

    async def run(self, form: str, tracker: Tracker) -> FormOutcome:
        """One execution of the form: activate if needed, validate, then ask for the next slot or finish."""
        outcome = FormOutcome()
        if tracker.loop_name != form:
            outcome.events.append(loop_event(form, self.clock()))
            await self._activate(form, tracker, outcome)
        if not self._is_done(outcome):
            if not [e for e in outcome.events if e.get("event") != "active_loop"]:
                await self._validate_if_required(form, tracker, outcome)
            await self._request_next_slot(form, tracker, outcome)
        if self._is_done(outcome):
            outcome.events.append(loop_event(None, self.clock()))
        return outcome

    async def _activate(self, form: str, tracker: Tracker, outcome: FormOutcome) -> None:
        # Slots already filled (e.g. a serial in the message that started the form) are validated now.
        scratch = self._scratch(tracker, outcome.events)
        prefilled = {s: scratch.slots.get(s) for s in self.domain.forms[form] if scratch.slots.get(s) is not None}
        if prefilled:
            await self._validate(form, scratch, prefilled, outcome)

    async def _validate_if_required(self, form: str, tracker: Tracker, outcome: FormOutcome) -> None:
        if tracker.latest_action_name != ACTION_LISTEN or tracker.loop_interrupted:
            return
        extracted = self._slots_set_this_turn(form, tracker)
        before = len(outcome.events)
        await self._validate(form, self._scratch(tracker, outcome.events), extracted, outcome)
        validated = any(e.get("event") == "slot" and e.get("name") != REQUESTED_SLOT for e in outcome.events[before:])
        if tracker.requested_slot and not extracted and not validated:
            raise FormRejected(f"{form} could not fill {tracker.requested_slot} from the message")

    def _slots_set_this_turn(self, form: str, tracker: Tracker) -> dict[str, Any]:
        wanted = set(self.domain.forms[form]) | ({tracker.requested_slot} if tracker.requested_slot else set())
        return {
            e["name"]: e.get("value")
            for e in tracker.events_since_user()
            if e.get("event") == "slot" and e.get("name") in wanted
        }

    async def _validate(self, form: str, scratch: Tracker, candidates: dict[str, Any], outcome: FormOutcome) -> None:
        """Run validate_<form> on the candidates; without one, candidates are taken as they are."""
        validator = f"validate_{form}"
        if validator not in self.domain.custom_actions:
            outcome.events.extend(slot_event(k, v, self.clock()) for k, v in candidates.items())
            return
        # The validator sees the candidates as set after the form ran, as in Rasa's temporary tracker.
        requested = scratch.requested_slot if scratch.loop_name == form else None
        scratch.apply(slot_event(REQUESTED_SLOT, requested, self.clock()))
        for name, value in candidates.items():
            scratch.apply(slot_event(name, value, self.clock()))
        events, messages = await self.run_action(validator, scratch)
        returned = {e.get("name") for e in events if e.get("event") == "slot"}
        outcome.events.extend(events)
        outcome.events.extend(slot_event(k, v, self.clock()) for k, v in candidates.items() if k not in returned)
        outcome.messages.extend(messages)

    async def validate_one(self, form: str, tracker: Tracker, slot: str, value: Any) -> FormOutcome:
        """What `validate_<form>` says of one candidate value, with nothing stored."""
        outcome = FormOutcome()
        await self._validate(form, tracker.copy(), {slot: value}, outcome)
        return outcome

    async def _request_next_slot(self, form: str, tracker: Tracker, outcome: FormOutcome) -> None:
        if self._is_done(outcome):
            outcome.events.append(slot_event(REQUESTED_SLOT, None, self.clock()))
            return
        requested = [e for e in outcome.events if e.get("event") == "slot" and e.get("name") == REQUESTED_SLOT]
        scratch = self._scratch(tracker, outcome.events)
        slot = requested[0].get("value") if requested else None
        if not slot:
            slot = next((s for s in self.domain.forms[form] if scratch.slots.get(s) is None), None)
            outcome.events.append(slot_event(REQUESTED_SLOT, slot, self.clock()))
        if not slot:
            return
        ask = self.domain.ask_action(form, slot)
        if ask is None:
            return
        scratch.apply(slot_event(REQUESTED_SLOT, slot, self.clock()))
        events, messages = await self.run_action(ask, scratch)
        outcome.events.extend(events)
        outcome.messages.extend(messages)

    @staticmethod
    def _is_done(outcome: FormOutcome) -> bool:
        """A validator ends the form by setting requested_slot to None (or deactivating the loop)."""
        for event in reversed(outcome.events):
            if event.get("event") == "slot" and event.get("name") == REQUESTED_SLOT:
                return event.get("value") is None
        loops = [e for e in outcome.events if e.get("event") == "active_loop"]
        return bool(loops) and loops[-1].get("name") is None

    @staticmethod
    def _scratch(tracker: Tracker, events: list[dict[str, Any]]) -> Tracker:
        scratch = tracker.copy()
        for event in events:
            scratch.apply(dict(event))
        return scratch


def fill_slots_from_message(domain: Domain, tracker: Tracker, clock: Callable[[], float]) -> list[dict[str, Any]]:
    """The slot events `action_extract_slots` adds after a user message."""
    return [slot_event(name, value, clock()) for name, value in extract_slots(domain, tracker).items()]
