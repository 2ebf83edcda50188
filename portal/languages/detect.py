"""Which of our languages a customer's message is written in (lingua, offline, restricted to our four languages).

A message too short to tell ("ok", "ACE0100001", "ja") keeps the conversation's language: only letters outside
serials, references, mentions, links and the English product terms every customer borrows ("service operator",
"ticket") count as evidence, and lingua must be clearly sure. Lingua's low-accuracy mode (trigram models, about
20 MB for four languages) is used: its high-accuracy mode needs 150 MB more and was not better on our held-out
phrasings once the borrowed terms are masked (BENCHMARKS.md, "Languages").
"""

from __future__ import annotations

import functools
import re
from typing import Final

from lingua import Language as LinguaLanguage
from lingua import LanguageDetector, LanguageDetectorBuilder

from portal.languages import Language

_LINGUA: Final[dict[LinguaLanguage, Language]] = {
    LinguaLanguage.ENGLISH: "en",
    LinguaLanguage.DUTCH: "nl",
    LinguaLanguage.GERMAN: "de",
    LinguaLanguage.FRENCH: "fr",
}
# Not evidence of a language: Slack markup, codes, and the English product words customers write in every language.
_NOT_EVIDENCE: Final = re.compile(
    r"<[^>]*>|:[a-z0-9_+-]+:|https?://\S+|/\w+|\S*\d\S*"
    r"|\b(?:service[ -]?operators?|service[ -]?tickets?|tickets?|wallbox(?:es)?"
    r"|support|status|portal|slack|ok|okay|chargedesk)\b",
    re.IGNORECASE,
)
_LETTERS: Final = re.compile(r"[^\W\d_]+")
MIN_LETTERS: Final = 8  # fewer letters of evidence than this: too short to tell
MIN_WORDS: Final = 2
MIN_CONFIDENCE: Final = 0.6  # lingua's relative confidence of the best language
MIN_MARGIN: Final = 0.25  # ...and its lead over the second


@functools.cache
def _detector() -> LanguageDetector:
    return (
        LanguageDetectorBuilder.from_languages(*_LINGUA)
        .with_low_accuracy_mode()
        .with_preloaded_language_models()
        .build()
    )


def evidence(text: str) -> str:
    """The words of `text` that say something about its language."""
    return " ".join(_LETTERS.findall(_NOT_EVIDENCE.sub(" ", text)))


def detect(text: str) -> Language | None:
    """The language `text` is clearly written in, or None when it is too short or too mixed to tell."""
    words = evidence(text)
    if len(words.split()) < MIN_WORDS or sum(c.isalpha() for c in words) < MIN_LETTERS:
        return None
    ranked = _detector().compute_language_confidence_values(words)
    best, second = ranked[0], ranked[1]
    if best.value < MIN_CONFIDENCE or best.value - second.value < MIN_MARGIN:
        return None
    return _LINGUA[best.language]


def conversation_language(text: str, current: Language | None, hint: Language | None = None) -> Language:
    """The language to answer `text` in: the one it is clearly written in, else the conversation's so far, else
    the surface's hint (a Slack user's locale), else English."""
    return detect(text) or current or hint or "en"
