"""Slack's request signing (v0) and a driver that posts signed requests to the app, as Slack does.

Slack signs ``v0:{X-Slack-Request-Timestamp}:{raw body}`` with HMAC-SHA256 keyed by the app's signing secret and
sends ``X-Slack-Signature: v0=<hex digest>``. Receivers (bolt) reject a wrong signature, a missing one, and a
timestamp more than five minutes away from their clock, all with HTTP 401.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import string
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp

from tests.support.fake_slack import APP_ID, BOT_USER_ID, HOME_TEAM_ID
from tests.support.payloads import VERIFICATION_TOKEN

SLACK_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
STALE_SECONDS = 60 * 6  # older than bolt's five-minute window


def signature_headers(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """``X-Slack-Request-Timestamp`` and ``X-Slack-Signature`` for ``body`` (timestamp defaults to now).

    By hand rather than slack-sdk's ``SignatureVerifier.generate_signature``: that decodes the body as UTF-8 first,
    and the malformed-request tests must sign bodies that are not UTF-8 (tests/reliability/test_malformed_requests.py),
    exactly as a forger holding the secret could. ``test_harness.py`` checks that slack-sdk accepts what this signs.
    """
    ts = int(time.time()) if timestamp is None else timestamp
    base = b"v0:" + str(ts).encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}"}


def new_event_id() -> str:
    """An Events API event id in Slack's shape, e.g. ``Ev08MFMKH6J1``."""
    return "Ev0" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(9))


def event_context(event: dict[str, Any], team_id: str) -> str:
    """An opaque ``event_context`` like Slack's (``4-`` + base64 of a small JSON)."""
    raw = json.dumps(
        {"et": event.get("type"), "tid": team_id, "aid": APP_ID, "cid": event.get("channel")}, separators=(",", ":")
    )
    return "4-" + base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


class SlackSender:
    """Posts Events API, interactivity and slash-command requests to the app's ``/slack/events`` URL.

    Every method returns ``(HTTP status, response text)``. Signing keywords, on every sending method:
    ``signed=False`` sends no signature headers; ``secret="…"`` signs with another secret;
    ``timestamp=…`` signs with that Unix time (e.g. ``int(time.time()) - STALE_SECONDS`` for a stale request).
    """

    def __init__(
        self,
        url: str,
        signing_secret: str,
        *,
        bot_user_id: str = BOT_USER_ID,
        timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.signing_secret = signing_secret
        self.bot_user_id = bot_user_id
        self.timeout = timeout
        self.last_envelope: dict[str, Any] | None = None  # the last event_callback body sent

    # ------------------------------------------------------------------ Events API

    def envelope(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        team_id: str = HOME_TEAM_ID,
        authorizations_team: str | None = None,
        ext_shared: bool | None = None,
        event_time: int | None = None,
    ) -> dict[str, Any]:
        """The ``event_callback`` body Slack posts for ``event``.

        ``team_id`` is the workspace the event happened in; ``authorizations[0].team_id`` (``authorizations_team``,
        default ``team_id``) is the installation that may see it, which bolt uses for ``context.team_id``.
        ``is_ext_shared_channel`` defaults to whether the acting user's team (``event.user_team``) differs from
        the installation's.
        """
        installed = authorizations_team or team_id
        if ext_shared is None:
            actor_team = event.get("user_team", event.get("team", installed))
            ext_shared = actor_team != installed or team_id != installed
        if event_time is None:
            try:
                event_time = int(float(str(event.get("event_ts", ""))))
            except ValueError:
                event_time = int(time.time())
        return {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "context_team_id": team_id,
            "context_enterprise_id": None,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or new_event_id(),
            "event_time": event_time,
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": installed,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": ext_shared,
            "event_context": event_context(event, team_id),
        }

    async def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        team_id: str = HOME_TEAM_ID,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        signed: bool = True,
        secret: str | None = None,
        timestamp: int | None = None,
        authorizations_team: str | None = None,
        ext_shared: bool | None = None,
    ) -> tuple[int, str]:
        """Wrap ``event`` in the envelope (see ``envelope``) and POST it as JSON.

        ``retry_num`` adds ``X-Slack-Retry-Num`` / ``X-Slack-Retry-Reason`` as Slack does on redelivery; pass the
        same ``event_id`` to redeliver the same event.
        """
        body = self.envelope(
            event,
            event_id=event_id,
            team_id=team_id,
            authorizations_team=authorizations_team,
            ext_shared=ext_shared,
        )
        self.last_envelope = body
        extra: dict[str, str] = {}
        if retry_num is not None:
            extra["X-Slack-Retry-Num"] = str(retry_num)
            extra["X-Slack-Retry-Reason"] = retry_reason
        return await self._post(
            json.dumps(body).encode(), JSON, signed=signed, secret=secret, timestamp=timestamp, extra=extra
        )

    async def url_verification(
        self, challenge: str, *, signed: bool = True, secret: str | None = None, timestamp: int | None = None
    ) -> tuple[int, str]:
        body = {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
        return await self._post(json.dumps(body).encode(), JSON, signed=signed, secret=secret, timestamp=timestamp)

    # ------------------------------------------------------------------ interactivity and commands

    async def interaction(
        self,
        payload: dict[str, Any],
        *,
        signed: bool = True,
        secret: str | None = None,
        timestamp: int | None = None,
    ) -> tuple[int, str]:
        """POST ``payload=<json>`` form-encoded, as Slack sends block_actions, view_submission, shortcuts …"""
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self._post(body, FORM, signed=signed, secret=secret, timestamp=timestamp)

    async def command(
        self,
        fields: dict[str, str],
        *,
        signed: bool = True,
        secret: str | None = None,
        timestamp: int | None = None,
    ) -> tuple[int, str]:
        """POST a slash command's fields form-encoded."""
        body = urlencode(fields).encode()
        return await self._post(body, FORM, signed=signed, secret=secret, timestamp=timestamp)

    async def raw(self, body: bytes, content_type: str, headers: dict[str, str]) -> tuple[int, str]:
        """POST ``body`` with exactly these headers (no signing added)."""
        return await self._send(body, {"Content-Type": content_type, **headers})

    # ------------------------------------------------------------------ transport

    async def _post(
        self,
        body: bytes,
        content_type: str,
        *,
        signed: bool,
        secret: str | None,
        timestamp: int | None,
        extra: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        headers = {"Content-Type": content_type, "User-Agent": SLACK_USER_AGENT, **(extra or {})}
        if signed:
            headers.update(signature_headers(secret if secret is not None else self.signing_secret, body, timestamp))
        return await self._send(body, headers)

    async def _send(self, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(self.url, data=body, headers=headers) as response,
        ):
            return response.status, await response.text()
