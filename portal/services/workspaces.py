"""Use cases: which Slack workspaces belong to which organizations, and the one check of who someone is.

An email on a Slack profile is whatever that workspace's admins let people type. It names a portal account only
where we trust the workspace: the app's home workspace (for its own members), or a workspace support linked to
the account's organization. Anyone else is an unverified person and learns nothing about any organization.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from portal.adapters import tables
from portal.domain.actors import Actor
from portal.domain.events import DomainEvent
from portal.domain.requests import require_agent
from portal.errors import MalformedTeamId, UnknownOrganization
from portal.unit_of_work import UnitOfWork

# A team ("T…") or an Enterprise Grid ("E…"): Slack's ids are upper-case letters and digits.
TEAM_ID = re.compile(r"[TE][A-Z0-9]{2,31}")


class IdentityStatus(StrEnum):
    VERIFIED = "verified"
    WORKSPACE_NOT_VERIFIED = "workspace_not_verified"
    NO_EMAIL = "no_email"  # Slack does not share the person's email with us
    NO_ACCOUNT = "no_account"  # no account with that email that this workspace may speak for


@dataclass(frozen=True)
class Identity:
    """The outcome of the check: `email` is set only when `status` is VERIFIED."""

    status: IdentityStatus
    email: str | None = None

    @property
    def verified(self) -> bool:
        return self.status is IdentityStatus.VERIFIED


@dataclass(frozen=True)
class WorkspaceLink:
    team_id: str
    organization: str | None  # None: asked about, not verified yet


def normalise_team_id(text: str) -> str:
    team_id = text.strip().upper()
    if not TEAM_ID.fullmatch(team_id):
        raise MalformedTeamId(text)
    return team_id


async def identify(
    uow: UnitOfWork, email: str | None, team_id: str | None, enterprise_id: str | None = None, *, home: bool
) -> Identity:
    """Who a Slack person is, given the email their profile shows and the workspace they act from.

    A workspace that is not home and not linked is answered WORKSPACE_NOT_VERIFIED whatever the email, so it
    learns nothing, not even whether an account with that email exists. In a linked workspace, an email of an
    account outside the linked organization(s) is NO_ACCOUNT, exactly like an email nobody registered; an
    account without an organization is verified in the home workspace only.
    """
    async with uow:
        if home:
            organizations: set[int] | None = None  # every account
        else:
            organizations = await _linked_organizations(uow, [t for t in (team_id, enterprise_id) if t])
            if not organizations:
                return Identity(IdentityStatus.WORKSPACE_NOT_VERIFIED)
        if not email:
            return Identity(IdentityStatus.NO_EMAIL)
        account = await uow.accounts.by_email(email)
        if account is None:
            return Identity(IdentityStatus.NO_ACCOUNT)
        if organizations is not None and account.organization_id not in organizations:
            return Identity(IdentityStatus.NO_ACCOUNT)
        return Identity(IdentityStatus.VERIFIED, account.email)


async def _linked_organizations(uow: UnitOfWork, team_ids: Sequence[str]) -> set[int]:
    if not team_ids:
        return set()
    ws = tables.slack_workspaces
    rows = await uow.session.scalars(
        select(ws.c.organization_id).where(ws.c.team_id.in_(list(team_ids)), ws.c.organization_id.is_not(None))
    )
    return {int(r) for r in rows}


async def ask_workspace_verification(uow: UnitOfWork, team_id: str, asked_by: str, name: str | None = None) -> bool:
    """Record that someone of an unverified workspace asked; True only for the first ask (support is told once).

    Idempotent: concurrent asks from many people of one workspace make one row and one event.
    """
    team_id = normalise_team_id(team_id)
    ws = tables.slack_workspaces
    async with uow:
        if await uow.session.scalar(select(ws.c.team_id).where(ws.c.team_id == team_id)) is not None:
            return False
        try:
            # A savepoint: another process may insert the same workspace now; our transaction stays usable.
            async with uow.session.begin_nested():
                await uow.session.execute(
                    insert(ws).values(
                        team_id=team_id,
                        name=name[:200] if name else None,
                        asked_at=uow.clock(),
                        asked_by=asked_by[:64],
                    )
                )
        except IntegrityError:
            return False
        uow.record(
            DomainEvent(
                "workspace.verification_requested",
                None,
                {"team_id": team_id, "team_name": name, "asked_by": asked_by[:64]},
            )
        )
        await uow.commit()
        return True


async def link_workspace(uow: UnitOfWork, actor: Actor, team_id: str, organization_name: str) -> WorkspaceLink:
    """Support's decision: `team_id`'s people speak for `organization_name` (an agent only; audited by its event).

    Linking again to another organization moves the workspace; the event records who decided and when.
    """
    require_agent(actor)
    async with uow:
        organization = await uow.organizations.by_name(organization_name)
        if organization is None:
            raise UnknownOrganization(f"no organization named {organization_name}")
        assert organization.id is not None
        link = await link_workspace_in(uow, actor, team_id, organization.id)
        await uow.commit()
        return link


async def link_workspace_in(uow: UnitOfWork, actor: Actor, team_id: str, organization_id: int) -> WorkspaceLink:
    """The link inside an open unit of work (the caller commits): shared by the use case and the CSV import."""
    agent = require_agent(actor)
    team_id = normalise_team_id(team_id)
    name = (await uow.organizations.names([organization_id])).get(organization_id)
    if name is None:
        raise UnknownOrganization(f"no organization {organization_id}")
    ws = tables.slack_workspaces
    now = uow.clock()
    values = {"organization_id": organization_id, "linked_at": now, "linked_by": agent.label}
    row = (await uow.session.execute(select(ws.c.asked_at).where(ws.c.team_id == team_id).with_for_update())).first()
    if row is None:
        await uow.session.execute(insert(ws).values(team_id=team_id, **values))
    else:
        await uow.session.execute(update(ws).where(ws.c.team_id == team_id).values(values))
    uow.record(
        DomainEvent(
            "workspace.linked",
            None,
            {
                "team_id": team_id,
                "organization_id": organization_id,
                "organization": name,
                "actor": agent.label,
                "at": now.isoformat(),
                # Someone asked: support got a card, which now says who linked it to what.
                "asked": row is not None and row.asked_at is not None,
            },
        )
    )
    return WorkspaceLink(team_id, name)


async def workspace_links(uow: UnitOfWork) -> list[WorkspaceLink]:
    """Every workspace known: linked ones with their organization, asked ones with None."""
    ws, o = tables.slack_workspaces, tables.organizations
    async with uow:
        rows = await uow.session.execute(
            select(ws.c.team_id, o.c.name).outerjoin(o, o.c.id == ws.c.organization_id).order_by(ws.c.team_id)
        )
        return [WorkspaceLink(r.team_id, r.name) for r in rows]


async def workspace_organizations(uow: UnitOfWork, team_ids: Sequence[str]) -> dict[str, str]:
    """The organization each of `team_ids` is linked to, by name; a workspace not linked (or unknown) is absent."""
    wanted = [t for t in team_ids if t]
    if not wanted:
        return {}
    ws, o = tables.slack_workspaces, tables.organizations
    async with uow:
        rows = await uow.session.execute(
            select(ws.c.team_id, o.c.name).join(o, o.c.id == ws.c.organization_id).where(ws.c.team_id.in_(wanted))
        )
        return {r.team_id: r.name for r in rows}
