"""What bot/slack writes in the reader's language: kinds, statuses, days and moments through `Texts`.

Every text a customer reads is `t.gettext("…")` with `t = texts(language)` (portal/languages/texts.py); the kind and
status labels come from portal.status_text in English and are looked up in the same catalog where they are shown.
Agents read `texts(agent_language)` (the CHARGEDESK_AGENT_LANGUAGE setting, English by default).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from portal.languages import DEFAULT_LANGUAGE, NAMES, language_of
from portal.languages.texts import Texts, texts
from portal.status_text import kind_label, status_label

ENGLISH = texts(DEFAULT_LANGUAGE)


def kind_text(t: Texts, kind: str) -> str:
    """`service ticket`, in `t`'s language."""
    return t.gettext(kind_label(kind))


def status_text(t: Texts, kind: str, status: str) -> str:
    """What the status means for the person waiting, in `t`'s language."""
    return t.gettext(status_label(kind, status))


def day_text(t: Texts, value: date) -> str:
    """`1 February 2027`, `1 februari 2027`."""
    return t.day(value)


def moment_text(t: Texts, value: datetime) -> str:
    """`1 February 2027, 14:05 UTC` in `t`'s language (moments are shown in UTC and say so)."""
    return t.moment(value)


def language_name(value: object) -> str | None:
    """The English name of a conversation's language ("Dutch"), for agents; None when it is not one of ours."""
    language = language_of(value)
    return NAMES[language] if language else None


def first_upper(text: str) -> str:
    """The text with its first letter in upper case and the rest as written (`str.capitalize` would lower German
    nouns: "administrative Anfrage" must not become "Administrative anfrage")."""
    return text[:1].upper() + text[1:]


def age(delta: timedelta, t: Texts = ENGLISH) -> str:
    """How long ago, roughly: `5 min`, `3 h`, `4 days` (for queues and search results)."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return t.gettext("{count} min").format(count=minutes)
    if minutes < 48 * 60:
        return t.gettext("{count} h").format(count=minutes // 60)
    days = minutes // (24 * 60)
    return t.ngettext("{count} day", "{count} days", days).format(count=days)
