"""From the lines an OCR engine read on a label to the one serial on it (the portal's rules decide what a serial is).

A label's line reads "S/N: ACE0123456", "SN ACE 012 3456" or "Serial No.12345R678"; the engine may glue the
caption to the serial ("SNACE0123456") and read a 0 as an O. The portal's find_serials wants a serial standing
alone, so the patterns here are looser at their edges, and every candidate still passes the portal's
normalise_serial (exact reads) or corrected_serial (look-alike letters), so nothing that is not a valid serial
comes out.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.photos.ocr import OcrLine
from portal.domain.serials import MISREAD_DIGITS, corrected_serial, is_valid_serial, normalise_serial

_DIGITISH = "0-9" + re.escape("".join(MISREAD_DIGITS))
# The serial's digits may be split by single spaces ("ACE 012 3456"); a dash, colon or dot may follow the prefix.
# No digit may touch either end (a longer number is not a serial); before "ACE" no letter either ("SPACE 2000…"),
# except the end of a caption the engine glued to it ("SNACE…", "S/NACE…", "SERIALNOACE…", "SERIALACE…").
_ACE = re.compile(
    rf"(?:(?<![A-Z0-9])|(?<=N)|(?<=NO)|(?<=L))ACE[ \-:.]?\s?[{_DIGITISH}](?: ?[{_DIGITISH}]){{3,11}}(?![0-9])"
)
_R_FORMAT = re.compile(
    rf"(?<![0-9])[{_DIGITISH}](?: ?[{_DIGITISH}]){{4}} ?R ?[{_DIGITISH}](?: ?[{_DIGITISH}]){{2}}(?![0-9])"
)
# A serial whose look-alike letters had to be read as digits is less certain than one read as digits: its
# confidence is lowered by this much (so it loses to a different serial read as digits with similar confidence).
CORRECTED_PENALTY = 0.2
# Two different serials on one photo (two chargers in the picture, a reflection, a misread line): the stronger one
# is taken only when it is clearly stronger, by this much confidence; otherwise no single serial is returned and the
# person types it. A wrong serial costs more than a question: it would be confirmed by someone not reading closely.
CLEAR_MARGIN = 0.15


@dataclass(frozen=True)
class Candidate:
    serial: str  # normalised
    confidence: float  # the engine's score for the line, less CORRECTED_PENALTY for a corrected read


def _digit_count(text: str) -> int:
    return sum(c.isdigit() for c in text)


def candidates_in(text: str, score: float) -> list[Candidate]:
    """Every serial a line of OCR text could hold, with the confidence it is read with."""
    upper = text.upper()
    found: list[Candidate] = []
    for pattern in (_ACE, _R_FORMAT):
        for match in pattern.finditer(upper):
            token = match.group(0)
            body = token[3:] if token.startswith("ACE") else token
            # Mostly letters is a word, not a misread number ("SOLD 2025R" is no serial).
            if _digit_count(body) * 2 < sum(not c.isspace() for c in body):
                continue
            compact = re.sub(r"[\s\-:.]", "", token)
            if is_valid_serial(compact):
                found.append(Candidate(normalise_serial(compact), score))
            elif (fixed := corrected_serial(compact)) is not None:
                found.append(Candidate(fixed, score - CORRECTED_PENALTY))
    return found


def rows(lines: Iterable[OcrLine]) -> list[tuple[str, float]]:
    """The label's printed lines, each as (text, confidence), out of the engine's boxes.

    The engine may split one printed line into boxes ("S/N" apart from the serial, or the serial's own groups when
    they are printed far apart): boxes side by side are joined, with one space when they are close (a serial's
    groups) and with a separator no serial pattern spans when they are not (so "ACE 871 1587" never takes the
    "230" of a rating printed further along the line). Boxes standing on end (text read sideways) stay alone.
    """
    flat = sorted((line for line in lines if line.width >= line.height), key=lambda line: line.top + line.bottom)
    grouped: list[list[OcrLine]] = []
    for line in flat:
        centre = (line.top + line.bottom) / 2
        row = grouped[-1] if grouped else None
        if row and abs(centre - (row[-1].top + row[-1].bottom) / 2) < 0.5 * max(line.height, row[-1].height):
            row.append(line)
        else:
            grouped.append([line])
    found: list[tuple[str, float]] = []
    for row in grouped:
        row.sort(key=lambda line: line.left)
        text = row[0].text
        for before, after in itertools.pairwise(row):
            close = after.left - before.right < 1.0 * max(before.height, after.height)
            text += (" " if close else " ; ") + after.text
        found.append((text, min(line.score for line in row)))
    found += [(line.text, line.score) for line in lines if line.width < line.height]
    return found


def candidates(lines: Iterable[OcrLine]) -> list[Candidate]:
    """The candidates of every printed line of the label."""
    return [candidate for text, score in rows(lines) for candidate in candidates_in(text, score)]


def single_serial(found: Iterable[Candidate]) -> str | None:
    """The serial the label carries: the only one read, or the clearly strongest of several; else None."""
    best: dict[str, float] = {}
    for candidate in found:
        best[candidate.serial] = max(best.get(candidate.serial, -1.0), candidate.confidence)
    ranked = sorted(best.items(), key=lambda item: item[1], reverse=True)
    if not ranked:
        return None
    if len(ranked) == 1 or ranked[0][1] - ranked[1][1] >= CLEAR_MARGIN:
        return ranked[0][0]
    return None
