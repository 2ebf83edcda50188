"""Dates read the same on every surface, and a moment said to be in UTC is in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from portal.dates import day, moment, short_moment

PARIS_WINTER = timezone(timedelta(hours=1))


def test_a_day_reads_in_words() -> None:
    assert day(date(2027, 2, 1)) == "1 February 2027"
    assert day(datetime(2026, 11, 24, 23, 30, tzinfo=UTC)) == "24 November 2026"


def test_a_moment_is_shown_in_utc_whatever_zone_it_carries() -> None:
    assert moment(datetime(2027, 2, 1, 14, 5, tzinfo=UTC)) == "1 February 2027, 14:05 UTC"
    # The hand-made formatting printed the local hour with "UTC" after it (15:05 UTC here).
    assert moment(datetime(2027, 2, 1, 15, 5, tzinfo=PARIS_WINTER)) == "1 February 2027, 14:05 UTC"
    assert moment(datetime(2027, 2, 1, 0, 30, tzinfo=PARIS_WINTER)) == "31 January 2027, 23:30 UTC"


def test_agents_cards_use_the_short_month() -> None:
    assert short_moment(datetime(2027, 2, 1, 15, 5, tzinfo=PARIS_WINTER)) == "1 Feb 2027 14:05 UTC"
