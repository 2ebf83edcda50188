"""The languages customers are answered in, and how a tag, a Slack locale or a stored value becomes one of them.

English is the source language of every text (domain responses and gettext messages); Dutch, German and French are
translations of it. Agents read English unless CHARGEDESK_AGENT_LANGUAGE says otherwise.
"""

from __future__ import annotations

from typing import Final, Literal


def N_(message: str) -> str:
    """Marks a text for the catalogs where it is defined; it is translated where it is shown (`Texts.gettext`)."""
    return message


Language = Literal["en", "nl", "de", "fr"]
LANGUAGES: Final[tuple[Language, ...]] = ("en", "nl", "de", "fr")
DEFAULT_LANGUAGE: Final[Language] = "en"
# English names, for agents' cards; marked for the catalogs so that another agent language can show its own.
NAMES: Final[dict[Language, str]] = {"en": N_("English"), "nl": N_("Dutch"), "de": N_("German"), "fr": N_("French")}
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
