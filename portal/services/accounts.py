"""Use case: support links an account to an organization."""

from __future__ import annotations

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
