"""Reading the serial off a photo a customer shared: fetched (files.py), then read by the OCR (bot/photos), one
photo at a time per process, off the event loop.

The OCR is an optional extra (`pip install chargedesk[ocr]`) and loaded on the first photo only, so a process that
never sees one keeps its memory and start-up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.photos.files import FileProblem, PhotoRefused, SlackFile, fetch

logger = logging.getLogger(__name__)


class PhotoProblem(StrEnum):
    """Why a photo gave no serial, each with its own answer (bot/slack/messages/photos.py)."""

    NO_SERIAL = "no_serial"
    NOT_AN_IMAGE = "not_an_image"
    TOO_LARGE = "too_large"
    NOT_VISIBLE = "not_visible"
    UNAVAILABLE = "unavailable"
    NO_READER = "no_reader"  # the OCR extra is not installed here


@dataclass(frozen=True)
class PhotoReading:
    file: SlackFile | None  # the photo read (None when none could be fetched)
    serial: str | None  # normalised; only ever a suggestion the customer confirms
    problem: PhotoProblem | None  # set exactly when serial is None


@dataclass
class PhotoReader:
    # The OCR keeps a core busy for about half a second a photo: one at a time, so turns and acknowledgements of the
    # same process keep the other core.
    _one_at_a_time: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1))

    async def read(self, client: AsyncWebClient, file_ids: Sequence[str]) -> PhotoReading:
        """The serial on the first of `file_ids` that is a photo (a message may carry several files)."""
        reading = PhotoReading(None, None, PhotoProblem.NOT_AN_IMAGE)
        for file_id in file_ids:
            reading = await self._read_one(client, file_id)
            if reading.problem is not PhotoProblem.NOT_AN_IMAGE:
                return reading
        return reading

    async def _read_one(self, client: AsyncWebClient, file_id: str) -> PhotoReading:
        try:
            file, data = await fetch(client, file_id)
        except PhotoRefused as refused:
            return PhotoReading(None, None, _PROBLEM_OF_FILE[refused.problem])
        try:
            from bot.photos.labels import LabelProblem, OcrUnavailable, read_label
        except ImportError:
            return PhotoReading(file, None, PhotoProblem.NO_READER)
        async with self._one_at_a_time:
            try:
                label = await asyncio.to_thread(read_label, data)
            except OcrUnavailable:
                return PhotoReading(file, None, PhotoProblem.NO_READER)
        if label.serial is not None:
            return PhotoReading(file, label.serial, None)
        problems = {
            LabelProblem.NOT_AN_IMAGE: PhotoProblem.NOT_AN_IMAGE,
            LabelProblem.TOO_LARGE: PhotoProblem.TOO_LARGE,
        }
        return PhotoReading(file, None, problems.get(label.problem, PhotoProblem.NO_SERIAL))  # type: ignore[arg-type]


_PROBLEM_OF_FILE = {
    FileProblem.NOT_VISIBLE: PhotoProblem.NOT_VISIBLE,
    FileProblem.NOT_AN_IMAGE: PhotoProblem.NOT_AN_IMAGE,
    FileProblem.TOO_LARGE: PhotoProblem.TOO_LARGE,
    FileProblem.UNAVAILABLE: PhotoProblem.UNAVAILABLE,
}
