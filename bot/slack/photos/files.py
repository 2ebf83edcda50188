"""Fetching a photo a customer shared in Slack (issue 17 §1): `files.info`, then its `url_private` with the bot token.

Only what Slack says about the file counts (the event's copy of it is not trusted): `files.info` answers for files
the bot may see, so a file from another workspace, or a forged id, is refused there. The download goes only to
Slack's file host (or the Web API's own host, which is what a test's fake Slack serves), carries the bot token, is
bounded in bytes and time, and an answer that is not the file (Slack's sign-in page when the token is refused) is
refused too. Nothing is kept: the bytes live in memory for the reading, the request keeps the permalink.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

logger = logging.getLogger(__name__)

# A phone's photo is 2 to 8 MB; a label needs far less. Anything bigger is refused before it is downloaded.
MAX_PHOTO_BYTES = 20 * 1024 * 1024
DOWNLOAD_TIMEOUT_SECONDS = 20.0
SLACK_FILE_HOSTS = frozenset({"files.slack.com"})
# What files.info says when the bot may not see the file (another workspace's, deleted, or an id made up).
_NOT_VISIBLE = frozenset({"file_not_found", "file_deleted", "access_denied", "not_visible", "missing_scope"})


class FileProblem(StrEnum):
    NOT_VISIBLE = "not_visible"  # the bot may not read it
    NOT_AN_IMAGE = "not_an_image"  # Slack says it is no image (a PDF, a video)
    TOO_LARGE = "too_large"  # more than MAX_PHOTO_BYTES
    UNAVAILABLE = "unavailable"  # Slack failed or was too slow: sending it again may work


class PhotoRefused(Exception):
    def __init__(self, problem: FileProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True)
class SlackFile:
    """A shared file as files.info describes it."""

    id: str
    name: str
    permalink: str
    mimetype: str
    size: int
    url: str  # url_private: needs the bot token
    user: str  # who shared it

    @property
    def reference(self) -> dict[str, str]:
        """How a request keeps it: never the content or the private URL."""
        return {"id": self.id, "name": self.name, "permalink": self.permalink}


async def describe(client: AsyncWebClient, file_id: str) -> SlackFile:
    """What Slack says of `file_id`, when the bot may see it and it is a photo of a size worth reading."""
    try:
        answer = await client.files_info(file=file_id)
    except SlackApiError as error:
        code = error.response.get("error") if isinstance(error.response.data, dict) else None
        if code in _NOT_VISIBLE:
            raise PhotoRefused(FileProblem.NOT_VISIBLE) from error
        logger.warning("files.info failed: %s", code)
        raise PhotoRefused(FileProblem.UNAVAILABLE) from error
    except (aiohttp.ClientError, TimeoutError) as error:
        logger.warning("files.info failed: %s", type(error).__name__)
        raise PhotoRefused(FileProblem.UNAVAILABLE) from error
    data = answer.get("file") or {}
    file = SlackFile(
        id=str(data.get("id") or file_id),
        name=str(data.get("name") or data.get("title") or ""),
        permalink=str(data.get("permalink") or ""),
        mimetype=str(data.get("mimetype") or ""),
        size=int(data.get("size") or 0),
        url=str(data.get("url_private_download") or data.get("url_private") or ""),
        user=str(data.get("user") or ""),
    )
    if not file.mimetype.startswith("image/"):
        raise PhotoRefused(FileProblem.NOT_AN_IMAGE)
    if file.size > MAX_PHOTO_BYTES:
        raise PhotoRefused(FileProblem.TOO_LARGE)
    return file


async def download(client: AsyncWebClient, file: SlackFile) -> bytes:
    """The file's bytes, fetched with the bot token from Slack's file host."""
    if not _is_slack_file_host(file.url, client.base_url) or not client.token:
        raise PhotoRefused(FileProblem.NOT_VISIBLE)
    headers = {"Authorization": f"Bearer {client.token}"}
    timeout = aiohttp.ClientTimeout(total=DOWNLOAD_TIMEOUT_SECONDS)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            # Slack's file host answers directly; a redirect goes to its sign-in page, not the file.
            session.get(file.url, headers=headers, allow_redirects=False) as response,
        ):
            if response.status == 429 or response.status >= 500:
                raise PhotoRefused(FileProblem.UNAVAILABLE)
            if response.status != 200 or response.content_type.startswith("text/"):
                raise PhotoRefused(FileProblem.NOT_VISIBLE)  # the sign-in page: the token was not enough
            return await _bounded(response)
    except (aiohttp.ClientError, TimeoutError) as error:
        logger.warning("downloading a photo failed: %s", type(error).__name__)
        raise PhotoRefused(FileProblem.UNAVAILABLE) from error


async def _bounded(response: aiohttp.ClientResponse) -> bytes:
    """The body, refused as soon as it passes MAX_PHOTO_BYTES (files.info's size is Slack's word, not a limit)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_PHOTO_BYTES:
            raise PhotoRefused(FileProblem.TOO_LARGE)
        chunks.append(chunk)
    return b"".join(chunks)


def _is_slack_file_host(url: str, api_base_url: str) -> bool:
    """Slack's file host over HTTPS, or the host of the Web API the client is configured for (a fake Slack)."""
    target, api = urlsplit(url), urlsplit(api_base_url)
    if target.scheme == "https" and (target.hostname or "") in SLACK_FILE_HOSTS:
        return True
    return bool(target.netloc) and (target.scheme, target.netloc) == (api.scheme, api.netloc)


async def fetch(client: AsyncWebClient, file_id: str) -> tuple[SlackFile, bytes]:
    """`describe` then `download`: the photo and its bytes."""
    file = await describe(client, file_id)
    return file, await download(client, file)
