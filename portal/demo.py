"""The demo data that the shell, the tests and the docs rely on. Seeding twice changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select

from portal.adapters import tables
from portal.domain.chargers import Charger
from portal.domain.organizations import Account, Organization, OrganizationKind
from portal.unit_of_work import UnitOfWork

VOLTWAY = "VoltWay Resellers BV"
GREENFLEET = "GreenFleet Logistics"
CITYCHARGE = "CityCharge"

ORGANIZATIONS = (
    (VOLTWAY, OrganizationKind.RESELLER),
    (GREENFLEET, OrganizationKind.END_CUSTOMER),
    (CITYCHARGE, OrganizationKind.CPO),
)


def _utc(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class DemoAccount:
    email: str
    organization: str | None
    registered_at: datetime | None  # None: two hours before the seed runs


ACCOUNTS = (
    DemoAccount("anna@voltway.example", VOLTWAY, _utc(2024, 3, 1)),
    DemoAccount("ben@greenfleet.example", GREENFLEET, _utc(2025, 6, 1)),
    DemoAccount("carla@citycharge.example", CITYCHARGE, _utc(2024, 9, 15)),
    DemoAccount("erin@greenfleet.example", GREENFLEET, None),
    DemoAccount("dave@newcustomer.example", None, _utc(2025, 10, 1)),
)

# Slack workspaces of the demo organizations (T0VOLT is the Slack Connect workspace the tests' anna acts from).
WORKSPACES = (
    ("T0VOLT", VOLTWAY),
    ("T0GREEN", GREENFLEET),
    ("T0CITY", CITYCHARGE),
)

# serial, model, purchaser (= Service Operator at shipment), shipped, installed at
CHARGERS = (
    ("ACE0100001", "ACE Single 11 kW", VOLTWAY, date(2025, 1, 10), None),
    # Installed at GreenFleet, but VoltWay bought it and stays its SO until a transfer.
    ("ACE0100002", "ACE Single 22 kW", VOLTWAY, date(2025, 2, 1), GREENFLEET),
    ("10001R001", "Pro-line Double 2x22 kW", CITYCHARGE, date(2022, 5, 1), CITYCHARGE),
    ("10001R002", "Pro-line Double 2x22 kW", CITYCHARGE, date(2025, 8, 20), CITYCHARGE),
)


async def seed_demo(uow: UnitOfWork) -> int:
    """Create whatever of the demo data is missing; returns how many rows it created."""
    created = 0
    async with uow:
        ids: dict[str, int] = {}
        for name, kind in ORGANIZATIONS:
            organization = await uow.organizations.by_name(name)
            if organization is None:
                organization = Organization(name, kind)
                uow.organizations.add(organization)
                await uow.session.flush()
                created += 1
            assert organization.id is not None
            ids[name] = organization.id
        now = uow.clock()
        for demo in ACCOUNTS:
            if await uow.accounts.by_email(demo.email) is None:
                registered = demo.registered_at or now - timedelta(hours=2)
                org_id = ids[demo.organization] if demo.organization else None
                uow.accounts.add(Account(demo.email, registered, org_id))
                created += 1
        for serial, model, purchaser, shipped, site in CHARGERS:
            if await uow.chargers.by_serial(serial) is None:
                site_id = ids[site] if site else None
                uow.chargers.add(Charger(serial, model, shipped, ids[purchaser], site_organization_id=site_id))
                created += 1
        ws = tables.slack_workspaces
        known = set(await uow.session.scalars(select(ws.c.team_id)))
        for team_id, name in WORKSPACES:
            if team_id not in known:
                # Seed data like the accounts above, not a support decision: no event, nobody to notify.
                await uow.session.execute(
                    insert(ws).values(team_id=team_id, organization_id=ids[name], linked_at=now, linked_by="demo")
                )
                created += 1
        await uow.commit()
    return created
