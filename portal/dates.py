"""How dates and moments read to customers and agents ("1 February 2027"), in one place for every surface.

Babel formats them in the reader's language (CLDR's British English by default, the wording of every English
message; `LOCALES` names the others: "1 februari 2027", "1. Februar 2027", "1 février 2027"); moments are shown in
UTC, converted from whatever zone they carry, and say so.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from babel.dates import format_date

from portal.languages import DEFAULT_LANGUAGE, LOCALES, language_of

LOCALE = LOCALES[DEFAULT_LANGUAGE]


def locale_of(language: str) -> str:
    """The Babel locale of a language tag; English's for anything that is not one of ours."""
    return LOCALES[language_of(language) or DEFAULT_LANGUAGE]


def day(value: date, language: str = DEFAULT_LANGUAGE) -> str:
    """`1 February 2027` (CLDR's long date of the language)"""
    return format_date(value, "long", locale=locale_of(language))


def moment(value: datetime, language: str = DEFAULT_LANGUAGE) -> str:
    """`1 February 2027, 14:05 UTC`"""
    utc = _utc(value)
    return f"{format_date(utc, 'long', locale=locale_of(language))}, {utc:%H:%M} UTC"


def short_moment(value: datetime, language: str = DEFAULT_LANGUAGE) -> str:
    """`1 Feb 2027 14:05 UTC`, for agents' cards (CLDR's medium date of the language)."""
    utc = _utc(value)
    return f"{format_date(utc, 'medium', locale=locale_of(language))} {utc:%H:%M} UTC"


def _utc(value: datetime) -> datetime:
    # A moment without a zone is already UTC (the portal stores UTC), as Babel's formatting assumed.
    return value.astimezone(UTC) if value.tzinfo is not None else value
