"""Rendering domain responses as Rasa's templated NLG does: `{slot}` and keyword values, buttons included."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)
_PLACEHOLDER = re.compile(r"{([^\n{}]+?)}")


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class BotMessage:
    """One message for a surface to show."""

    text: str
    buttons: tuple[Button, ...] = ()
    response: str | None = None  # the domain response it came from
    custom: Mapping[str, Any] | None = None

    def as_event_data(self) -> dict[str, Any]:
        return {
            "buttons": [{"title": b.title, "payload": b.payload} for b in self.buttons] or None,
            "custom": dict(self.custom) if self.custom else None,
        }


def interpolate(template: str, values: Mapping[str, Any]) -> str:
    """Fill `{name}` placeholders; like Rasa, leave the template untouched if a name is missing."""

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise KeyError(key)
        return str(values[key])

    try:
        return _PLACEHOLDER.sub(fill, template)
    except KeyError as missing:
        logger.warning("response placeholder %s has no value; sent as written", missing)
        return template


def render(
    name: str,
    variations: list[dict[str, Any]],
    slots: Mapping[str, Any],
    kwargs: Mapping[str, Any],
    extra_buttons: list[dict[str, Any]] | None = None,
) -> BotMessage:
    """A variation whose `condition` holds, else one without a condition, as in Rasa (Rasa picks at random among
    them; we pick the first, so conversations are reproducible), filled with the slots and the action's keyword
    values. The languages are such conditions: the English default comes first in the domain, its translations
    follow with `condition: [{type: slot, name: language, value: nl}]`."""
    variation = choose_variation(variations, slots)
    values = {**slots, **kwargs}
    buttons = [
        Button(interpolate(str(b.get("title", "")), values), interpolate(str(b.get("payload", "")), values))
        for b in variation.get("buttons") or []
    ]
    # Buttons an action adds are literal (Rasa appends them after rendering): their JSON payloads have braces.
    buttons += [Button(str(b.get("title", "")), str(b.get("payload", ""))) for b in extra_buttons or []]
    text = interpolate(str(variation.get("text") or ""), values)
    return BotMessage(text, tuple(buttons), name, variation.get("custom"))


def choose_variation(variations: Sequence[Mapping[str, Any]], slots: Mapping[str, Any]) -> Mapping[str, Any]:
    """Rasa's choice among a response's variations: one whose `condition` holds, else one without a condition."""
    return next(
        (v for v in variations if v.get("condition") and _condition_holds(v["condition"], slots)),
        next((v for v in variations if not v.get("condition")), variations[0]),
    )


def _condition_holds(condition: Any, slots: Mapping[str, Any]) -> bool:
    if not condition:
        return True
    return all(slots.get(c.get("name")) == c.get("value") for c in condition if c.get("type") == "slot")
