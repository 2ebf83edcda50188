"""Filling slots from the latest user message by their mappings (Rasa's `action_extract_slots`)."""

from __future__ import annotations

from typing import Any

from bot.engine.design import Domain, SlotMapping
from bot.engine.tracker import Tracker


def extract_slots(domain: Domain, tracker: Tracker) -> dict[str, Any]:
    """Slot values the latest message provides; for each slot the first mapping that yields a value wins."""
    values: dict[str, Any] = {}
    for slot in domain.slots.values():
        for mapping in slot.mappings:
            if mapping.type == "custom" or not _intent_allowed(mapping, tracker):
                continue
            if not _conditions_hold(mapping, slot.name, tracker):
                continue
            if mapping.type == "from_entity" and _not_unique_in_form(domain, slot.name, mapping, tracker):
                continue
            found = _values(mapping, tracker)
            if not found:
                continue
            value = found if slot.type == "list" else found[-1]
            if value is not None or tracker.slots.get(slot.name) is not None:
                values[slot.name] = value
                break
    return values


def _intent_allowed(mapping: SlotMapping, tracker: Tracker) -> bool:
    intent = tracker.latest_intent
    if mapping.intent:
        return intent in mapping.intent
    return intent not in mapping.not_intent


def _conditions_hold(mapping: SlotMapping, slot_name: str, tracker: Tracker) -> bool:
    if not mapping.conditions:
        return True
    if tracker.loop_rejected and tracker.requested_slot == slot_name:
        return False
    for condition in mapping.conditions:
        in_loop = condition.active_loop is not None and condition.active_loop == tracker.loop_name
        if in_loop and condition.requested_slot in (None, tracker.requested_slot):
            return True
        if condition.active_loop is None and tracker.loop_name is None:
            return True
    return False


def _not_unique_in_form(domain: Domain, slot_name: str, mapping: SlotMapping, tracker: Tracker) -> bool:
    """Inside a form, an entity that several of its slots map from only fills the slot being asked for."""
    form = tracker.loop_name
    if not form or tracker.requested_slot == slot_name or slot_name not in domain.forms.get(form, ()):
        return False
    sharing = [
        name
        for name in domain.forms[form]
        if any(m.type == "from_entity" and m.entity == mapping.entity for m in domain.slots[name].mappings)
    ]
    return len(sharing) > 1


def _values(mapping: SlotMapping, tracker: Tracker) -> list[Any]:
    if mapping.type == "from_entity":
        return [v for v in tracker.latest_entities(mapping.entity or "")]
    if mapping.type == "from_intent":
        return [mapping.value]
    if mapping.type == "from_text":
        return [tracker.latest_message.get("text")]
    return []
