"""Charger serial numbers: the two label formats and their normal form."""

from __future__ import annotations

import re

from portal.errors import MalformedSerial

# "ACE" + digits (ACE0123456) or five digits, "R", three digits (12345R678). The digit count after "ACE" is
# not fixed by the label specification we have, so we accept a generous but bounded range.
SERIAL_PATTERN = re.compile(r"ACE\d{4,12}|\d{5}R\d{3}")
# The same formats inside free text, for pulling serials out of sentences. Single spaces may split the label's
# groups ("ace 010 0002", "10001 R 002"), as people copy them.
SERIAL_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9])(?:ACE ?\d(?: ?\d){3,11}|\d(?: ?\d){4} ?R ?\d(?: ?\d){2})(?![A-Za-z0-9])", re.IGNORECASE
)


def normalise_serial(text: str) -> str:
    """Return the serial in its stored form (upper case, no spaces), or raise MalformedSerial.

    People copy serials from a label, so case and spacing vary ("ace 010 0002"); anything else is an error.
    """
    candidate = "".join(text.split()).upper()
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
        serial = "".join(match.group(0).split()).upper()
        if serial not in found:
            found.append(serial)
    return found
