"""The assistant's configuration (environment or .env, DESIGN.md §5), read when asked, never at import time."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from portal.settings import database_url

# The conversation design (domain/, data/, config.yml, in Rasa 3 format), shipped inside the package: found through
# importlib.resources, so `pip install .` runs from any directory. Wheels install as plain folders, hence a Path.
DESIGN_ROOT = Path(str(files("bot") / "design"))


@dataclass(frozen=True)
class Settings:
    database_url: str
    slack_bot_token: str | None
    rasa_url: str | None
    action_endpoint_url: str | None
    log_level: str
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None  # set: Socket Mode
    slack_api_url: str | None = None  # the Web API base URL (tests point it at a fake on loopback)
    port: int = 3000
    triage_channel: str | None = None
    agent_users: frozenset[str] = frozenset()
    agent_usergroup: str | None = None
    transfer_expiry_days: int = 14  # transfers without the Service Operator's answer go to support after this
    turn_workers: int = 0  # processes `chargedesk run` starts to run conversation turns (0: it runs them itself)
    design_root: Path = DESIGN_ROOT

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=database_url(),
            slack_bot_token=_optional("SLACK_BOT_TOKEN"),
            rasa_url=_optional("RASA_URL"),
            action_endpoint_url=_optional("ACTION_ENDPOINT_URL"),
            log_level=os.environ.get("LOG_LEVEL", "WARNING").upper(),
            slack_signing_secret=_optional("SLACK_SIGNING_SECRET"),
            slack_app_token=_optional("SLACK_APP_TOKEN"),
            slack_api_url=_optional("SLACK_API_URL"),
            port=int(os.environ.get("PORT", "3000")),
            triage_channel=_optional("CHARGEDESK_TRIAGE_CHANNEL"),
            agent_users=frozenset(
                u.strip() for u in os.environ.get("CHARGEDESK_AGENT_USERS", "").split(",") if u.strip()
            ),
            agent_usergroup=_optional("CHARGEDESK_AGENT_USERGROUP"),
            transfer_expiry_days=int(os.environ.get("CHARGEDESK_TRANSFER_EXPIRY_DAYS", "14")),
            turn_workers=int(os.environ.get("CHARGEDESK_TURN_WORKERS", "0")),
        )

    def __repr__(self) -> str:
        # Never print tokens or the signing secret (settings end up in logs and tracebacks).
        return (
            f"Settings(database={self.database_url.split('@')[-1]!r}, slack={'yes' if self.slack_bot_token else 'no'})"
        )


def _optional(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None
