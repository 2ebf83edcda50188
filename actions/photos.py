"""The photo of a charger's label that a serial was read from, kept on the request it files (issue 17 §1).

The Slack app asks "Is it ACE0123456?" under a photo; its Yes button carries the serial read and the photo's
permalink in the `label_photo` slot ("ACE0123456 https://…"). The photo is kept only on a request about that charger
(the customer may change the serial afterwards). A button's value is whatever the client sent, so only a Slack file
permalink of the usual shape is kept, as a reference (id, name, permalink): agents open it with their own Slack
access, nothing is copied.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import unquote, urlsplit

from rasa_sdk import Tracker

from portal.domain.serials import find_serials

# https://<workspace>.slack.com/files/<user id>/<file id>/<name>, as files.info gives it.
_PERMALINK_PATH = re.compile(r"/files/[A-Z0-9]+/(F[A-Z0-9]+)/([^/]{1,255})")


def label_photo_file(permalink: str) -> dict[str, str] | None:
    """The file reference of a Slack permalink, or None when it is not one."""
    parts = urlsplit(permalink)
    host = parts.hostname or ""
    if parts.scheme != "https" or not (host == "slack.com" or host.endswith(".slack.com")):
        return None
    match = _PERMALINK_PATH.fullmatch(parts.path)
    if match is None:
        return None
    return {"id": match.group(1), "name": unquote(match.group(2)), "permalink": permalink}


def label_photo_value(serial: str, permalink: str) -> str:
    """The `label_photo` slot's value for a serial read off the photo at `permalink`."""
    return f"{serial} {permalink}"


def label_photos(tracker: Tracker, serials: Sequence[str]) -> list[dict[str, str]]:
    """The photo one of `serials` (the request's) was confirmed from, as files to keep on it (none when typed)."""
    value = tracker.get_slot("label_photo")
    serial, _, permalink = value.partition(" ") if isinstance(value, str) else ("", "", "")
    named = {found for text in serials for found in find_serials(text)}  # as typed: "ace 010 0002" counts
    file = label_photo_file(permalink) if serial in named else None
    return [file] if file else []
