"""Limits on what people type into requests."""

from __future__ import annotations

import unicodedata

from portal.errors import InvalidDescription, ReasonRequired

DESCRIPTION_MIN = 10
DESCRIPTION_MAX = 3000
REASON_MAX = 1000


def without_control_characters(text: str) -> str:
    """Text as people meant it: control characters (NUL, escape sequences, bells) dropped; line breaks and tabs kept.

    PostgreSQL cannot store NUL at all, and terminal escapes have no place in a support request.
    """
    return "".join(ch for ch in text if ch in "\n\r\t" or unicodedata.category(ch) != "Cc")


def clean_description(text: str) -> str:
    """Trimmed description without control characters, or InvalidDescription saying which limit it misses."""
    cleaned = without_control_characters(text).strip()
    if len(cleaned) < DESCRIPTION_MIN:
        raise InvalidDescription(f"please describe the request in at least {DESCRIPTION_MIN} characters")
    if len(cleaned) > DESCRIPTION_MAX:
        raise InvalidDescription(f"please keep the description under {DESCRIPTION_MAX} characters")
    return cleaned


def clean_reason(text: str | None, *, required: bool) -> str | None:
    """A decision's reason: trimmed, bounded, and present when the decision needs one."""
    cleaned = without_control_characters(text or "").strip()
    if not cleaned:
        if required:
            raise ReasonRequired("this decision needs a reason")
        return None
    if len(cleaned) > REASON_MAX:
        raise ReasonRequired(f"please keep the reason under {REASON_MAX} characters")
    return cleaned
