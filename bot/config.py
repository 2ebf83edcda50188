"""The assistant's configuration (environment or .env, DESIGN.md §5), read when asked, never at import time."""

from __future__ import annotations

import re
from importlib.util import find_spec
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import NoDecode

from portal.languages import DEFAULT_LANGUAGE, Language
from portal.settings import PortalSettings


def _design_root() -> Path:
    """Where the conversation design (domain/, data/, config.yml, in Rasa 3 format) is.

    In a checkout (and an editable install) it is the top of the repository, beside bot/, where Rasa's CLI expects it.
    `pip install .` ships it as the data-only package chargedesk_design (pyproject.toml maps it), found through the
    import system so the assistant runs from any directory. A wheel installs it as a plain folder, hence a Path.
    """
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "config.yml").is_file() and (checkout / "domain").is_dir():
        return checkout
    spec = find_spec("chargedesk_design")
    for location in (spec.submodule_search_locations or []) if spec else []:
        if (Path(location) / "config.yml").is_file():
            return Path(location)
    raise RuntimeError("the conversation design is missing: reinstall chargedesk (pip install .)")


DESIGN_ROOT = _design_root()

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
LogFormat = Literal["text", "json"]
_URL = "an http(s) URL, e.g. http://localhost:5005"


class Settings(PortalSettings):
    """Every setting of the assistant, each from the variable named by its alias; `Settings.from_env()` reads them."""

    slack_bot_token: SecretStr | None = Field(
        None, alias="SLACK_BOT_TOKEN", description="the app's bot token, xoxb-… (OAuth & Permissions)"
    )
    slack_signing_secret: SecretStr | None = Field(
        None, alias="SLACK_SIGNING_SECRET", description="the app's signing secret (Basic Information)"
    )
    slack_app_token: SecretStr | None = Field(  # set: Socket Mode
        None, alias="SLACK_APP_TOKEN", description="an app-level token with connections:write, xapp-…"
    )
    slack_api_url: str | None = Field(  # the Web API base URL (tests point it at a fake on loopback)
        None, alias="SLACK_API_URL", description="an http(s) URL ending in /, e.g. https://slack.com/api/"
    )
    rasa_url: str | None = Field(None, alias="RASA_URL", description=_URL)
    action_endpoint_url: str | None = Field(
        None, alias="ACTION_ENDPOINT_URL", description="an http(s) URL, e.g. http://localhost:5055/webhook"
    )
    log_level: LogLevel = Field(
        "WARNING", alias="LOG_LEVEL", description="one of DEBUG, INFO, WARNING, ERROR, CRITICAL"
    )
    log_format: LogFormat = Field("text", alias="LOG_FORMAT", description="text (timestamped lines) or json")
    # HTTP mode: /slack/events and the probes; Socket Mode: the probes and /metrics only.
    port: int = Field(3000, ge=1, le=65535, alias="PORT", description="a TCP port number, 1 to 65535")
    triage_channel: str | None = Field(
        None, alias="CHARGEDESK_TRIAGE_CHANNEL", description="a channel id, e.g. C0123456789"
    )
    agent_users: Annotated[frozenset[str], NoDecode] = Field(
        frozenset(), alias="CHARGEDESK_AGENT_USERS", description="user ids separated by commas, e.g. U0123,U0456"
    )
    agent_usergroup: str | None = Field(
        None, alias="CHARGEDESK_AGENT_USERGROUP", description="a user group id, e.g. S0123456789"
    )
    # The language of what agents read (triage cards, agent-only replies); customers are answered in their own.
    agent_language: Language = Field(
        DEFAULT_LANGUAGE, alias="CHARGEDESK_AGENT_LANGUAGE", description="one of en, nl, de, fr"
    )
    # Transfers without the Service Operator's answer go to support after this many days.
    transfer_expiry_days: int = Field(
        14, ge=1, alias="CHARGEDESK_TRANSFER_EXPIRY_DAYS", description="a whole number of days, 1 or more"
    )
    # One reminder to the Service Operator's people after a transfer waited this many days for their answer (0: none).
    consent_remind_days: int = Field(
        3, ge=0, alias="CHARGEDESK_CONSENT_REMIND_DAYS", description="a whole number of days, 0 (no reminder) or more"
    )
    # The daily SLA digest (late and unassigned requests) goes to the triage channel from this hour on, UTC.
    sla_digest_hour: int = Field(
        8, ge=0, le=23, alias="CHARGEDESK_SLA_DIGEST_HOUR", description="an hour of the day in UTC, 0 to 23"
    )
    # A request waiting for the customer's answer this many days gets one reminder to the requester.
    customer_remind_days: int = Field(
        3, ge=1, alias="CHARGEDESK_CUSTOMER_REMIND_DAYS", description="a whole number of days, 1 or more"
    )
    # ... and is closed this many days after support's question when no answer came (at least a day after the reminder).
    customer_close_days: int = Field(
        7,
        ge=2,
        alias="CHARGEDESK_CUSTOMER_CLOSE_DAYS",
        description="a whole number of days, more than CHARGEDESK_CUSTOMER_REMIND_DAYS",
    )
    # Processes `chargedesk run` starts to run conversation turns (0: it runs them itself).
    turn_workers: int = Field(
        0, ge=0, alias="CHARGEDESK_TURN_WORKERS", description="a whole number of processes, 0 or more"
    )
    design_root: Path = Field(
        DESIGN_ROOT, alias="CHARGEDESK_DESIGN_ROOT", description="a folder with domain/, data/ and config.yml"
    )
    # The trained classifier is kept here between starts (bot.engine.model_cache, whose DEFAULT_CACHE this equals;
    # not imported, so that reading settings does not load numpy), relative to the working directory like the default
    # SQLite database; a start with unchanged data and code then trains nothing.
    model_cache: Path = Field(
        Path("var") / "models",
        alias="CHARGEDESK_MODEL_CACHE",
        description="a folder the process may write, e.g. var/models",
    )

    @field_validator("customer_close_days")
    @classmethod
    def _after_the_reminder(cls, value: int, info: ValidationInfo) -> int:
        remind = info.data.get("customer_remind_days")
        if isinstance(remind, int) and value <= remind:
            raise ValueError("the close comes before (or with) the reminder")
        return value

    @field_validator("slack_bot_token", "slack_app_token")
    @classmethod
    def _a_token(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        prefix = "xapp-" if info.field_name == "slack_app_token" else "xoxb-"
        if value is not None and not value.get_secret_value().startswith(prefix):
            raise ValueError(f"not a {prefix} token")
        return value

    @field_validator("slack_api_url", "rasa_url", "action_endpoint_url")
    @classmethod
    def _an_http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"https?://[^/\s]+", value.strip()):
            raise ValueError("not an http(s) URL")
        return value.strip() if value else value

    @field_validator("triage_channel", "agent_usergroup")
    @classmethod
    def _a_slack_id(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Z][A-Z0-9]{2,}", value.strip()):
            raise ValueError("not a Slack id")
        return value.strip() if value else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("agent_users", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(user.strip() for user in value.split(",") if user.strip())
        return value

    def __repr__(self) -> str:
        # Never print tokens, the signing secret or the database password (settings end up in logs and tracebacks).
        return (
            f"Settings(database={self.database_url.split('@')[-1]!r}, slack={'yes' if self.slack_bot_token else 'no'})"
        )

    __str__ = __repr__
