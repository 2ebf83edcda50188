"""The conversation's rules (portal/domain/conversation.py): which texts are questions about the process, and
what a handoff files."""

from __future__ import annotations

import pytest

from portal.domain.conversation import (
    HANDOFF_LINE_CHARS,
    HANDOFF_LINES,
    Line,
    ProcessQuestion,
    handoff_description,
    is_plea_for_help,
    process_question,
)
from portal.domain.text import DESCRIPTION_MAX, clean_description


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("how long will this take?", ProcessQuestion.HOW_LONG),
        ("How long does this usually take", ProcessQuestion.HOW_LONG),
        ("when will someone come?", ProcessQuestion.HOW_LONG),
        ("what happens next?", ProcessQuestion.WHAT_NEXT),
        ("ok and then what?", ProcessQuestion.WHAT_NEXT),
        ("who will answer me?", ProcessQuestion.WHO_ANSWERS),
        ("will I hear back from you?", ProcessQuestion.WHO_ANSWERS),
        ("do I have to pay for this?", ProcessQuestion.COST),
        ("is this free?", ProcessQuestion.COST),
    ],
)
def test_short_questions_about_the_request_are_recognised(text: str, topic: ProcessQuestion) -> None:
    assert process_question(text) is topic


@pytest.mark.parametrize(
    "text",
    [
        "The charger shows E42 and stops after a minute",
        "Charging stops at 80 percent every time, error E17 shows on the display. Is that the cable?",
        "why does it stop charging?",  # a question, but about the charger: that is the description
        "is the fuse broken?",
        "Socket 2 takes forever to start charging",  # 'take' without a question
        "",
        "   ",
    ],
)
def test_descriptions_are_not_mistaken_for_questions(text: str) -> None:
    assert process_question(text) is None


def test_a_handoff_keeps_the_latest_messages_and_always_fits_a_description() -> None:
    lines = [Line("customer" if i % 2 else "assistant", f"message {i} " + "x" * 1000) for i in range(100)]
    text = handoff_description(lines)
    assert clean_description(text) == text  # never too long (or too short) to file
    assert len(text) <= DESCRIPTION_MAX
    assert "message 99" in text and "message 0 " not in text
    assert text.count("\n") <= HANDOFF_LINES
    assert all(len(line) <= HANDOFF_LINE_CHARS + len("assistant: ") for line in text.splitlines()[1:])


def test_a_handoff_with_no_messages_still_files() -> None:
    text = handoff_description([Line("customer", "  "), Line("assistant", "\x00\x1b")])
    assert clean_description(text) == text
    assert text.endswith("(nothing yet)")


@pytest.mark.parametrize(
    "text", ["help", "Help!", "HELP ME", "i need help", "I don't know", "idk 🤷", "huh?", "no idea"]
)
def test_pleas_for_help_are_recognised(text: str) -> None:
    assert is_plea_for_help(text)


@pytest.mark.parametrize("text", ["ACE0100002", "help desk said to file this", "Socket 2 needs help to start", ""])
def test_answers_are_not_pleas_for_help(text: str) -> None:
    assert not is_plea_for_help(text)
