"""Entities where customers put them: a table of messages → the serials and references the engine reports.

The extractor runs on the project's own data/nlu.yml regexes, so these rows also check the patterns a Rasa 3.6
server would use (the spans are the same; Rasa reports values as typed, the engine in their normal form).
"""

from __future__ import annotations

import pytest

from bot.config import DESIGN_ROOT
from bot.engine.entities import EntityExtractor, FoundEntity
from bot.engine.understanding import read_nlu


@pytest.fixture(scope="module")
def extractor() -> EntityExtractor:
    nlu = read_nlu(DESIGN_ROOT / "data" / "nlu.yml")
    return EntityExtractor.from_regexes(nlu.regexes, nlu.annotated_entity_types)


@pytest.fixture(scope="module")
def as_rasa() -> EntityExtractor:
    nlu = read_nlu(DESIGN_ROOT / "data" / "nlu.yml")
    return EntityExtractor.from_regexes(nlu.regexes, nlu.annotated_entity_types, normalise=False)


TABLE: list[tuple[str, list[tuple[str, str]]]] = [
    # A serial inside a sentence, any case, with the label's spaces or a dash after the prefix.
    ("hi, ACE0100002 stopped charging yesterday", [("serial", "ACE0100002")]),
    ("ace0100002", [("serial", "ACE0100002")]),
    ("it's ace 010 0002 by the gate", [("serial", "ACE0100002")]),
    ("ACE-0100002", [("serial", "ACE0100002")]),
    ("ace -0100002", []),  # a space and a dash is not how labels are copied
    ("10001 r 001", [("serial", "10001R001")]),
    ("10001r002 is dead", [("serial", "10001R002")]),
    ("(ACE0100002)", [("serial", "ACE0100002")]),
    ("serial: ACE0100002.", [("serial", "ACE0100002")]),
    # Several serials in one message, each reported (repeats too, as Rasa does).
    ("ACE0100001 and ace0100002", [("serial", "ACE0100001"), ("serial", "ACE0100002")]),
    (
        "ACE0100001, ACE0100002 & 10001R001",
        [("serial", "ACE0100001"), ("serial", "ACE0100002"), ("serial", "10001R001")],
    ),
    # A reference anywhere, with or without its dash and zeros.
    ("mt-42", [("reference", "MT-000042")]),
    ("MT000042", [("reference", "MT-000042")]),
    ("about MT-000001?", [("reference", "MT-000001")]),
    ("what's up with st 7", [("reference", "ST-000007")]),
    ("status of ar-000003 please", [("reference", "AR-000003")]),
    ("ACE0100002 / ST-000001", [("serial", "ACE0100002"), ("reference", "ST-000001")]),
    # Not serials or references: inside longer tokens, too short, too long, look-alike letters, ordinary words.
    ("xACE0100003", []),
    ("ACE12", []),
    ("ACE01234567890123", []),
    ("1234510001R0029", []),
    ("ACEO1OOOO2", []),  # never a silent guess: the form offers "Did you mean ACE0100002?" instead
    ("1OOO1R0O1", []),
    ("the first 5 minutes", []),
    ("mt-1234567", []),
    ("smart 42", []),
    ("aces high", []),
    ("", []),
]


@pytest.mark.parametrize(("text", "expected"), TABLE)
def test_entities_where_customers_put_them(
    extractor: EntityExtractor, text: str, expected: list[tuple[str, str]]
) -> None:
    found = extractor.extract(text)
    # Rasa reports pattern by pattern (tests/engine/test_understanding.py checks that order), so compare as sets.
    assert sorted((e.entity, e.value) for e in found) == sorted(expected)
    for entity in found:
        assert text[entity.start : entity.end].strip() == text[entity.start : entity.end]


@pytest.mark.parametrize(("text", "expected"), TABLE)
def test_rasa_finds_the_same_spans_with_values_as_typed(
    extractor: EntityExtractor, as_rasa: EntityExtractor, text: str, expected: list[tuple[str, str]]
) -> None:
    ours, typed = extractor.extract(text), as_rasa.extract(text)
    assert [(e.entity, e.start, e.end) for e in ours] == [(e.entity, e.start, e.end) for e in typed]
    assert all(e.value == text[e.start : e.end] for e in typed)


def test_spans_point_at_the_text_as_typed(extractor: EntityExtractor) -> None:
    assert extractor.extract("it's ace 010 0002!") == (FoundEntity("serial", "ACE0100002", 5, 17),)


def test_entity_types_without_a_normaliser_keep_the_text() -> None:
    extractor = EntityExtractor([("zipcode", r"\d{5}")])
    assert extractor.extract("zip 01234") == (FoundEntity("zipcode", "01234", 4, 9),)
