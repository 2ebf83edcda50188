"""Rules about the conversation itself: questions asked while a request is being written, and handing a
conversation over to a person. Plain Python, so the rules are the same for every surface."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from portal.domain.text import DESCRIPTION_MAX, without_control_characters


class ProcessQuestion(StrEnum):
    """Questions about the request itself that customers ask instead of describing their problem."""

    HOW_LONG = "how_long"
    WHAT_NEXT = "what_next"
    WHO_ANSWERS = "who_answers"
    COST = "cost"


# A question about the process is short: a real description that happens to contain a question mark
# ("E42 on the display since Monday, is that the fuse?") is longer than this and is filed as it is.
MAX_QUESTION_WORDS = 12
_QUESTION_START = re.compile(
    r"^(how|what|when|who|will|would|do|does|can|could|is|are|why|where|whats|what's|hows|how's)\b", re.I
)
_TOPICS: tuple[tuple[ProcessQuestion, re.Pattern[str]], ...] = (
    (ProcessQuestion.HOW_LONG, re.compile(r"\bhow (long|soon|quick(ly)?|fast)\b|\bwhen will\b|\b(take|takes)\b", re.I)),
    (ProcessQuestion.COST, re.compile(r"\b(cost|costs|pay|paid|charge me|billed|bill|price|free|invoice)\b", re.I)),
    (ProcessQuestion.WHO_ANSWERS, re.compile(r"\bwho\b|\b(hear back|contact me|get back|reply|answer)\b", re.I)),
    (
        ProcessQuestion.WHAT_NEXT,
        re.compile(r"\b(what (happens|now|next)|next step|then what|after (this|that))\b", re.I),
    ),
)


def process_question(text: str) -> ProcessQuestion | None:
    """The process question `text` asks, if it is one (short, phrased as a question, about the request itself).

    Anything else is a description: a rule that guesses wrong here would make a customer's words disappear, so it
    recognises only what it can answer.
    """
    cleaned = " ".join(without_control_characters(text).split())
    words = cleaned.split(" ")
    if not cleaned or len(words) > MAX_QUESTION_WORDS:
        return None
    if not (cleaned.endswith("?") or _QUESTION_START.match(cleaned)):
        return None
    for topic, pattern in _TOPICS:
        if pattern.search(cleaned):
            return topic
    return None


@dataclass(frozen=True)
class Line:
    """One message of the conversation so far: who said it ("customer" or "assistant") and what."""

    speaker: str
    text: str


HANDOFF_LINES = 20  # the latest messages are what a person needs to pick the conversation up
HANDOFF_LINE_CHARS = 300
HANDOFF_HEADER = "The customer asked to talk to a person. The conversation so far:"


def handoff_description(lines: Iterable[Line]) -> str:
    """The request text a handoff files: the latest messages, each shortened, within the description limit.

    Bounded from both sides (messages and characters) so that a long conversation can never make filing fail.
    """
    cleaned = [(line.speaker, " ".join(without_control_characters(line.text).split())) for line in lines]
    kept: Sequence[tuple[str, str]] = [(who, text) for who, text in cleaned if text][-HANDOFF_LINES:]
    rendered = []
    for speaker, text in kept:
        if len(text) > HANDOFF_LINE_CHARS:
            text = text[: HANDOFF_LINE_CHARS - 1] + "…"
        rendered.append(f"{speaker}: {text}")
    if not rendered:
        rendered = ["(nothing yet)"]
    body = "\n".join(rendered)
    room = DESCRIPTION_MAX - len(HANDOFF_HEADER) - 1
    if len(body) > room:
        body = "…" + body[-(room - 1) :]
    return f"{HANDOFF_HEADER}\n{body}"


# What people type when they are stuck at a prompt. The classifier also learns these (intent `help`), but one word
# is the hardest thing for it to place, and at a prompt a plea for help must never be taken as the answer.
_PLEAS = frozenset(
    {
        "help",
        "help me",
        "help please",
        "please help",
        "please help me",
        "help me please",
        "i need help",
        "need help",
        "what",
        "huh",
        "i dont know",
        "i do not know",
        "idk",
        "dunno",
        "no idea",
        "not sure",
    }
)


def is_plea_for_help(text: str) -> bool:
    """True for a short "help" / "I don't know" (any case, punctuation and emoji aside) typed at a prompt."""
    words = re.sub(r"[^a-z ]+", "", without_control_characters(text).lower().replace("'", "")).split()
    return " ".join(words) in _PLEAS
