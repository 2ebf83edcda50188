"""Charger serial numbers: the two label formats, their normal form, and labels read wrongly."""

from __future__ import annotations

import re

from portal.errors import MalformedSerial

# "ACE" + digits (ACE0123456) or five digits, "R", three digits (12345R678). The digit count after "ACE" is
# not fixed by the label specification we have, so we accept a generous but bounded range.
SERIAL_PATTERN = re.compile(r"ACE\d{4,12}|\d{5}R\d{3}")
# The same formats inside free text, for pulling serials out of sentences. Single spaces may split the label's
# groups ("ace 010 0002", "10001 R 002"), as people copy them, and a dash may follow the prefix ("ACE-0100002").
# Nothing alphanumeric may touch either end, so "xACE0100003" or a longer number is not read as a serial.
SERIAL_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9])(?:ACE[ -]?\d(?: ?\d){3,11}|\d(?: ?\d){4} ?R ?\d(?: ?\d){2})(?![A-Za-z0-9])", re.IGNORECASE
)

# Characters people type for a digit when they read a label: the letter O for zero, I or l for one, and so on.
# Only these are corrected, and only into a suggestion the person confirms: never a silent guess.
MISREAD_DIGITS: dict[str, str] = {
    "O": "0",
    "Q": "0",
    "D": "0",
    "I": "1",
    "L": "1",
    "|": "1",
    "Z": "2",
    "S": "5",
    "G": "6",
    "T": "7",
    "B": "8",
}
_DIGITISH = r"[0-9OQDILZSGTB|]"
# A token shaped like a serial in which some digits may be letters. Unlike SERIAL_IN_TEXT no spaces inside the
# digits: "ace is 2 big" must not become a suggestion. At least one real digit is required (checked below).
_MISREAD_IN_TEXT = re.compile(
    rf"(?<![A-Za-z0-9|])(?:ACE[ -]?{_DIGITISH}{{4,12}}|{_DIGITISH}{{5}}R{_DIGITISH}{{3}})(?![A-Za-z0-9|])",
    re.IGNORECASE,
)
# Inside a serial a person may type spaces or a dash after the prefix; nothing else is dropped.
_SEPARATORS = re.compile(r"[\s-]+")


def _compact(text: str) -> str:
    return _SEPARATORS.sub("", text).upper()


def normalise_serial(text: str) -> str:
    """Return the serial in its stored form (upper case, no spaces or dashes), or raise MalformedSerial.

    People copy serials from a label, so case and spacing vary ("ace 010 0002", "ACE-0100002"); anything else is
    an error.
    """
    candidate = _compact(text)
    if not SERIAL_PATTERN.fullmatch(candidate):
        raise MalformedSerial(text)
    return candidate


def is_valid_serial(text: str) -> bool:
    try:
        normalise_serial(text)
    except MalformedSerial:
        return False
    return True


def find_serials(text: str) -> list[str]:
    """Every serial mentioned in a text, normalised, in order of appearance, without repeats."""
    found: list[str] = []
    for match in SERIAL_IN_TEXT.finditer(text):
        serial = _compact(match.group(0))
        if serial not in found:
            found.append(serial)
    return found


def corrected_serial(token: str) -> str | None:
    """The serial `token` would be if its look-alike letters were digits, or None.

    None when the token is already a valid serial (nothing to correct), when it is not serial-shaped, or when it
    has no real digit at all (a word such as "ACEDOSIT" is not a misread label).
    """
    compact = _compact(token)
    if SERIAL_PATTERN.fullmatch(compact):
        return None
    if compact.startswith("ACE"):
        prefix, digits, suffix = "ACE", compact[3:], ""
    elif len(compact) == 9 and compact[5] == "R":
        prefix, digits, suffix = "", compact[:5], compact[6:]
    else:
        return None
    body = digits + suffix
    if not any(c.isdigit() for c in body) or not all(c.isdigit() or c in MISREAD_DIGITS for c in body):
        return None
    fixed = "".join(MISREAD_DIGITS.get(c, c) for c in digits)
    fixed_suffix = "".join(MISREAD_DIGITS.get(c, c) for c in suffix)
    candidate = f"{prefix}{fixed}R{fixed_suffix}" if not prefix else f"{prefix}{fixed}"
    return candidate if SERIAL_PATTERN.fullmatch(candidate) else None


def misread_serials(text: str) -> list[tuple[str, str]]:
    """(as typed, corrected) for every serial in `text` that has look-alike letters for digits, in order.

    "ACEO1OOOO2" gives ("ACEO1OOOO2", "ACE0100002"); valid serials and ordinary words give nothing.
    """
    found: list[tuple[str, str]] = []
    for match in _MISREAD_IN_TEXT.finditer(text):
        corrected = corrected_serial(match.group(0))
        if corrected is not None and all(corrected != fixed for _, fixed in found):
            found.append((match.group(0), corrected))
    return found
