"""Entities in what customers type: serials and request references wherever and however they write them.

Spans come from the ``regex:`` blocks of ``data/nlu.yml``, exactly as Rasa 3.6's ``RegexEntityExtractor`` finds
them (the same patterns, in the same order, any case), so a team running Rasa sees the same entities in the same
places. The embedded engine then does one thing Rasa cannot: it reports each value in its normal form
("ace 010 0002" → ``ACE0100002``, "mt-42" → ``MT-000042``), so that slots, buttons and the portal all see one
spelling (`portal.domain.requests.normalise_reference`, the one rule for references). A value that cannot be
normalised is reported as typed, as Rasa would.

Serials typed with look-alike letters ("ACEO1OOOO2") are deliberately *not* entities: turning them into a serial
would be a silent guess. The form validators offer the corrected serial as a "Did you mean …?" button instead
(``portal.domain.serials.misread_serials``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from portal.domain.requests import normalise_reference
from portal.domain.serials import is_valid_serial, normalise_serial

__all__ = ["EntityExtractor", "FoundEntity"]

logger = logging.getLogger(__name__)


def _serial(text: str) -> str | None:
    return normalise_serial(text) if is_valid_serial(text) else None


# How the engine writes each entity's value; entity types not listed keep the text as typed.
NORMALISERS: Final[Mapping[str, Callable[[str], str | None]]] = {
    "serial": _serial,
    "reference": normalise_reference,
}


@dataclass(frozen=True)
class FoundEntity:
    """One entity in a message: its type, its value (normalised where the engine knows how) and its span."""

    entity: str
    value: str
    start: int
    end: int


@dataclass(frozen=True)
class _Pattern:
    entity: str
    pattern: re.Pattern[str]


class EntityExtractor:
    """Finds the ``regex:`` entities of ``nlu.yml`` in a message, as Rasa does, with normalised values."""

    def __init__(self, patterns: Sequence[tuple[str, str]], normalise: bool = True) -> None:
        """``patterns``: (entity, regex) in the order Rasa reports them; see ``from_regexes``."""
        # case_sensitive: false in config.yml; Rasa matches as written, with no word boundaries added (the
        # patterns in nlu.yml bring their own).
        self._patterns = tuple(_Pattern(name, re.compile(regex, re.IGNORECASE)) for name, regex in patterns)
        self._normalise = normalise

    @classmethod
    def from_regexes(
        cls, regexes: Mapping[str, Sequence[str]], annotated: Collection[str], *, normalise: bool = True
    ) -> EntityExtractor:
        """The extractor Rasa's ``RegexEntityExtractor`` would train on these regexes.

        Rasa uses only regexes named like an entity annotated somewhere in the examples (``use_only_entities``)
        and sorts them by "name+pattern"; both decide which entities appear and in what order. ``normalise=False``
        reports values exactly as typed, as Rasa does.
        """
        patterns: list[tuple[str, str]] = []
        for name, found in regexes.items():
            if name not in annotated:
                logger.warning("Regex %r is not used for entities: no example annotates an entity %r.", name, name)
                continue
            patterns.extend((name, regex) for regex in found)
        patterns.sort(key=lambda item: f"{item[0]}+{item[1]}")
        return cls(patterns, normalise=normalise)

    def extract(self, text: str) -> tuple[FoundEntity, ...]:
        """Pattern by pattern, then left to right within a pattern: the order Rasa's extractor reports."""
        found: list[FoundEntity] = []
        for pattern in self._patterns:
            for match in pattern.pattern.finditer(text):
                found.append(FoundEntity(pattern.entity, self._value(pattern.entity, match.group()), *match.span()))
        return tuple(found)

    def _value(self, entity: str, typed: str) -> str:
        normaliser = NORMALISERS.get(entity) if self._normalise else None
        value = normaliser(typed) if normaliser is not None else None
        return value if value is not None else typed
