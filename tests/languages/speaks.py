"""Whether what the assistant said is all in the customer's language: the check behind the language transcripts.

A sentence (of at least four words of evidence) that detection clearly puts in another language, or a button
title that is an English source text left untranslated, is a leak. Serials, references and product names borrowed
in every language are not evidence (portal/languages/detect.py), so "ACE0123456" or "Service Operator" never count.
"""

from __future__ import annotations

import functools
import re

from babel.messages.pofile import read_po

from bot.config import DESIGN_ROOT
from bot.engine.design import load_design
from bot.engine.responses import BotMessage
from portal.languages import Language
from portal.languages.detect import detect, evidence
from portal.languages.texts import LOCALE_DIR

# A sentence ends at . ! ? (not after a digit: "am 1. Mai 2024" is one German date), a line break or a bullet.
_SENTENCE_END = re.compile(r"(?<=[^\d][.!?])\s+|\n+|•")
MIN_WORDS = 4


@functools.cache
def english_titles() -> frozenset[str]:
    """Every English source text a button could show: the domain's English titles and the catalogs' messages."""
    titles = {
        str(button["title"])
        for variations in load_design(DESIGN_ROOT).domain.responses.values()
        for variation in variations
        if not variation.get("condition")
        for button in variation.get("buttons") or []
    }
    with (LOCALE_DIR / "chargedesk.pot").open("rb") as source:
        titles.update(str(message.id) for message in read_po(source) if message.id and isinstance(message.id, str))
    return frozenset(titles)


def leaks(messages: list[BotMessage], language: Language) -> list[str]:
    """What in `messages` is not in `language`."""
    found: list[str] = []
    for message in messages:
        for sentence in _SENTENCE_END.split(message.text):
            if len(evidence(sentence).split()) >= MIN_WORDS and detect(sentence) not in (None, language):
                found.append(sentence.strip())
        if language != "en":
            found += [b.title for b in message.buttons if b.title in english_titles() and len(b.title) > 3]
    return found
