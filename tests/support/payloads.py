"""Builders for the payloads Slack sends an app, in Slack's own shapes (api.slack.com reference + bolt's fixtures).

* Events API: ``app_mention``, ``message``/``message_im``, ``bot_message``, ``app_home_opened`` return the inner
  ``event``; ``SlackSender.event`` wraps it in the ``event_callback`` envelope.
* Interactivity: ``block_actions``, ``block_actions_in_view``, ``view_submission``, ``view_closed``,
  ``block_suggestion``, ``shortcut``, ``message_action`` return the JSON that Slack posts as ``payload=<json>``
  (``SlackSender.interaction``).
* Slash commands: ``slash_command`` returns the form fields (``SlackSender.command``).

Slack Connect (users of another workspace in a shared channel): ``user_team`` is the acting user's workspace.
In events it becomes ``event.team``/``event.user_team``/``event.source_team`` (the installed workspace stays in the
envelope's ``authorizations[0].team_id``). In interaction payloads Slack reports the acting user's workspace in
both ``user.team_id`` and ``team.id``; the workspace the app is installed in shows up only where Slack puts it
(``view.app_installed_team_id``, the bot message's ``team``). In slash commands ``team_id`` is the user's workspace.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from tests.support.fake_slack import APP_ID, BOT_ID, BOT_USER_ID, HOME_TEAM_ID

VERIFICATION_TOKEN = "Fk3Vq0wTnR8pZl2mYc7sXb1d"  # the deprecated verification token Slack still sends
DEFAULT_RESPONSE_URL = "http://127.0.0.1:9/response"  # loopback, nothing listens: posting there fails fast
HOME_TEAM_DOMAIN = "chargedesk-support"

_counter = itertools.count(1)
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


# ---------------------------------------------------------------------- ids and small parts


def team_domain(team: str) -> str:
    return HOME_TEAM_DOMAIN if team == HOME_TEAM_ID else f"{team.lower()}-workspace"


def username_for(user: str) -> str:
    return f"user.{user.lower()}"


def new_trigger_id() -> str:
    """A fresh trigger_id in Slack's shape, e.g. ``1700000123.4815162342.8d0e…``."""
    n = next(_counter)
    return f"{1_700_000_000 + n}.{secrets.randbelow(10**10):010d}.{secrets.token_hex(16)}"


def next_ts() -> str:
    """A fresh, increasing message timestamp such as ``1700001234.000100``."""
    n = next(_counter)
    return f"{1_700_001_000 + n}.{n % 1_000_000:06d}"


def _action_ts() -> str:
    return f"{time.time():.6f}"


def _plain_text(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _option(value: str, text: str | None = None) -> dict[str, Any]:
    return {"text": _plain_text(text if text is not None else value), "value": value}


def _team(team: str) -> dict[str, Any]:
    return {"id": team, "domain": team_domain(team)}


def _user(user: str, team: str, username: str | None) -> dict[str, Any]:
    name = username or username_for(user)
    return {"id": user, "username": name, "name": name, "team_id": team}


def rich_text(text: str) -> list[dict[str, Any]]:
    """The ``rich_text`` block Slack adds to a user's message, with ``<@U…>`` mentions as user elements."""
    elements: list[dict[str, Any]] = []
    position = 0
    for match in _MENTION.finditer(text):
        if match.start() > position:
            elements.append({"type": "text", "text": text[position : match.start()]})
        elements.append({"type": "user", "user_id": match.group(1)})
        position = match.end()
    if position < len(text):
        elements.append({"type": "text", "text": text[position:]})
    return [
        {
            "type": "rich_text",
            "block_id": secrets.token_hex(2),
            "elements": [{"type": "rich_text_section", "elements": elements}],
        }
    ]


# ---------------------------------------------------------------------- Events API (inner events)


def message(
    user: str,
    text: str,
    channel: str,
    ts: str,
    *,
    channel_type: str = "channel",
    thread_ts: str | None = None,
    team: str = HOME_TEAM_ID,
    user_team: str | None = None,
    files: Sequence[Mapping[str, Any]] = (),
    subtype: str | None = None,
) -> dict[str, Any]:
    """A user's ``message`` event (``channel_type``: "im", "channel", "group", "mpim"); with ``files`` (as
    FakeSlack.add_file returns them) a message that shares them, as current clients send it (older ones add the
    ``subtype`` "file_share")."""
    actor_team = user_team or team
    event: dict[str, Any] = {
        "client_msg_id": str(uuid.uuid4()),
        "type": "message",
        "text": text,
        "user": user,
        "ts": ts,
        "blocks": rich_text(text),
        "team": actor_team,
        "user_team": actor_team,
        "source_team": actor_team,
        "channel": channel,
        "event_ts": ts,
        "channel_type": channel_type,
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
        event["parent_user_id"] = BOT_USER_ID
    _share(event, files, subtype)
    return event


def _share(event: dict[str, Any], files: Sequence[Mapping[str, Any]], subtype: str | None) -> None:
    if files:
        event["files"] = [dict(f) for f in files]
        event["upload"] = False
        event["display_as_bot"] = False
    if subtype is not None:
        event["subtype"] = subtype


def message_im(
    user: str,
    text: str,
    channel: str,
    ts: str,
    team: str = HOME_TEAM_ID,
    user_team: str | None = None,
    *,
    thread_ts: str | None = None,
    files: Sequence[Mapping[str, Any]] = (),
    subtype: str | None = None,
) -> dict[str, Any]:
    """A direct message to the bot (``message.im``): type "message", channel_type "im", channel "D…"."""
    return message(
        user,
        text,
        channel,
        ts,
        channel_type="im",
        thread_ts=thread_ts,
        team=team,
        user_team=user_team,
        files=files,
        subtype=subtype,
    )


def app_mention(
    user: str,
    text: str,
    channel: str,
    ts: str,
    thread_ts: str | None = None,
    team: str = HOME_TEAM_ID,
    user_team: str | None = None,
    files: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """An ``app_mention`` event; ``text`` should contain ``<@UBOT>`` as Slack's does."""
    actor_team = user_team or team
    event: dict[str, Any] = {
        "client_msg_id": str(uuid.uuid4()),
        "type": "app_mention",
        "text": text,
        "user": user,
        "ts": ts,
        "blocks": rich_text(text),
        "team": actor_team,
        "channel": channel,
        "event_ts": ts,
    }
    if user_team is not None:
        event["user_team"] = user_team
        event["source_team"] = user_team
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    _share(event, files, None)
    return event


def bot_message(
    text: str,
    channel: str,
    ts: str,
    *,
    bot_user_id: str = BOT_USER_ID,
    bot_id: str = BOT_ID,
    team: str = HOME_TEAM_ID,
    channel_type: str = "im",
    thread_ts: str | None = None,
) -> dict[str, Any]:
    """The ``message`` event Slack echoes for a message the bot itself posted (bolt ignores these by default)."""
    event: dict[str, Any] = {
        "type": "message",
        "text": text,
        "user": bot_user_id,
        "bot_id": bot_id,
        "app_id": APP_ID,
        "bot_profile": {"id": bot_id, "app_id": APP_ID, "name": "ChargeDesk", "deleted": False, "team_id": team},
        "ts": ts,
        "team": team,
        "channel": channel,
        "event_ts": ts,
        "channel_type": channel_type,
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    return event


def app_home_opened(user: str, channel: str | None = None, tab: str = "home") -> dict[str, Any]:
    """The user opened the app's Home (``tab="home"``) or Messages (``tab="messages"``) tab."""
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": channel or f"D{user}",
        "tab": tab,
        "event_ts": f"{time.time():.6f}",
    }


# ---------------------------------------------------------------------- interactivity


def _action(
    action_id: str,
    block_id: str,
    value: str | None,
    selected_value: str | None,
    selected_text: str | None,
    button_text: str,
) -> dict[str, Any]:
    if value is not None and selected_value is not None:
        raise ValueError("give `value` (a button) or `selected_value` (a static_select), not both")
    if selected_value is not None:
        return {
            "type": "static_select",
            "action_id": action_id,
            "block_id": block_id,
            "selected_option": _option(selected_value, selected_text),
            "placeholder": _plain_text("Select an item"),
            "action_ts": _action_ts(),
        }
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id,
        "text": _plain_text(button_text),
        "type": "button",
        "action_ts": _action_ts(),
    }
    if value is not None:
        action["value"] = value
    return action


def block_actions(
    user: str,
    team: str,
    channel: str,
    message_ts: str,
    action_id: str,
    value: str | None = None,
    selected_value: str | None = None,
    block_id: str = "b",
    trigger_id: str | None = None,
    thread_ts: str | None = None,
    is_ephemeral: bool = False,
    user_team: str | None = None,
    *,
    selected_text: str | None = None,
    button_text: str = "Button",
    message_text: str = "",
    message_blocks: Sequence[Mapping[str, Any]] | None = None,
    response_url: str = DEFAULT_RESPONSE_URL,
    channel_name: str | None = None,
    username: str | None = None,
) -> dict[str, Any]:
    """A click on a button (``value``) or a choice in a static_select (``selected_value``) in a bot message.

    ``team`` is the workspace the app is installed in (the bot message's team); with ``user_team`` the click comes
    from a Slack Connect user, and Slack then reports that workspace in ``user.team_id`` and ``team.id``.
    Ephemeral messages carry no ``message`` field, as in Slack.
    """
    actor_team = user_team or team
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel,
        "is_ephemeral": is_ephemeral,
    }
    if thread_ts is not None:
        container["thread_ts"] = thread_ts
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user, actor_team, username),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": container,
        "trigger_id": trigger_id or new_trigger_id(),
        "team": _team(actor_team),
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": channel_name or ("directmessage" if channel.startswith("D") else "support")},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [_action(action_id, block_id, value, selected_value, selected_text, button_text)],
    }
    if not is_ephemeral:
        bot_msg: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "text": message_text,
            "ts": message_ts,
            "team": team,
            "blocks": [dict(block) for block in message_blocks or []],
        }
        if thread_ts is not None:
            bot_msg["thread_ts"] = thread_ts
        payload["message"] = bot_msg
    return payload


def _modal(
    *,
    view_id: str,
    team: str,
    installed_team: str,
    callback_id: str,
    private_metadata: str,
    values: Mapping[str, Mapping[str, Mapping[str, Any]]],
    blocks: Sequence[Mapping[str, Any]] | None,
    title: str,
    view_hash: str | None,
    external_id: str,
    root_view_id: str | None,
    previous_view_id: str | None,
) -> dict[str, Any]:
    return {
        "id": view_id,
        "team_id": team,
        "type": "modal",
        "blocks": [dict(block) for block in blocks or []],
        "private_metadata": private_metadata,
        "callback_id": callback_id,
        "state": {
            "values": {
                block_id: {action_id: dict(state) for action_id, state in actions.items()}
                for block_id, actions in values.items()
            }
        },
        "hash": view_hash or f"{int(time.time())}.{secrets.token_urlsafe(6)[:8]}",
        "title": _plain_text(title),
        "clear_on_close": False,
        "notify_on_close": False,
        "close": _plain_text("Cancel"),
        "submit": _plain_text("Submit"),
        "previous_view_id": previous_view_id,
        "root_view_id": root_view_id or view_id,
        "app_id": APP_ID,
        "external_id": external_id,
        "app_installed_team_id": installed_team,
        "bot_id": BOT_ID,
    }


def view_submission(
    user: str,
    team: str,
    callback_id: str,
    private_metadata: str,
    values: Mapping[str, Mapping[str, Mapping[str, Any]]],
    view_id: str = "V1",
    trigger_id: str | None = None,
    *,
    user_team: str | None = None,
    blocks: Sequence[Mapping[str, Any]] | None = None,
    title: str = "ChargeDesk",
    view_hash: str | None = None,
    external_id: str = "",
    root_view_id: str | None = None,
    previous_view_id: str | None = None,
    response_urls: Sequence[Mapping[str, str]] | None = None,
    username: str | None = None,
) -> dict[str, Any]:
    """A modal submitted; ``values`` is ``view.state.values``: ``{block_id: {action_id: state}}``.

    Build each state with ``plain_text_value`` & co. ``team`` is the installed workspace
    (``view.app_installed_team_id``, which bolt prefers for ``context.team_id``); with ``user_team`` the submitter
    is a Slack Connect user.
    """
    actor_team = user_team or team
    return {
        "type": "view_submission",
        "team": _team(actor_team),
        "user": _user(user, actor_team, username),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(),
        "view": _modal(
            view_id=view_id,
            team=actor_team,
            installed_team=team,
            callback_id=callback_id,
            private_metadata=private_metadata,
            values=values,
            blocks=blocks,
            title=title,
            view_hash=view_hash,
            external_id=external_id,
            root_view_id=root_view_id,
            previous_view_id=previous_view_id,
        ),
        "response_urls": [dict(url) for url in response_urls or []],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def view_closed(
    user: str,
    team: str,
    callback_id: str,
    private_metadata: str = "",
    view_id: str = "V1",
    *,
    is_cleared: bool = False,
    user_team: str | None = None,
    values: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
) -> dict[str, Any]:
    """A modal cancelled (sent only for views opened with ``notify_on_close: true``)."""
    actor_team = user_team or team
    view = _modal(
        view_id=view_id,
        team=actor_team,
        installed_team=team,
        callback_id=callback_id,
        private_metadata=private_metadata,
        values=values or {},
        blocks=None,
        title="ChargeDesk",
        view_hash=None,
        external_id="",
        root_view_id=None,
        previous_view_id=None,
    )
    view["notify_on_close"] = True
    return {
        "type": "view_closed",
        "team": _team(actor_team),
        "user": _user(user, actor_team, None),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "view": view,
        "is_cleared": is_cleared,
        "is_enterprise_install": False,
        "enterprise": None,
    }


def block_actions_in_view(
    user: str,
    team: str,
    view_id: str,
    callback_id: str,
    action_id: str,
    value: str | None = None,
    selected_value: str | None = None,
    block_id: str = "b",
    *,
    private_metadata: str = "",
    values: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
    trigger_id: str | None = None,
    user_team: str | None = None,
    selected_text: str | None = None,
    button_text: str = "Button",
) -> dict[str, Any]:
    """A button/select inside an open modal: container ``{"type": "view"}``, a ``view``, no channel/response_url."""
    actor_team = user_team or team
    view = _modal(
        view_id=view_id,
        team=actor_team,
        installed_team=team,
        callback_id=callback_id,
        private_metadata=private_metadata,
        values=values or {},
        blocks=None,
        title="ChargeDesk",
        view_hash=None,
        external_id="",
        root_view_id=None,
        previous_view_id=None,
    )
    return {
        "type": "block_actions",
        "user": _user(user, actor_team, None),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {"type": "view", "view_id": view_id},
        "trigger_id": trigger_id or new_trigger_id(),
        "team": _team(actor_team),
        "enterprise": None,
        "is_enterprise_install": False,
        "view": view,
        "actions": [_action(action_id, block_id, value, selected_value, selected_text, button_text)],
    }


def block_suggestion(
    user: str,
    team: str,
    action_id: str,
    block_id: str,
    value: str,
    view_callback_id: str,
    private_metadata: str = "",
    *,
    view_id: str = "V1",
    user_team: str | None = None,
    values: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
) -> dict[str, Any]:
    """What an ``external_select`` in a modal asks for as the user types ``value`` (the app acks with options)."""
    actor_team = user_team or team
    return {
        "type": "block_suggestion",
        "user": _user(user, actor_team, None),
        "container": {"type": "view", "view_id": view_id},
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "action_id": action_id,
        "block_id": block_id,
        "value": value,
        "team": _team(actor_team),
        "enterprise": None,
        "is_enterprise_install": False,
        "view": _modal(
            view_id=view_id,
            team=actor_team,
            installed_team=team,
            callback_id=view_callback_id,
            private_metadata=private_metadata,
            values=values or {},
            blocks=None,
            title="ChargeDesk",
            view_hash=None,
            external_id="",
            root_view_id=None,
            previous_view_id=None,
        ),
    }


def shortcut(
    user: str,
    team: str,
    callback_id: str,
    trigger_id: str | None = None,
    *,
    user_team: str | None = None,
    username: str | None = None,
) -> dict[str, Any]:
    """A global shortcut (type ``shortcut``): no channel, no response_url."""
    actor_team = user_team or team
    return {
        "type": "shortcut",
        "token": VERIFICATION_TOKEN,
        "action_ts": _action_ts(),
        "team": _team(actor_team),
        "user": {"id": user, "username": username or username_for(user), "team_id": actor_team},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id or new_trigger_id(),
    }


def message_action(
    user: str,
    team: str,
    channel: str,
    callback_id: str,
    message_text: str,
    message_ts: str,
    trigger_id: str | None = None,
    message_user: str = "U0OTHER",
    *,
    user_team: str | None = None,
    response_url: str = DEFAULT_RESPONSE_URL,
    channel_name: str | None = None,
    username: str | None = None,
) -> dict[str, Any]:
    """A message shortcut (type ``message_action``) on a message by ``message_user``."""
    actor_team = user_team or team
    name = username or username_for(user)
    return {
        "type": "message_action",
        "token": VERIFICATION_TOKEN,
        "action_ts": _action_ts(),
        "team": _team(actor_team),
        "user": {"id": user, "name": name, "username": name, "team_id": actor_team},
        "channel": {"id": channel, "name": channel_name or ("directmessage" if channel.startswith("D") else "support")},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id or new_trigger_id(),
        "response_url": response_url,
        "message_ts": message_ts,
        "message": {
            "client_msg_id": str(uuid.uuid4()),
            "type": "message",
            "text": message_text,
            "user": message_user,
            "ts": message_ts,
            "team": team,
            "blocks": rich_text(message_text),
        },
    }


def slash_command(
    user: str,
    team: str,
    channel: str,
    command: str = "/support",
    text: str = "",
    trigger_id: str | None = None,
    user_team: str | None = None,
    *,
    channel_name: str | None = None,
    response_url: str = DEFAULT_RESPONSE_URL,
    username: str | None = None,
) -> dict[str, str]:
    """The form fields of a slash command (all strings; ``SlackSender.command`` form-encodes them)."""
    actor_team = user_team or team
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": actor_team,
        "team_domain": team_domain(actor_team),
        "channel_id": channel,
        "channel_name": channel_name or ("directmessage" if channel.startswith("D") else "support"),
        "user_id": user,
        "user_name": username or username_for(user),
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or new_trigger_id(),
    }


# ---------------------------------------------------------------------- view.state.values entries


def plain_text_value(value: str | None) -> dict[str, Any]:
    """A ``plain_text_input`` state; Slack sends ``"value": null`` for an empty optional input."""
    return {"type": "plain_text_input", "value": value}


def static_select_value(value: str | None, text: str | None = None) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": None if value is None else _option(value, text)}


def external_select_value(value: str | None, text: str | None = None) -> dict[str, Any]:
    return {"type": "external_select", "selected_option": None if value is None else _option(value, text)}


def radio_buttons_value(value: str | None, text: str | None = None) -> dict[str, Any]:
    return {"type": "radio_buttons", "selected_option": None if value is None else _option(value, text)}


def checkboxes_value(values: Sequence[str] | Mapping[str, str]) -> dict[str, Any]:
    """Ticked checkboxes: a list of values, or ``{value: label}``."""
    pairs = values.items() if isinstance(values, Mapping) else ((v, v) for v in values)
    return {"type": "checkboxes", "selected_options": [_option(value, text) for value, text in pairs]}


def multi_static_select_value(values: Sequence[str] | Mapping[str, str]) -> dict[str, Any]:
    pairs = values.items() if isinstance(values, Mapping) else ((v, v) for v in values)
    return {"type": "multi_static_select", "selected_options": [_option(value, text) for value, text in pairs]}


def file_input_value(files: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A file_input's state: the files uploaded, as Slack's file objects (FakeSlack.add_file gives them)."""
    return {"type": "file_input", "files": [dict(f) for f in files]}
