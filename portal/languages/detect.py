"""Which of our languages a customer's message is written in (lingua, offline, restricted to our four languages).

A message too short to tell ("ok", "ACE0100001", "ja") keeps the conversation's language: only letters outside
serials, references, mentions, links and the English product terms every customer borrows ("service operator",
"ticket") count as evidence; two or more function words of one language decide, else lingua must be clearly
sure. Lingua's low-accuracy mode (trigram models, about
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
# Function words, the classic evidence of a language: a message with two or more of one language's and more than of
# any other's is that language. Lingua's trigram mode alone puts "für Ladestation Garantie bis August" in English;
# words every list shares ("in", "die" in Dutch and German) count for none.
_FUNCTION_WORDS: Final[dict[Language, frozenset[str]]] = {
    "en": frozenset(
        re.findall(
            r"\S+",
            "the and is are was were it this that my our your i we you they he she with for from of to on at not no"
            " yes can could would should will have has had do does did what why how when where which who please"
            " thanks thank but there here been an any some than then just also very about after since until without"
            " by through against into",
        )
    ),
    "nl": frozenset(
        re.findall(
            r"\S+",
            "de het een en is zijn was waren dit dat mijn onze jouw je jij ik wij we jullie zij hij met voor van naar"
            " op bij niet geen ja kan kunnen zou moet wil heb hebt heeft hebben doe doet wat waarom hoe wanneer waar"
            " welke wie alstublieft bedankt dank maar er hier al ook heel over na sinds nog even graag sorry tot zonder"
            " door tegen om uit te",
        )
    ),
    "de": frozenset(
        re.findall(
            r"\S+",
            "der die das ein eine einen und ist sind war waren dies diese mein meine unser unsere ihr ich wir sie er"
            " mit für von zu auf bei nicht kein keine ja kann können würde muss möchte habe hat haben tun was warum"
            " wie wann wo welche wer bitte danke aber hier schon auch sehr über nach seit noch mal gerne bis ohne durch"
            " gegen um im am vom zum zur beim",
        )
    ),
    "fr": frozenset(
        re.findall(
            r"\S+",
            "le la les un une et est sont était ce cette mon ma mes notre nos votre je nous vous ils il elle avec pour"
            " de du des à au sur chez ne pas non oui peut pouvez pourrait doit veux voudrais ai avez avons fait quoi"
            " pourquoi comment quand où quel quelle qui merci mais ici déjà aussi très depuis encore bonjour jusqu sans"
            " par contre dans",
        )
    ),
}
_EXCLUSIVE: Final[dict[Language, frozenset[str]]] = {
    language: words - frozenset().union(*(other for name, other in _FUNCTION_WORDS.items() if name != language))
    for language, words in _FUNCTION_WORDS.items()
}
MIN_FUNCTION_WORDS: Final = 2
MIN_LETTERS: Final = 8  # fewer letters of evidence than this: too short to tell
MIN_WORDS: Final = 2  # ...or fewer words than this
MIN_LINGUA_WORDS: Final = 3  # lingua is asked only from three words on: "talk soon" or "cancel it" fool it
MIN_WORDS_TO_SWITCH: Final = 5  # a conversation changes language on lingua's word only from this many words on
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
    return _detect(text)[0]


def _detect(text: str) -> tuple[Language | None, bool]:
    """The language and whether the evidence is strong (function words, or lingua on a long enough message)."""
    words = evidence(text)
    count = len(words.split())
    if count < MIN_WORDS or sum(c.isalpha() for c in words) < MIN_LETTERS:
        return None, False
    by_words = _by_function_words(words)
    if by_words is not None:
        return by_words, True
    if count < MIN_LINGUA_WORDS:
        return None, False
    ranked = _detector().compute_language_confidence_values(words)
    best, second = ranked[0], ranked[1]
    if best.value < MIN_CONFIDENCE or best.value - second.value < MIN_MARGIN:
        return None, False
    return _LINGUA[best.language], count >= MIN_WORDS_TO_SWITCH


def _by_function_words(words: str) -> Language | None:
    found = words.lower().split()
    counts = sorted(
        ((sum(w in exclusive for w in found), name) for name, exclusive in _EXCLUSIVE.items()), reverse=True
    )
    (best, language), (second, _) = counts[0], counts[1]
    return language if best >= MIN_FUNCTION_WORDS and best > second else None


def conversation_language(text: str, current: Language | None, hint: Language | None = None) -> Language:
    """The language to answer `text` in: the one it is clearly written in, else the conversation's so far, else
    the surface's hint (a Slack user's locale), else English. A conversation already in one language changes only
    on strong evidence: a short message that lingua alone puts elsewhere keeps it."""
    found, strong = _detect(text)
    if current is not None and found != current and not strong:
        return current
    return found or current or hint or "en"
