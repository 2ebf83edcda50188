"""A fake Slack Web API on loopback that answers like Slack and records every call.

Point slack_sdk at it with ``AsyncWebClient(token="xoxb-…", base_url=await fake.start())``.

What it models (shapes from Slack's method reference; ids look like Slack's):

* authentication: a token comes from ``Authorization: Bearer …`` or a ``token`` argument; none gives
  ``{"ok": false, "error": "not_authed"}``, one that is not a bot token (``xoxb-``) gives ``invalid_auth``;
* ``auth.test``, ``users.info`` (``user_not_found`` for unknown ids; the e-mail is left out of the profile
  when the user entry has none, as Slack does when an org hides e-mails), ``users.lookupByEmail``,
  ``conversations.open`` (``D`` + user id), ``chat.postMessage`` (increasing ``ts``), ``chat.postEphemeral``,
  ``chat.update``, ``views.open|update|push|publish`` (generated ``V…`` ids, the submitted view echoed),
  ``usergroups.users.list``; any other method answers ``{"ok": true}``;
* ``fail_next`` queues one-shot failures: HTTP 429 with ``Retry-After``, HTTP 5xx, or HTTP 200 with ``ok: false``;
  ``clear_failures`` drops those not used yet (and every delay);
* ``delay_next(method, seconds, times)`` makes the next calls of a method answer late; ``delay(method, seconds)``
  makes every call of it answer late (a slow Slack) until set to 0;
* ``fail_first_attempts`` fails the first attempt of every call (a request whose method and arguments it has not
  seen before) with 429 + ``Retry-After`` or a 5xx; the same request sent again (a retry) is answered normally.
  Response URLs count too (method ``response_url``);
* ``conversations.info`` answers from ``channels``, ``conversations.members`` from ``members``
  (``channel_not_found`` for others);
* ``response_url(name)`` gives a loopback URL that records what an app posts to an interaction's response_url;
* ``add_file`` shares a file: ``files.info`` describes it as Slack does (``url_private`` served here, behind the bot
  token: without it Slack answers its sign-in page, HTML with status 200), ``file_not_found`` for unknown ids and
  for a file shared where the bot cannot see it (another workspace's); downloads are recorded as ``files.download``.

Every request is recorded as a ``Call``, failed and unauthenticated ones included.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import socket
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from aiohttp.web_request import FileField

HOME_TEAM_ID = "T0HOME"
BOT_USER_ID = "UBOT"
BOT_ID = "B0BOT"
APP_ID = "A0CHARGEDESK"
BOT_SCOPES = (
    "app_mentions:read,channels:history,chat:write,commands,im:history,im:read,im:write,users:read,users:read.email"
)

# Methods Slack answers without a token (they authenticate otherwise or not at all).
_UNAUTHENTICATED_METHODS = frozenset({"api.test", "oauth.access", "oauth.v2.access", "oauth.v2.exchange"})
# Form fields that are free text, never JSON-decoded even when they look like JSON.
_TEXT_FIELDS = frozenset({"text", "private_metadata", "value", "query"})
_TS_BASE_SECONDS = 1_700_000_100


@dataclass
class Call:
    """One request the fake received."""

    method: str  # e.g. "chat.postMessage"; "response_url" for posts to a response_url
    args: dict[str, Any]  # query + body merged; form values that are JSON arrays/objects are decoded
    token: str | None  # from "Authorization: Bearer …", else the "token" argument
    http_status: int = 200  # what the fake answered
    response: dict[str, Any] = field(default_factory=dict)  # the JSON the fake answered
    path: str = ""  # the request path, e.g. "/api/chat.postMessage" or "/response/r1"

    @property
    def ok(self) -> bool:
        return self.http_status == 200 and bool(self.response.get("ok"))


@dataclass(frozen=True)
class _Failure:
    status: int
    retry_after: int | None
    error: str | None


async def start_local_server(app: web.Application) -> tuple[web.AppRunner, int]:
    """Serve ``app`` on 127.0.0.1 on a free port; returns the runner (``await runner.cleanup()``) and the port."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    site = web.SockSite(runner, sock)
    await site.start()
    return runner, port


def _maybe_json(key: str, value: str) -> Any:
    """Decode form values that carry JSON arrays/objects (blocks, view, attachments …)."""
    if key in _TEXT_FIELDS:
        return value
    stripped = value.strip()
    if not stripped or stripped[0] not in "[{":
        return value
    try:
        decoded = json.loads(stripped)
    except ValueError:
        return value
    return decoded if isinstance(decoded, dict | list) else value


def _split_ids(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return []


class FakeSlack:
    """A fake Slack Web API server. ``start()`` returns the base URL for slack_sdk (ends in ``/api/``)."""

    def __init__(
        self,
        users: dict[str, dict[str, Any]] | None = None,
        bot_user_id: str = BOT_USER_ID,
        team_id: str = HOME_TEAM_ID,
    ) -> None:
        # user id -> {"team_id": …, "email": … (absent = hidden), "name": …, "real_name": …, any users.info field}
        self.users: dict[str, dict[str, Any]] = dict(users or {})
        self.bot_user_id = bot_user_id
        self.bot_id = BOT_ID
        self.team_id = team_id
        self.team_name = "ChargeDesk Support"
        self.team_domain = "chargedesk-support"
        self.app_id = APP_ID
        # usergroup id -> member user ids, answered by usergroups.users.list
        self.usergroups: dict[str, list[str]] = {}
        # view id -> the latest view the fake answered for it (views.open/update/push/publish)
        self.views: dict[str, dict[str, Any]] = {}
        self.calls: list[Call] = []
        self._failures: dict[str, deque[_Failure]] = {}
        self._delays: dict[str, deque[float]] = {}
        self._ts_counter = itertools.count(1)
        self._view_counter = itertools.count(1)
        self._home_views: dict[str, str] = {}
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        # fail_first_attempts: the failure to answer, the methods it applies to (None: all), requests seen
        self._first_attempt_failure: _Failure | None = None
        self._first_attempt_methods: frozenset[str] | None = None
        self._seen_requests: set[str] = set()
        self.first_attempt_faults = 0  # how many first attempts were failed
        # channel id -> conversations.info's "channel" object (is_private, is_shared, is_ext_shared, …)
        self.channels: dict[str, dict[str, Any]] = {}
        # channel id -> conversations.members' "members" (user ids); a channel not listed is channel_not_found
        self.members: dict[str, list[str]] = {}
        self._slow: dict[str, float] = {}  # delay(): every call of the method waits this long
        # file id -> (files.info's "file" object, the bytes served at its url_private, whether the bot may read it)
        self.files: dict[str, tuple[dict[str, Any], bytes, bool]] = {}
        self._file_counter = itertools.count(1)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> str:
        if self._runner is not None:
            return self.base_url
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_route("POST", "/response/{name}", self._handle_response_url)
        app.router.add_route("GET", "/files-pri/{file_id}/{name}", self._handle_download)
        app.router.add_route("GET", "/files-pri/{file_id}/download/{name}", self._handle_download)
        self._runner, self._port = await start_local_server(app)
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def root_url(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeSlack is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/api/"

    def response_url(self, name: str = "r1") -> str:
        """A response_url that records the app's posts as Call(method="response_url", path="/response/<name>")."""
        return f"{self.root_url}/response/{name}"

    def add_file(
        self,
        content: bytes,
        *,
        user: str,
        name: str = "IMG_0412.jpg",
        mimetype: str = "image/jpeg",
        readable: bool = True,
        size: int | None = None,
    ) -> dict[str, Any]:
        """A file `user` shared; returns the file object as a message event's ``files`` carries it.

        ``readable=False`` is a file the bot cannot see (shared in another workspace): files.info says
        file_not_found and its URL serves the sign-in page. ``size`` overrides the size Slack reports.
        """
        file_id = f"F0PHOTO{next(self._file_counter)}"
        filetype = name.rsplit(".", 1)[-1].lower() if "." in name else "binary"
        file = {
            "id": file_id,
            "created": _TS_BASE_SECONDS,
            "timestamp": _TS_BASE_SECONDS,
            "name": name,
            "title": name,
            "mimetype": mimetype,
            "filetype": filetype,
            "pretty_type": filetype.upper(),
            "user": user,
            "user_team": (self.users.get(user) or {}).get("team_id", self.team_id),
            "size": len(content) if size is None else size,
            "mode": "hosted",
            "is_external": False,
            "url_private": f"{self.root_url}/files-pri/{self.team_id}-{file_id}/{name}",
            "url_private_download": f"{self.root_url}/files-pri/{self.team_id}-{file_id}/download/{name}",
            "permalink": f"https://{self.team_domain}.slack.com/files/{user}/{file_id}/{name}",
        }
        self.files[file_id] = (file, content, readable)
        return dict(file)

    # ------------------------------------------------------------------ inspection

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def clear(self) -> None:
        self.calls.clear()

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - the harness's API: a deadline for the poll, not for an I/O call
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Poll until at least ``count`` calls to ``method`` (matching ``where``) were recorded; returns them all."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            matching = self._matching(method, where)
            if len(matching) >= count:
                return matching
            if loop.time() >= deadline:
                condition = " matching the filter" if where is not None else ""
                raise AssertionError(
                    f"expected at least {count} call(s) to {method}{condition} within {timeout}s, "
                    f"got {len(matching)}.\n{self.describe_calls()}"
                )
            await asyncio.sleep(0.01)

    async def assert_no_new_calls(
        self, method: str, duration: float = 0.3, where: Callable[[Call], bool] | None = None
    ) -> None:
        """Wait ``duration`` seconds and fail if any new call to ``method`` (matching ``where``) arrived meanwhile."""
        before = len(self._matching(method, where))
        await asyncio.sleep(duration)
        after = self._matching(method, where)
        if len(after) > before:
            raise AssertionError(
                f"expected no new call to {method} within {duration}s, got {len(after) - before}.\n"
                f"{self.describe_calls()}"
            )

    def describe_calls(self) -> str:
        if not self.calls:
            return "Recorded calls: none."
        lines = [f"Recorded calls ({len(self.calls)}):"]
        for index, call in enumerate(self.calls, 1):
            args = json.dumps(call.args, default=str, ensure_ascii=False)
            if len(args) > 400:
                args = args[:400] + "…"
            error = "" if call.ok else f" error={call.response.get('error')!r}"
            lines.append(f"  {index}. {call.method} [HTTP {call.http_status}{error}] token={call.token!r} args={args}")
        return "\n".join(lines)

    def _matching(self, method: str, where: Callable[[Call], bool] | None) -> list[Call]:
        return [c for c in self.calls if c.method == method and (where is None or where(c))]

    # ------------------------------------------------------------------ failure injection

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int | None = 1,
        error: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail (queued after failures already set up).

        ``status=429``: HTTP 429 ``{"ok": false, "error": "ratelimited"}`` with ``Retry-After: retry_after``
        (no header when None); ``status>=500``: that status with ``{"ok": false, "error": error or
        "internal_error"}``; ``status=200``: ``{"ok": false, "error": error or "internal_error"}``.
        """
        queue = self._failures.setdefault(method, deque())
        for _ in range(times):
            queue.append(_Failure(status=status, retry_after=retry_after, error=error))

    def clear_failures(self) -> None:
        """Forget the failures and delays queued and not used yet: Slack has recovered."""
        self._failures.clear()
        self._delays.clear()
        self._slow.clear()

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Make the next ``times`` calls to ``method`` answer only after ``seconds`` (a slow or hanging Slack)."""
        self._delays.setdefault(method, deque()).extend([seconds] * times)

    def fail_first_attempts(
        self, status: int = 429, retry_after: int | None = 1, methods: set[str] | None = None
    ) -> None:
        """From now on fail the first attempt of every call (to `methods`, default all) with `status`.

        A call is known by its method and arguments: the same request again (a client's retry) is answered
        normally, so every call fails exactly once. `first_attempt_faults` counts the failures answered.
        """
        self._first_attempt_failure = _Failure(status=status, retry_after=retry_after, error=None)
        self._first_attempt_methods = frozenset(methods) if methods is not None else None

    def delay(self, method: str, seconds: float) -> None:
        """Answer every call to `method` after `seconds` (0 to stop)."""
        self._slow[method] = seconds

    def _first_attempt(self, method: str, args: dict[str, Any]) -> _Failure | None:
        failure = self._first_attempt_failure
        if failure is None or (self._first_attempt_methods is not None and method not in self._first_attempt_methods):
            return None
        fingerprint = method + json.dumps(args, sort_keys=True, default=str)
        if fingerprint in self._seen_requests:
            return None
        self._seen_requests.add(fingerprint)
        self.first_attempt_faults += 1
        return failure

    # ------------------------------------------------------------------ HTTP handlers

    async def _handle_response_url(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        args: dict[str, Any]
        try:
            decoded = json.loads(raw) if raw else {}
            args = decoded if isinstance(decoded, dict) else {"_body": decoded}
        except ValueError:
            args = {"_body": raw.decode("utf-8", "replace")}
        failure = self._first_attempt("response_url", {**args, "_path": request.path})
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            self.calls.append(Call("response_url", args, None, failure.status, {"ok": False}, request.path))
            return web.Response(status=failure.status, text="error", content_type="text/html", headers=headers)
        self.calls.append(Call("response_url", args, None, 200, {"ok": True}, request.path))
        return web.Response(text="ok", content_type="text/html")

    async def _handle_download(self, request: web.Request) -> web.StreamResponse:
        """A file's url_private: its bytes with the bot token; Slack's sign-in page (HTML, 200) without it."""
        file_id = request.match_info["file_id"].split("-", 1)[-1]
        token = self._bearer(request)
        entry = self.files.get(file_id)
        failure = self._pop_failure("files.download")
        args = {"file": file_id}
        if failure is not None:
            self.calls.append(Call("files.download", args, token, failure.status, {"ok": False}, request.path))
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            return web.Response(status=failure.status, text="error", headers=headers)
        if entry is None or not entry[2] or token is None or not token.startswith("xoxb-"):
            self.calls.append(Call("files.download", args, token, 200, {"ok": False}, request.path))
            return web.Response(text="<!DOCTYPE html><title>Sign in | Slack</title>", content_type="text/html")
        file, content, _ = entry
        self.calls.append(Call("files.download", args, token, 200, {"ok": True}, request.path))
        return web.Response(body=content, content_type=str(file["mimetype"]))

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        args = await self._read_args(request)
        token = self._bearer(request)
        form_token = args.pop("token", None)
        if token is None and isinstance(form_token, str) and form_token:
            token = form_token

        headers: dict[str, str] = {}
        delays = self._delays.get(method)
        if delays:
            await asyncio.sleep(delays.popleft())
        elif self._slow.get(method):
            await asyncio.sleep(self._slow[method])
        failure = self._pop_failure(method) or self._first_attempt(method, args)
        if failure is not None:
            status = failure.status
            default_error = "ratelimited" if status == 429 else "internal_error"
            body: dict[str, Any] = {"ok": False, "error": failure.error or default_error}
            if status == 429 and failure.retry_after is not None:
                headers["Retry-After"] = str(failure.retry_after)
        elif method not in _UNAUTHENTICATED_METHODS and token is None:
            status, body = 200, {"ok": False, "error": "not_authed"}
        elif method not in _UNAUTHENTICATED_METHODS and not str(token).startswith("xoxb-"):
            status, body = 200, {"ok": False, "error": "invalid_auth"}
        else:
            status = 200
            body = self._answer(method, args)
            if method == "auth.test" and body.get("ok"):
                headers["x-oauth-scopes"] = BOT_SCOPES
                headers["x-accepted-oauth-scopes"] = ""

        self.calls.append(Call(method, args, token, status, body, request.path))
        return web.json_response(body, status=status, headers=headers, content_type="application/json")

    async def _read_args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = {key: _maybe_json(key, value) for key, value in request.query.items()}
        if request.method not in ("POST", "PUT", "PATCH"):
            return args
        content_type = request.content_type
        if content_type == "multipart/form-data":
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, str):
                    args[key] = _maybe_json(key, value)
                elif isinstance(value, FileField):  # an uploaded file
                    args[key] = {"filename": value.filename, "size": len(value.file.read())}
                else:
                    args[key] = bytes(value).decode("utf-8", "replace")
            return args
        raw = await request.read()
        if not raw:
            return args
        text = raw.decode("utf-8")
        if content_type == "application/json" or text.lstrip().startswith("{"):
            decoded = json.loads(text)
            if isinstance(decoded, dict):
                args.update(decoded)
            return args
        for key, value in parse_qsl(text, keep_blank_values=True):
            args[key] = _maybe_json(key, value)
        return args

    @staticmethod
    def _bearer(request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            return header[len("bearer ") :].strip() or None
        return None

    def _pop_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if queue:
            return queue.popleft()
        return None

    # ------------------------------------------------------------------ answers

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        handler = self._handlers().get(method)
        if handler is None:
            return {"ok": True}
        return handler(args)

    def _handlers(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {
            "api.test": lambda args: {"ok": True, "args": args},
            "auth.test": self._auth_test,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "conversations.open": self._conversations_open,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "files.info": self._files_info,
            "views.open": lambda args: self._views("views.open", args),
            "views.update": lambda args: self._views("views.update", args),
            "views.push": lambda args: self._views("views.push", args),
            "views.publish": lambda args: self._views("views.publish", args),
            "usergroups.users.list": self._usergroups_users_list,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
        }

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(args.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": {"id": str(args["channel"]), **channel}}

    def _conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        members = self.members.get(str(args.get("channel", "")))
        if members is None:
            return {"ok": False, "error": "channel_not_found"}
        limit = int(args.get("limit") or 100)
        more = {"next_cursor": "dXNlcjpVMEMxMjM0NTY="} if len(members) > limit else {"next_cursor": ""}
        return {"ok": True, "members": members[:limit], "response_metadata": more}

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": "chargedesk",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _user_object(self, user_id: str) -> dict[str, Any] | None:
        if user_id == self.bot_user_id and user_id not in self.users:
            return {
                "id": user_id,
                "team_id": self.team_id,
                "name": "chargedesk",
                "deleted": False,
                "real_name": "ChargeDesk",
                "profile": {
                    "real_name": "ChargeDesk",
                    "display_name": "",
                    "bot_id": self.bot_id,
                    "api_app_id": self.app_id,
                    "team": self.team_id,
                },
                "is_bot": True,
                "is_app_user": False,
                "updated": _TS_BASE_SECONDS,
            }
        entry = self.users.get(user_id)
        if entry is None:
            return None
        team_id = str(entry.get("team_id", self.team_id))
        name = str(entry.get("name", user_id.lower()))
        real_name = str(entry.get("real_name", name.replace(".", " ").title()))
        profile: dict[str, Any] = {
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": name,
            "display_name_normalized": name,
            "team": team_id,
        }
        if entry.get("email"):
            profile["email"] = entry["email"]
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": team_id,
            "name": name,
            "deleted": False,
            "color": "9f69e7",
            "real_name": real_name,
            "tz": "Europe/Berlin",
            "tz_label": "Central European Time",
            "tz_offset": 3600,
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": False,
            "is_app_user": False,
            "updated": _TS_BASE_SECONDS,
            "is_email_confirmed": bool(entry.get("email")),
        }
        for key, value in entry.items():  # any other users.info field given for the user wins
            if key not in ("team_id", "email", "name", "real_name"):
                user[key] = value
        return user

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self._user_object(str(args.get("user", "")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user}

    def _users_lookup_by_email(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args.get("email", "")).lower()
        for user_id, entry in self.users.items():
            if str(entry.get("email", "")).lower() == email and email:
                user = self._user_object(user_id)
                return {"ok": True, "user": user}
        return {"ok": False, "error": "users_not_found"}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("channel"):
            return {"ok": True, "no_op": True, "already_open": True, "channel": {"id": str(args["channel"])}}
        users = _split_ids(args.get("users"))
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        channel_id = "D" + users[0] if len(users) == 1 else "G" + secrets.token_hex(5).upper()
        return {"ok": True, "no_op": False, "already_open": False, "channel": {"id": channel_id}}

    def _next_ts(self) -> str:
        n = next(self._ts_counter) * 100
        return f"{_TS_BASE_SECONDS + n // 1_000_000}.{n % 1_000_000:06d}"

    @staticmethod
    def _channel_for(channel: Any) -> str:
        channel_id = str(channel)
        # Posting to a user id posts into the bot's DM with that user.
        if channel_id[:1] in ("U", "W"):
            return "D" + channel_id
        return channel_id

    def _bot_message(self, ts: str, args: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "text": args.get("text", ""),
            "ts": ts,
            "team": self.team_id,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if args.get(key) is not None:
                message[key] = args[key]
        return message

    def _chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            return {"ok": False, "error": "no_text"}
        ts = self._next_ts()
        return {
            "ok": True,
            "channel": self._channel_for(args["channel"]),
            "ts": ts,
            "message": self._bot_message(ts, args),
        }

    def _chat_post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            return {"ok": False, "error": "no_text"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        entry = self.files.get(str(args.get("file") or ""))
        if entry is None or not entry[2]:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "file": dict(entry[0]), "comments": [], "response_metadata": {"next_cursor": ""}}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("ts"):
            return {"ok": False, "error": "message_not_found"}
        ts = str(args["ts"])
        return {
            "ok": True,
            "channel": str(args["channel"]),
            "ts": ts,
            "text": args.get("text", ""),
            "message": self._bot_message(ts, args),
        }

    def _new_view_id(self) -> str:
        return f"V0FAKE{next(self._view_counter):04d}"

    def _views(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        submitted = args.get("view")
        if not isinstance(submitted, dict):
            return {"ok": False, "error": "invalid_arguments"}
        if method in ("views.open", "views.push") and not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_arguments"}
        if method == "views.publish" and not args.get("user_id"):
            return {"ok": False, "error": "invalid_arguments"}

        previous: dict[str, Any] = {}
        if method == "views.update":
            view_id = str(args.get("view_id") or "")
            if not view_id and args.get("external_id"):
                view_id = next(
                    (vid for vid, v in self.views.items() if v.get("external_id") == args["external_id"]), ""
                )
            view_id = view_id or self._new_view_id()
            previous = self.views.get(view_id, {})
        elif method == "views.publish":
            user_id = str(args["user_id"])
            view_id = self._home_views.setdefault(user_id, self._new_view_id())
        else:
            view_id = self._new_view_id()

        view: dict[str, Any] = {
            "id": view_id,
            "team_id": self.team_id,
            "type": submitted.get("type", "home" if method == "views.publish" else "modal"),
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "state": {"values": {}},
            "hash": f"{_TS_BASE_SECONDS}.{secrets.token_hex(4)}",
            "clear_on_close": False,
            "notify_on_close": False,
            "previous_view_id": None,
            "root_view_id": previous.get("root_view_id", view_id),
            "app_id": self.app_id,
            "external_id": "",
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        view.update({key: value for key, value in submitted.items() if key not in ("id", "hash", "state")})
        self.views[view_id] = view
        return {"ok": True, "view": view}

    def _usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "users": list(self.usergroups.get(str(args.get("usergroup", "")), []))}
