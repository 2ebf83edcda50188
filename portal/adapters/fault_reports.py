"""The fault reports' queries (core SQL: a report is a plain record, not a mapped aggregate)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.adapters import tables
from portal.adapters.repositories import next_number
from portal.domain.faults import FAULT_PREFIX, FaultReport, FaultStatus, format_fault_reference

_fr = tables.fault_reports
# Support has them: the operator said "not ours", or nobody of it could be reached.
_WITH_SUPPORT = (FaultStatus.NOT_OURS.value, FaultStatus.TO_SUPPORT.value)


def _report(row: Row[Any]) -> FaultReport:
    return FaultReport(
        id=row.id,
        reference=row.reference,
        charger_id=row.charger_id,
        serial=row.serial,
        operator_id=row.operator_id,
        reporter_account_id=row.reporter_account_id,
        reporter_organization_id=row.reporter_organization_id,
        symptom=row.symptom,
        share_identity=bool(row.share_identity),
        status=FaultStatus(row.status),
        ticket_reference=row.ticket_reference,
        created_at=row.created_at,
        updated_at=row.updated_at,
        origin=dict(row.origin) if row.origin else None,
    )


class FaultReportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def next_reference(self) -> str:
        return format_fault_reference(await next_number(self.session, FAULT_PREFIX))

    async def add(
        self,
        *,
        reference: str,
        charger_id: int,
        serial: str,
        operator_id: int,
        reporter_account_id: int,
        reporter_organization_id: int | None,
        symptom: str,
        share_identity: bool,
        origin: Mapping[str, Any] | None,
        origin_key: str | None,
        now: datetime,
    ) -> None:
        await self.session.execute(
            insert(_fr).values(
                reference=reference,
                charger_id=charger_id,
                serial=serial,
                operator_id=operator_id,
                reporter_account_id=reporter_account_id,
                reporter_organization_id=reporter_organization_id,
                symptom=symptom,
                share_identity=share_identity,
                status=FaultStatus.SENT.value,
                origin=dict(origin) if origin else None,
                origin_key=origin_key,
                created_at=now,
                updated_at=now,
            )
        )

    async def get(self, reference: str, *, for_update: bool = False) -> FaultReport | None:
        query = select(_fr).where(_fr.c.reference == reference)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).first()
        return _report(row) if row is not None else None

    async def by_origin_key(self, key: str) -> FaultReport | None:
        row = (await self.session.execute(select(_fr).where(_fr.c.origin_key == key))).first()
        return _report(row) if row is not None else None

    async def last_by(self, charger_id: int, account_id: int) -> datetime | None:
        """When `account_id` last reported a fault on `charger_id`."""
        last: datetime | None = await self.session.scalar(
            select(func.max(_fr.c.created_at)).where(
                _fr.c.charger_id == charger_id, _fr.c.reporter_account_id == account_id
            )
        )
        return last

    async def of_reporter(self, account_id: int, limit: int = 20) -> list[FaultReport]:
        query = select(_fr).where(_fr.c.reporter_account_id == account_id).order_by(_fr.c.id.desc()).limit(limit)
        return [_report(row) for row in await self.session.execute(query)]

    async def with_support(self, limit: int = 50) -> list[FaultReport]:
        """The reports support has to look at (the operator said "not ours", or could not be reached), oldest
        first: the one waiting longest is the one most likely forgotten."""
        query = select(_fr).where(_fr.c.status.in_(_WITH_SUPPORT)).order_by(_fr.c.id).limit(limit)
        return [_report(row) for row in await self.session.execute(query)]

    async def count_with_support(self) -> int:
        return int(await self.session.scalar(select(func.count()).where(_fr.c.status.in_(_WITH_SUPPORT))) or 0)

    async def set_status(
        self, reference: str, status: FaultStatus, now: datetime, by: str | None, ticket: str | None = None
    ) -> None:
        values: dict[str, Any] = {"status": status.value, "updated_at": now, "answered_by": by}
        if ticket is not None:
            values["ticket_reference"] = ticket
        await self.session.execute(update(_fr).where(_fr.c.reference == reference).values(**values))
