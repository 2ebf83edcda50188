"""The unit of work: one session, one transaction, and the outbox written in it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.adapters import tables
from portal.adapters.fault_reports import FaultReportRepository
from portal.adapters.repositories import (
    AccountRepository,
    ChargerRepository,
    OrganizationRepository,
    ReferenceCounter,
    RequestRepository,
)
from portal.domain.events import DomainEvent

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class UnitOfWork:
    """`async with uow:` opens a session; `await uow.commit()` writes the changes and their events together.

    Leaving the block without committing rolls everything back. One instance serves one use case: make a new
    one per call (see `UnitOfWorkFactory`), never share a session between tasks.
    """

    session: AsyncSession
    organizations: OrganizationRepository
    accounts: AccountRepository
    chargers: ChargerRepository
    requests: RequestRepository
    references: ReferenceCounter
    faults: FaultReportRepository

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], clock: Clock = utc_now) -> None:
        self._session_factory = session_factory
        self.clock = clock
        self._events: list[DomainEvent] = []

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        self.organizations = OrganizationRepository(self.session)
        self.accounts = AccountRepository(self.session)
        self.chargers = ChargerRepository(self.session)
        self.requests = RequestRepository(self.session)
        self.references = ReferenceCounter(self.session)
        self.faults = FaultReportRepository(self.session)
        self._events = []
        await self.session.begin()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self.session.rollback()
        finally:
            await self.session.close()

    def record(self, event: DomainEvent) -> None:
        """An event that belongs to no request (e.g. an account linked to an organization)."""
        self._events.append(event)

    async def recorded_under(self, key: str) -> bool:
        """Whether an event recorded under `key` (`DomainEvent.key`) is in the outbox."""
        found = await self.session.scalar(select(tables.outbox.c.id).where(tables.outbox.c.origin_key == key))
        return found is not None

    async def commit(self) -> None:
        events = self._collect_events()
        if events:
            now = self.clock()
            await self.session.execute(
                insert(tables.outbox),
                [
                    {
                        "name": e.name,
                        "reference": e.reference,
                        "payload": e.payload,
                        "origin_key": e.key,
                        "created_at": now,
                    }
                    for e in events
                ],
            )
        await self.session.commit()

    def _collect_events(self) -> list[DomainEvent]:
        events, self._events = self._events, []
        for request in self.requests.seen:
            events.extend(request.events)
            request.events = []
        return events


UnitOfWorkFactory = Callable[[], UnitOfWork]
