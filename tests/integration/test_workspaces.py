"""Workspaces and the one identity check, on both databases: who an email on a Slack profile may be."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Connection

from portal import services
from portal.adapters import tables
from portal.bootstrap import Portal
from portal.demo import GREENFLEET, VOLTWAY
from portal.domain.actors import Agent, Customer
from portal.errors import ImportFailed, MalformedTeamId, NotSupportAgent, UnknownOrganization
from portal.imports import ImportKind, import_csv
from portal.migrations import alembic_config
from portal.services.workspaces import Identity, IdentityStatus

AGENT = Agent("U0AGENT")
ANNA, BEN, DAVE = "anna@voltway.example", "ben@greenfleet.example", "dave@newcustomer.example"
VERIFIED, UNVERIFIED = IdentityStatus.VERIFIED, IdentityStatus.WORKSPACE_NOT_VERIFIED
NO_ACCOUNT, NO_EMAIL = IdentityStatus.NO_ACCOUNT, IdentityStatus.NO_EMAIL


async def identify(portal: Portal, email: str | None, team: str, enterprise: str | None = None) -> Identity:
    return await services.identify(portal.uow(), email, team, enterprise, home=team == "T0HOME")


async def outbox(portal: Portal) -> list[tuple[str, dict[str, object]]]:
    async with portal.engine.connect() as conn:
        rows = await conn.execute(select(tables.outbox.c.name, tables.outbox.c.payload).order_by(tables.outbox.c.id))
        return [(r.name, dict(r.payload)) for r in rows]


async def test_the_one_check(portal: Portal) -> None:
    # Home workspace: its members are trusted for their email, accounts without an organization included.
    assert await identify(portal, ANNA, "T0HOME") == Identity(VERIFIED, ANNA)
    assert await identify(portal, DAVE, "T0HOME") == Identity(VERIFIED, DAVE)
    assert (await identify(portal, "nobody@example.com", "T0HOME")).status is NO_ACCOUNT
    assert (await identify(portal, None, "T0HOME")).status is NO_EMAIL
    # A workspace linked to VoltWay (demo data): VoltWay's accounts only.
    assert await identify(portal, ANNA, "T0VOLT") == Identity(VERIFIED, ANNA)
    assert (await identify(portal, BEN, "T0VOLT")).status is NO_ACCOUNT
    assert (await identify(portal, DAVE, "T0VOLT")).status is NO_ACCOUNT  # no organization: home only
    assert (await identify(portal, None, "T0VOLT")).status is NO_EMAIL
    # A GreenFleet workspace whose user shows anna's email is not anna, and hears what a stranger hears.
    assert await identify(portal, ANNA, "T0GREEN") == await identify(portal, "nobody@example.com", "T0GREEN")
    # An unlinked workspace learns nothing at all: the same answer whatever the email.
    answers = {await identify(portal, email, "T0EVIL") for email in (ANNA, DAVE, "nobody@example.com", None)}
    assert answers == {Identity(UNVERIFIED)}


async def test_an_enterprise_link_covers_its_teams(portal: Portal) -> None:
    assert (await identify(portal, ANNA, "T0GRID1", "E0VOLTGRID")).status is UNVERIFIED
    await services.link_workspace(portal.uow(), AGENT, "E0VOLTGRID", VOLTWAY)
    assert await identify(portal, ANNA, "T0GRID1", "E0VOLTGRID") == Identity(VERIFIED, ANNA)
    assert await identify(portal, ANNA, "T0GRID2", "E0VOLTGRID") == Identity(VERIFIED, ANNA)
    assert (await identify(portal, ANNA, "T0GRID2", "E0OTHER")).status is UNVERIFIED


async def test_asking_is_idempotent_and_linking_is_an_audited_agent_decision(portal: Portal) -> None:
    asks = await asyncio.gather(
        *(services.ask_workspace_verification(portal.uow(), "T0EVIL", "U0EVIL") for _ in range(5))
    )
    assert sorted(asks) == [False, False, False, False, True]
    assert not await services.ask_workspace_verification(portal.uow(), "t0evil", "U0OTHER")
    assert await outbox(portal) == [
        ("workspace.verification_requested", {"team_id": "T0EVIL", "team_name": None, "asked_by": "U0EVIL"})
    ]
    assert (await identify(portal, ANNA, "T0EVIL")).status is UNVERIFIED  # asked is not verified

    with pytest.raises(NotSupportAgent):
        await services.link_workspace(portal.uow(), Customer(ANNA), "T0EVIL", VOLTWAY)
    with pytest.raises(UnknownOrganization):
        await services.link_workspace(portal.uow(), AGENT, "T0EVIL", "No Such Company")
    with pytest.raises(MalformedTeamId):
        await services.link_workspace(portal.uow(), AGENT, "C0CHANNEL", VOLTWAY)
    assert len(await outbox(portal)) == 1  # refused: nothing changed, nothing announced

    await services.link_workspace(portal.uow(), AGENT, "T0EVIL", VOLTWAY)
    assert await identify(portal, ANNA, "T0EVIL") == Identity(VERIFIED, ANNA)
    name, payload = (await outbox(portal))[-1]
    assert name == "workspace.linked"
    assert payload["team_id"] == "T0EVIL" and payload["organization"] == VOLTWAY
    assert payload["actor"] == "agent:U0AGENT" and payload["asked"] is True and payload["at"]
    # Relinking moves the workspace: VoltWay's people are nobody there any more.
    await services.link_workspace(portal.uow(), AGENT, "T0EVIL", GREENFLEET)
    assert (await identify(portal, ANNA, "T0EVIL")).status is NO_ACCOUNT
    assert await identify(portal, BEN, "T0EVIL") == Identity(VERIFIED, BEN)
    links = {link.team_id: link.organization for link in await services.workspace_links(portal.uow())}
    assert links["T0EVIL"] == GREENFLEET and links["T0VOLT"] == VOLTWAY


async def test_workspaces_import_all_rows_or_none(portal: Portal) -> None:
    good = ["team_id,organization\n", f"t0new1,{VOLTWAY}\n", f"E0GRID,{GREENFLEET}\n"]
    assert await import_csv(portal.uow(), ImportKind.WORKSPACES, good) == 2
    assert await identify(portal, ANNA, "T0NEW1") == Identity(VERIFIED, ANNA)
    assert await identify(portal, BEN, "T0ANY", "E0GRID") == Identity(VERIFIED, BEN)
    for bad, line, reason in (
        (["team_id,organization\n", f"T0NEW2,{VOLTWAY}\n", "T0NEW3,No Such Company\n"], 3, "no organization"),
        (["team_id,organization\n", f"T0NEW2,{VOLTWAY}\n", f"C0NOTATEAM,{VOLTWAY}\n"], 3, "malformed team id"),
        (["team_id,organization\n", f"T0NEW2,{VOLTWAY}\n", f"t0new2,{GREENFLEET}\n"], 3, "twice"),
    ):
        with pytest.raises(ImportFailed) as failed:
            await import_csv(portal.uow(), ImportKind.WORKSPACES, bad)
        assert (failed.value.line, reason in failed.value.reason) == (line, True), failed.value
    assert (await identify(portal, ANNA, "T0NEW2")).status is UNVERIFIED  # nothing of the bad files was written


async def test_migration_0010_down_and_up(empty_portal: Portal) -> None:
    def run(connection: Connection, revision: str, up: bool) -> tuple[set[str], set[str]]:
        config = alembic_config()
        config.attributes["connection"] = connection
        (command.upgrade if up else command.downgrade)(config, revision)
        inspector = inspect(connection)
        return set(inspector.get_table_names()), {c["name"] for c in inspector.get_columns("slack_people")}

    async with empty_portal.engine.begin() as conn:
        names, people = await conn.run_sync(run, "0009", False)
    assert "slack_workspaces" not in names and "enterprise_id" not in people
    async with empty_portal.engine.begin() as conn:
        names, people = await conn.run_sync(run, "head", True)
    assert "slack_workspaces" in names and "enterprise_id" in people
    async with empty_portal.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(tables.slack_workspaces)) == 0
