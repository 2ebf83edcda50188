"""The Slack app manifest asks for what the app listens to: each bot event needs its scope, or Slack refuses the
manifest (or, worse, silently sends nothing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"
# The scope Slack requires for each bot event the app subscribes to (api.slack.com/events).
SCOPE_OF_EVENT = {
    "app_mention": "app_mentions:read",
    "message.im": "im:history",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "app_home_opened": None,
}


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return loaded


def test_every_subscribed_event_has_its_scope() -> None:
    events = manifest()["settings"]["event_subscriptions"]["bot_events"]
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    assert set(events) <= SCOPE_OF_EVENT.keys(), "a new event: add the scope it needs here"
    assert {SCOPE_OF_EVENT[e] for e in events if SCOPE_OF_EVENT[e]} <= scopes


def test_customer_replies_and_their_files_reach_the_app() -> None:
    """Issue 16 §2: replies in requests' channel threads (public and private channels) and the files attached."""
    events = set(manifest()["settings"]["event_subscriptions"]["bot_events"])
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    assert {"message.channels", "message.groups", "message.im", "app_mention"} <= events
    assert {"channels:history", "groups:history", "files:read"} <= scopes
