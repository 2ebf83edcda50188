"""The assistant's configuration (environment or .env, DESIGN.md §5), read when asked, never at import time."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from portal.settings import database_url

DESIGN_ROOT = Path(__file__).resolve().parent.parent  # domain/, data/, config.yml


@dataclass(frozen=True)
class Settings:
    database_url: str
    slack_bot_token: str | None
    rasa_url: str | None
    action_endpoint_url: str | None
    log_level: str
    design_root: Path = DESIGN_ROOT

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=database_url(),
            slack_bot_token=_optional("SLACK_BOT_TOKEN"),
            rasa_url=_optional("RASA_URL"),
            action_endpoint_url=_optional("ACTION_ENDPOINT_URL"),
            log_level=os.environ.get("LOG_LEVEL", "WARNING").upper(),
        )


def _optional(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None
