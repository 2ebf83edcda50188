"""Choosing what answers the conversation: the embedded engine, or a Rasa server when RASA_URL is set."""

from __future__ import annotations

from bot.config import Settings
from bot.engine.engine import Assistant, Engine
from bot.engine.store import TrackerStore
from portal.bootstrap import Portal


def open_assistant(settings: Settings, portal: Portal) -> Assistant:
    if settings.rasa_url:
        # Imported only when chosen: the embedded engine's processes need no HTTP client for it.
        from bot.engine.rasa_server import RasaServer

        return RasaServer(settings.rasa_url)
    return Engine.build(
        settings.design_root,
        TrackerStore(portal.engine),
        action_endpoint=settings.action_endpoint_url,
        dependencies={"portal": portal},
        model_cache=settings.model_cache,
    )
