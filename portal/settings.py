"""The portal's own configuration, from the environment or a .env file. Read when asked, never at import time."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from portal.domain.requests import RequestKind
from portal.domain.sla import DEFAULT_TARGETS, DEFAULT_WARNING_SHARE, SlaRules, format_duration, parse_targets

DEFAULT_SQLITE_PATH = Path("var") / "chargedesk.db"
DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH}"


class SettingsError(ValueError):
    """A variable of the environment or .env has the wrong form; the message names each one and the form expected."""


class EnvironmentSettings(BaseSettings):
    """Settings read from the environment, then .env in the working directory; each field's alias is its variable.

    Built by hand (`Settings(port=3001)`), a class reads nothing but the given values and its defaults, so tests
    do not depend on the machine's environment; `from_env()` reads the environment and .env.
    """

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",  # the environment holds much more than our variables
        frozen=True,
        validate_by_name=True,
        validate_by_alias=True,
    )
    _from_environment: ClassVar[bool] = False

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        if cls._from_environment:
            return init_settings, env_settings, dotenv_settings
        return (init_settings,)

    @classmethod
    def from_env(cls) -> Self:
        """The settings of the environment and .env; a `SettingsError` names every variable of the wrong form."""
        try:
            settings: Self = _reading(cls)()
        except ValidationError as error:
            raise SettingsError(explain(error, cls)) from None
        return settings

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        # "SLACK_APP_TOKEN=" or spaces in .env mean "not set", as an absent variable does.
        return None if isinstance(value, str) and not value.strip() else value


S = TypeVar("S", bound=EnvironmentSettings)


@cache
def _reading(cls: type[S]) -> type[S]:
    """`cls` with the environment and .env as sources (a class is made once: pydantic builds validators for it)."""
    return type(cls.__name__, (cls,), {"_from_environment": True, "__module__": cls.__module__})


def explain(error: ValidationError, model: type[BaseModel]) -> str:
    """One line per problem: the variable, the form it needs (the field's description), and what it got."""
    by_key = {key: (name, field) for name, field in model.model_fields.items() for key in (name, field.alias or name)}
    lines = []
    for problem in error.errors():
        key = str(problem["loc"][0]) if problem["loc"] else ""
        name, field = by_key.get(key, (key, None))
        variable = (field.alias if field else None) or name.upper()
        expected = (field.description if field else None) or problem["msg"]
        secret = field is not None and "secret" in str(field.annotation).lower()
        got = "" if secret else f" (got {problem['input']!r})"  # never print a token or a secret
        lines.append(f"{variable}: expected {expected}{got}")
    return "\n".join(lines)


_SLA_FORM = (
    "two durations separated by a slash, the first response's and the resolution's, each a whole number and m, h "
    "or d, the first no longer than the second, e.g. 4h/3d"
)


def _targets_text(kind: RequestKind) -> str:
    targets = DEFAULT_TARGETS[kind]
    return f"{format_duration(targets.first_response)}/{format_duration(targets.resolution)}"


class PortalSettings(EnvironmentSettings):
    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        alias="DATABASE_URL",
        description="a SQLAlchemy URL with an async driver, e.g. postgresql+asyncpg://user:password@host/chargedesk "
        "or sqlite+aiosqlite:///var/chargedesk.db",
    )

    # How long after its resolution the requester's side may reopen a service ticket; after that, a new one follows it.
    reopen_days: int = Field(14, ge=0, alias="CHARGEDESK_REOPEN_DAYS", description="a whole number of days, 0 or more")

    # Support's targets per kind: the first response's, a slash, the resolution's (support's time: the clock pauses
    # while the customer's answer is awaited). portal/domain/sla.py says why the defaults are what they are.
    sla_service_ticket: str = Field(
        _targets_text(RequestKind.SERVICE_TICKET), alias="CHARGEDESK_SLA_SERVICE_TICKET", description=_SLA_FORM
    )
    sla_administrative: str = Field(
        _targets_text(RequestKind.ADMINISTRATIVE), alias="CHARGEDESK_SLA_ADMINISTRATIVE", description=_SLA_FORM
    )
    sla_transfer: str = Field(
        _targets_text(RequestKind.TRANSFER), alias="CHARGEDESK_SLA_TRANSFER", description=_SLA_FORM
    )
    # "Due soon" (and the assignee's DM) when less than this share of a target is left.
    sla_warning_share: float = Field(
        DEFAULT_WARNING_SHARE,
        gt=0,
        lt=1,
        alias="CHARGEDESK_SLA_WARNING_SHARE",
        description="a share of the target between 0 and 1, e.g. 0.25",
    )

    @field_validator("sla_service_ticket", "sla_administrative", "sla_transfer")
    @classmethod
    def _sla_targets(cls, value: str) -> str:
        parse_targets(value)  # a ValueError names what is wrong
        return value.strip()

    def sla_rules(self) -> SlaRules:
        """The targets of every kind, as the domain reads them."""
        texts = {
            RequestKind.SERVICE_TICKET: self.sla_service_ticket,
            RequestKind.ADMINISTRATIVE: self.sla_administrative,
            RequestKind.TRANSFER: self.sla_transfer,
        }
        return SlaRules({kind: parse_targets(text) for kind, text in texts.items()}, self.sla_warning_share)

    @field_validator("database_url")
    @classmethod
    def _a_url(cls, value: str) -> str:
        try:
            make_url(value)
        except ArgumentError:
            raise ValueError("not a database URL") from None
        return value.strip()


def database_url(settings: PortalSettings | None = None) -> str:
    """`DATABASE_URL` (of `settings`, else of the environment or .env), or a SQLite file under ./var/ (created on
    demand)."""
    url = (settings or PortalSettings.from_env()).database_url
    if url == DEFAULT_DATABASE_URL:
        DEFAULT_SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    return url
