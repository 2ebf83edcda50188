"""How dates and moments read to customers and agents ("1 February 2027"), in one place for every surface.

Babel formats them (CLDR's British English, the wording of every message); moments are shown in UTC, converted
from whatever zone they carry, and say so.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from babel.dates import format_date, format_datetime

LOCALE = "en_GB"


def day(value: date) -> str:
    """`1 February 2027`"""
    return format_date(value, "long", locale=LOCALE)


def moment(value: datetime) -> str:
    """`1 February 2027, 14:05 UTC`"""
    return format_datetime(value, "d MMMM y, HH:mm 'UTC'", tzinfo=UTC, locale=LOCALE)


def short_moment(value: datetime) -> str:
    """`1 Feb 2027 14:05 UTC`, for agents' cards."""
    return format_datetime(value, "d MMM y HH:mm 'UTC'", tzinfo=UTC, locale=LOCALE)
