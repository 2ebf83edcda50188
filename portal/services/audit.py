"""Use case: remember a refused attempt, in a transaction of its own (the refused one changed nothing)."""

from __future__ import annotations

from sqlalchemy import insert, select

from portal.adapters import tables
from portal.domain.actors import Actor
from portal.unit_of_work import UnitOfWork
from portal.views import AuditEntry


async def audit_refusal(
    uow: UnitOfWork, actor: Actor | str, action: str, reference: str | None, outcome: str, detail: str = ""
) -> None:
    """`outcome` is the refusal's kind (e.g. NotSupportAgent); `detail` a short reason, never personal data."""
    async with uow:
        await uow.session.execute(
            insert(tables.audit_log).values(
                at=uow.clock(),
                actor=actor if isinstance(actor, str) else actor.label,
                action=action[:60],
                reference=reference,
                outcome=outcome[:60],
                detail=detail[:400] or None,
            )
        )
        await uow.commit()


async def audit_entries(uow: UnitOfWork, reference: str | None = None) -> list[AuditEntry]:
    async with uow:
        query = select(tables.audit_log).order_by(tables.audit_log.c.id)
        if reference is not None:
            query = query.where(tables.audit_log.c.reference == reference)
        rows = await uow.session.execute(query)
        return [AuditEntry(r.at, r.actor, r.action, r.reference, r.outcome, r.detail) for r in rows]
