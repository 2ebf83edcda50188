"""The canonical form of a request reference (portal.domain.requests.normalise_reference): one rule for every way
a customer types it and every surface that reads it (the engine's entities, the Rasa server's actions, /support)."""

from __future__ import annotations

import pytest

from portal.domain.requests import find_reference, normalise_reference


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("MT-000042", "MT-000042"),
        ("mt-42", "MT-000042"),
        ("MT 42", "MT-000042"),
        ("mt42", "MT-000042"),
        ("MT000042", "MT-000042"),
        ("Mt - 42", "MT-000042"),
        (" st 7 ", "ST-000007"),
        ("ar-000003", "AR-000003"),
        ("ST-0", "ST-000000"),
        ("MT-1234567", "MT-1234567"),  # past a million references the number just grows (format_reference)
        ("XX-000001", None),  # no such kind
        ("MT-", None),
        ("MT", None),
        ("42", None),
        ("MT-42a", None),
        ("MT-4 2", None),
        ("ST-000001\x00", None),  # a forged value never reaches the database
        ("", None),
    ],
)
def test_a_reference_as_typed_has_one_canonical_form(typed: str, canonical: str | None) -> None:
    assert normalise_reference(typed) == canonical


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("what about mt 42?", "MT-000042"),
        ("status of MT42 please", "MT-000042"),
        ("is st-7 done", "ST-000007"),
        ("1st 2 chargers", None),  # part of a word is not a reference
        ("my ticket", None),
    ],
)
def test_a_reference_is_found_in_a_sentence_in_the_same_forms(text: str, found: str | None) -> None:
    assert find_reference(text) == found
