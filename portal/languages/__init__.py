"""The languages customers are answered in, and how a tag, a Slack locale or a stored value becomes one of them.

English is the source language of every text (domain responses and gettext messages); Dutch, German and French are
translations of it. Agents work in `AGENT_LANGUAGE`'s default unless the settings say otherwise.
"""

from __future__ import annotations

from typing import Final, Literal

Language = Literal["en", "nl", "de", "fr"]
LANGUAGES: Final[tuple[Language, ...]] = ("en", "nl", "de", "fr")
DEFAULT_LANGUAGE: Final[Language] = "en"
NAMES: Final[dict[Language, str]] = {"en": "English", "nl": "Dutch", "de": "German", "fr": "French"}
# The Babel (CLDR) locale each language's dates and numbers are written in.
LOCALES: Final[dict[Language, str]] = {"en": "en_GB", "nl": "nl_NL", "de": "de_DE", "fr": "fr_FR"}


def language_of(value: object) -> Language | None:
    """One of our languages from a tag such as "nl", "nl-BE", "de_AT" or Slack's locale "fr-FR"; None otherwise."""
    if not isinstance(value, str):
        return None
    tag = value.strip().replace("_", "-").split("-", 1)[0].lower()
    for language in LANGUAGES:
        if tag == language:
            return language
    return None
