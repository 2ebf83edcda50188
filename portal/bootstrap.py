"""Wiring: one engine per process, a fresh unit of work per use case."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from portal.adapters.database import create_engine, create_session_factory
from portal.domain.service_tickets import DEFAULT_REOPEN_DAYS
from portal.domain.sla import SlaRules
from portal.migrations import upgrade_engine
from portal.settings import PortalSettings, database_url
from portal.unit_of_work import Clock, UnitOfWork, utc_now


@dataclass
class Portal:
    """The portal as the surfaces see it: call `portal.uow()` to get a new unit of work for each use case."""

    engine: AsyncEngine
    clock: Clock = utc_now
    # CHARGEDESK_REOPEN_DAYS: how long after its resolution a customer may reopen a service ticket.
    reopen_days: int = DEFAULT_REOPEN_DAYS
    # CHARGEDESK_SLA_*: support's targets per kind, and when a target counts as due soon.
    sla: SlaRules = field(default_factory=SlaRules.default)

    def __post_init__(self) -> None:
        self._sessions = create_session_factory(self.engine)

    @classmethod
    def connect(cls, url: str | None = None, clock: Clock = utc_now, settings: PortalSettings | None = None) -> Portal:
        # `settings`: those the caller read already (the bot's are a subclass). A settings class's first reading
        # builds its validators: tens of milliseconds of a start.
        settings = settings or PortalSettings.from_env()
        return cls(create_engine(url or database_url(settings)), clock, settings.reopen_days, settings.sla_rules())

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self._sessions, self.clock)

    async def upgrade(self) -> None:
        """Bring the schema to the newest migration."""
        await upgrade_engine(self.engine)

    async def close(self) -> None:
        await self.engine.dispose()
