"""Use case: support links an account to an organization."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from portal.adapters import tables
from portal.domain.actors import Actor
from portal.domain.administrative import AdministrativeRequest
from portal.domain.events import DomainEvent
from portal.domain.requests import require_agent
from portal.errors import UnknownAccount, UnknownOrganization
from portal.services._loading import load_request
from portal.unit_of_work import UnitOfWork


async def link_account(
    uow: UnitOfWork, actor: Actor, email: str, organization_name: str, reference: str | None = None
) -> None:
    """Link `email` to an organization; with `reference`, also resolve the administrative request that asked."""
    agent = require_agent(actor)
    async with uow:
        account = await uow.accounts.by_email(email, for_update=True)
        if account is None:
            raise UnknownAccount(f"no account {email}")
        organization = await uow.organizations.by_name(organization_name)
        if organization is None:
            raise UnknownOrganization(f"no organization named {organization_name}")
        account.organization_id = organization.id
        uow.record(
            DomainEvent(
                "account.linked",
                reference,
                {
                    "email": account.email,
                    "organization_id": organization.id,
                    "organization": organization.name,
                    "actor": agent.label,
                },
            )
        )
        if reference is not None:
            request = await load_request(uow, reference, AdministrativeRequest, "resolved")
            request.resolve(actor, uow.clock(), f"Account linked to {organization.name}")
        await uow.commit()


async def account_organizations(uow: UnitOfWork, emails: Iterable[str]) -> dict[str, str | None]:
    """The organization (by name) of each account among `emails` (lower-cased); None for an account of none. An email
    without an account is not in the answer."""
    wanted = sorted({e.strip().lower() for e in emails if e and e.strip()})
    if not wanted:
        return {}
    ac, org = tables.accounts, tables.organizations
    query = (
        select(ac.c.email, org.c.name).outerjoin(org, org.c.id == ac.c.organization_id).where(ac.c.email.in_(wanted))
    )
    async with uow:
        return {str(email): name for email, name in (await uow.session.execute(query)).all()}
