"""Repositories: the only code that writes queries for the domain objects."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.adapters import tables
from portal.domain.chargers import Charger
from portal.domain.organizations import Account, Organization, normalise_email
from portal.domain.requests import (
    REFERENCE_PREFIX,
    RequestCharger,
    RequestKind,
    SupportRequest,
    format_reference,
    normalise_reference,
)
from portal.domain.transfers import TransferRequest, TransferStatus


class OrganizationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, organization: Organization) -> None:
        self.session.add(organization)

    async def get(self, organization_id: int) -> Organization | None:
        return await self.session.get(Organization, organization_id)

    async def by_name(self, name: str) -> Organization | None:
        return await self.session.scalar(select(Organization).where(tables.organizations.c.name == name.strip()))

    async def names(self, ids: Sequence[int]) -> dict[int, str]:
        if not ids:
            return {}
        rows = await self.session.execute(
            select(tables.organizations.c.id, tables.organizations.c.name).where(tables.organizations.c.id.in_(ids))
        )
        return {row.id: row.name for row in rows}

    async def all(self) -> list[Organization]:
        return list(await self.session.scalars(select(Organization).order_by(tables.organizations.c.name)))


class AccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, account: Account) -> None:
        self.session.add(account)

    async def get(self, account_id: int) -> Account | None:
        return await self.session.get(Account, account_id)

    async def by_email(self, email: str, *, for_update: bool = False) -> Account | None:
        query = select(Account).where(tables.accounts.c.email == normalise_email(email))
        if for_update:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def emails(self, ids: Sequence[int]) -> dict[int, str]:
        if not ids:
            return {}
        rows = await self.session.execute(
            select(tables.accounts.c.id, tables.accounts.c.email).where(tables.accounts.c.id.in_(ids))
        )
        return {row.id: row.email for row in rows}

    async def of_organization(self, organization_id: int) -> list[Account]:
        query = select(Account).where(tables.accounts.c.organization_id == organization_id)
        return list(await self.session.scalars(query.order_by(tables.accounts.c.email)))


class ChargerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, charger: Charger) -> None:
        self.session.add(charger)

    async def by_serial(self, serial: str) -> Charger | None:
        return await self.session.scalar(select(Charger).where(tables.chargers.c.serial == serial))

    async def by_serials(self, serials: Sequence[str], *, for_update: bool = False) -> dict[str, Charger]:
        if not serials:
            return {}
        # Lock in a fixed order so that two transactions locking overlapping sets cannot deadlock.
        query = select(Charger).where(tables.chargers.c.serial.in_(serials)).order_by(tables.chargers.c.id)
        if for_update:
            query = query.with_for_update()
        return {c.serial: c for c in await self.session.scalars(query)}

    async def by_ids(self, ids: Sequence[int], *, for_update: bool = False) -> dict[int, Charger]:
        if not ids:
            return {}
        query = select(Charger).where(tables.chargers.c.id.in_(ids)).order_by(tables.chargers.c.id)
        if for_update:
            query = query.with_for_update()
        return {c.id: c for c in await self.session.scalars(query) if c.id is not None}

    async def at_site_operated_by_others(self, organization_id: int) -> list[Charger]:
        c = tables.chargers
        query = select(Charger).where(
            c.c.site_organization_id == organization_id, c.c.service_operator_id != organization_id
        )
        return list(await self.session.scalars(query.order_by(c.c.serial)))

    async def operated_by(self, organization_id: int) -> list[Charger]:
        query = select(Charger).where(tables.chargers.c.service_operator_id == organization_id)
        return list(await self.session.scalars(query.order_by(tables.chargers.c.serial)))


class RequestRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        # Every request this unit of work touched; their domain events go to the outbox on commit.
        self.seen: list[SupportRequest] = []

    def add(self, request: SupportRequest) -> None:
        self.session.add(request)
        self._see(request)

    def _see(self, request: SupportRequest) -> None:
        if not any(known is request for known in self.seen):
            self.seen.append(request)

    async def get(self, reference: str, *, for_update: bool = False) -> SupportRequest | None:
        canonical = normalise_reference(reference)
        if canonical is None:
            # Not even sent to the database: a forged value (NUL, lone surrogates) would fail there, not just miss.
            return None
        query = select(SupportRequest).where(tables.requests.c.reference == canonical)
        if for_update:
            # Concurrent decisions on one request queue here; the later ones then see the decided state.
            query = query.with_for_update()
        request = await self.session.scalar(query)
        if request is not None:
            self._see(request)
        return request

    async def by_origin_key(self, key: str) -> SupportRequest | None:
        request = await self.session.scalar(select(SupportRequest).where(tables.requests.c.origin_key == key))
        if request is not None:
            self._see(request)
        return request

    async def of_organization_or_requester(self, account: Account, limit: int = 50) -> list[SupportRequest]:
        """The requests a customer may list: their own, and those of their organization."""
        condition = tables.requests.c.requester_account_id == account.id
        if account.organization_id is not None:
            condition = condition | (tables.requests.c.organization_id == account.organization_id)
        query = select(SupportRequest).where(condition).order_by(tables.requests.c.id.desc()).limit(limit)
        return list(await self.session.scalars(query))

    async def pending_transfers_on(self, charger_ids: Sequence[int]) -> dict[int, tuple[str, int | None]]:
        """charger id → (reference, requesting organization) of the pending transfer holding it."""
        if not charger_ids:
            return {}
        rc, rq = tables.request_chargers, tables.requests
        rows = await self.session.execute(
            select(rc.c.charger_id, rq.c.reference, rq.c.organization_id)
            .join(rq, rq.c.id == rc.c.request_id)
            .where(rc.c.holds_transfer, rc.c.charger_id.in_(charger_ids))
        )
        return {row.charger_id: (row.reference, row.organization_id) for row in rows}

    async def transfers_awaiting_operator_since(self, before: datetime) -> list[str]:
        rq = tables.requests
        rows = await self.session.scalars(
            select(rq.c.reference)
            .where(
                rq.c.kind == RequestKind.TRANSFER.value,
                rq.c.status == TransferStatus.AWAITING_OPERATOR.value,
                rq.c.created_at < before,
            )
            .order_by(rq.c.id)
        )
        return list(rows)

    async def transfers_awaiting(self, organization_id: int) -> list[TransferRequest]:
        """Transfers that wait for this organization's answer as current Service Operator."""
        rc, rq = tables.request_chargers, tables.requests
        ids = (
            select(rc.c.request_id)
            .where(rc.c.operator_id == organization_id, rc.c.answer.is_(None), rc.c.holds_transfer)
            .scalar_subquery()
        )
        query = select(TransferRequest).where(rq.c.id.in_(ids), rq.c.status == TransferStatus.AWAITING_OPERATOR.value)
        return list(await self.session.scalars(query.order_by(rq.c.id)))

    async def charger_lines(self, request_ids: Sequence[int]) -> list[RequestCharger]:
        if not request_ids:
            return []
        query = select(RequestCharger).where(tables.request_chargers.c.request_id.in_(request_ids))
        return list(await self.session.scalars(query))


class ReferenceCounter:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def next(self, kind: RequestKind) -> str:
        """The next human reference for `kind`, e.g. MT-000042. The row lock is held until commit."""
        return format_reference(kind, await next_number(self.session, REFERENCE_PREFIX[kind]))


async def next_number(session: AsyncSession, prefix: str) -> int:
    """The next number of `prefix`'s counter (requests' and fault reports' references alike). The row lock is held
    until commit, so two transactions never get the same number."""
    counters = tables.reference_counters
    number = await session.scalar(
        update(counters)
        .where(counters.c.prefix == prefix)
        .values(last_value=counters.c.last_value + 1)
        .returning(counters.c.last_value)
    )
    if number is None:
        raise RuntimeError(f"reference counter {prefix} missing; run `chargedesk db upgrade`")
    return int(number)


async def count_rows(session: AsyncSession, table: Table) -> int:
    return int(await session.scalar(select(func.count()).select_from(table)) or 0)
