from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.domain.serials import corrected_serial, find_serials, is_valid_serial, misread_serials, normalise_serial
from portal.errors import MalformedSerial


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ACE0123456", "ACE0123456"),
        ("ace0123456", "ACE0123456"),
        (" ace 012 3456 ", "ACE0123456"),
        ("12345R678", "12345R678"),
        ("12345r678", "12345R678"),
        ("12345 R 678", "12345R678"),
        ("ACE-0100002", "ACE0100002"),
        ("12345-R678", "12345R678"),
    ],
)
def test_both_label_formats_normalise(text: str, expected: str) -> None:
    assert normalise_serial(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "ACE", "ACE12", "ACX0123456", "1234R678", "12345R67", "12345X678", "ACE0123456X", "hello", "ACE_0100002"],
)
def test_malformed_serials_are_refused(text: str) -> None:
    with pytest.raises(MalformedSerial):
        normalise_serial(text)
    assert not is_valid_serial(text)


def test_serials_are_found_inside_sentences() -> None:
    text = "hi, ace0100002 is broken and so is 10001R001 (also ACE0100002 again), not xACE0100003"
    assert find_serials(text) == ["ACE0100002", "10001R001"]
    assert find_serials("it's ace 010 0002, and 10001 R 002 too") == ["ACE0100002", "10001R002"]
    assert find_serials("ACE0100002 12345R678") == ["ACE0100002", "12345R678"]


@given(st.from_regex(r"(ACE|ace|Ace)\d{4,12}|\d{5}[Rr]\d{3}", fullmatch=True))
def test_normalising_is_idempotent(serial: str) -> None:
    once = normalise_serial(serial)
    assert normalise_serial(once) == once
    assert once == once.upper()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ACEO1OOOO2", [("ACEO1OOOO2", "ACE0100002")]),
        ("it is aceo1oooo2 I think", [("aceo1oooo2", "ACE0100002")]),
        ("ACE-O1OOOO2", [("ACE-O1OOOO2", "ACE0100002")]),
        ("1OOO1R0O1", [("1OOO1R0O1", "10001R001")]),
        ("1000lR00l", [("1000lR00l", "10001R001")]),
        ("ACE01OO0S2 and ACEO1OOOO1", [("ACE01OO0S2", "ACE0100052"), ("ACEO1OOOO1", "ACE0100001")]),
        ("ACEB1000002", [("ACEB1000002", "ACE81000002")]),
        # Nothing to correct: valid serials, words, no real digit, spaces inside the digits, wrong shapes.
        ("ACE0100002", []),
        ("ACEDOSIT", []),
        ("ace is 2 big", []),
        ("aces", []),
        ("OOOOOROOO", []),
        ("ACEO1", []),
        ("xACEO1OOOO2", []),
    ],
)
def test_label_misreadings_are_corrected_only_into_a_suggestion(text: str, expected: list[tuple[str, str]]) -> None:
    assert misread_serials(text) == expected
    for _, corrected in expected:
        assert is_valid_serial(corrected)
    assert find_serials(text) == [s for s in find_serials(text) if s not in [c for _, c in expected]]


def test_a_valid_serial_has_no_correction() -> None:
    assert corrected_serial("ACE0100002") is None
    assert corrected_serial("ACEO1OOOO2") == "ACE0100002"
