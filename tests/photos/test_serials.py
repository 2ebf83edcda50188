"""From OCR lines to the label's one serial (bot/photos/serials.py), with the engine's lines written by hand."""

from __future__ import annotations

import pytest

from bot.photos.ocr import OcrLine
from bot.photos.serials import CLEAR_MARGIN, Candidate, candidates, candidates_in, single_serial


def line(text: str, score: float = 0.95, *, left: float = 10, top: float = 100, width: float = 200) -> OcrLine:
    return OcrLine(text, score, left, top, left + width, top + 30)


@pytest.mark.parametrize(
    ("text", "serial"),
    [
        ("S/N: ACE0123456", "ACE0123456"),
        ("SN ACE 012 3456", "ACE0123456"),
        ("SNACE0123456", "ACE0123456"),  # the engine glued the caption to the serial
        ("SERIALACE0123456", "ACE0123456"),
        ("S/NACE0123456", "ACE0123456"),
        ("Serial NoACE0123456", "ACE0123456"),
        ("Serial No.12345R678", "12345R678"),
        ("S/N 12345 R 678", "12345R678"),
        ("ace-0123456", "ACE0123456"),
    ],
)
def test_a_serial_is_read_from_a_label_line_however_it_is_printed(text: str, serial: str) -> None:
    assert [c.serial for c in candidates_in(text, 0.9)] == [serial]
    assert candidates_in(text, 0.9)[0].confidence == 0.9


@pytest.mark.parametrize(("text", "serial"), [("S/N ACEO123456", "ACE0123456"), ("SN 12345R67B", "12345R678")])
def test_look_alike_letters_become_digits_at_a_lower_confidence(text: str, serial: str) -> None:
    (candidate,) = candidates_in(text, 0.9)
    assert candidate.serial == serial
    assert candidate.confidence < 0.9


@pytest.mark.parametrize(
    "text",
    [
        "230 V ~ 50 Hz 32 A",
        "IP54",
        "Made in the Netherlands",
        "Model: VW-HC22",
        "ACE12",
        "123456R678",
        "SOLDIER",
        "SPACE 1234567",  # "ACE" inside a word is no serial's prefix
    ],
)
def test_the_rest_of_a_label_gives_no_serial(text: str) -> None:
    assert candidates_in(text, 0.9) == []


def test_a_caption_in_its_own_box_and_a_serial_split_in_two_boxes_are_joined() -> None:
    lines = [line("S/N", left=10, width=40), line("ACE 012", left=60, width=90), line("3456", left=160, width=60)]
    assert [c.serial for c in candidates(lines)] == ["ACE0123456"]


def test_a_number_further_along_the_line_is_not_taken_into_the_serial() -> None:
    lines = [line("SN ACE 012 3456", left=10, width=200), line("230", left=400, width=40)]
    assert [c.serial for c in candidates(lines)] == ["ACE0123456"]


def test_lines_on_other_rows_are_not_joined() -> None:
    lines = [line("ACE 012", top=100), line("3456", top=160)]
    assert candidates(lines) == []


def test_one_serial_read_twice_is_that_serial() -> None:
    assert single_serial([Candidate("ACE0123456", 0.9), Candidate("ACE0123456", 0.6)]) == "ACE0123456"


def test_of_two_serials_the_clearly_stronger_wins_and_two_alike_give_none() -> None:
    strong, weak = Candidate("ACE0123456", 0.95), Candidate("ACE0123458", 0.95 - CLEAR_MARGIN)
    assert single_serial([weak, strong]) == "ACE0123456"
    assert single_serial([strong, Candidate("12345R678", 0.9)]) is None
    assert single_serial([]) is None
