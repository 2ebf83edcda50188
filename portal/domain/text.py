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


# Characters shown as escapes in the audit log: controls (NUL cannot even be stored in PostgreSQL), invisible
# formatting (bidi overrides, zero-width) that would make a record read differently from what it holds, lone
# surrogates (not encodable at all), private-use and unassigned code points, and line/paragraph separators.
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _escaped(ch: str) -> str:
    if ch == "\\":
        return "\\\\"
    if unicodedata.category(ch) not in _ESCAPED_CATEGORIES:
        return ch
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str, limit: int) -> str:
    """`text` as it can always be stored and read back: anything invisible or unencodable as a backslash escape,
    and at most `limit` characters; a cut value ends with a marker giving the original length."""
    shown = "".join(_escaped(ch) for ch in text)
    if len(shown) <= limit:
        return shown
    marker = f"…[{len(text)} chars]"
    return shown[: max(limit - len(marker), 0)] + marker
