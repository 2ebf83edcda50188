"""CSV imports of organizations, accounts, chargers and linked Slack workspaces from the portal's other systems.

Each file is all-or-nothing: every row is validated first, and the first bad row stops the import with its
line number and the reason. Existing rows (same name, email or serial) are updated, so re-importing is safe.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, date, datetime
from enum import StrEnum

from portal.domain.actors import Agent
from portal.domain.chargers import Charger, default_warranty_until
from portal.domain.organizations import Account, Organization, OrganizationKind, normalise_email
from portal.domain.serials import normalise_serial
from portal.errors import ImportFailed, MalformedSerial, MalformedTeamId
from portal.services.workspaces import link_workspace_in, normalise_team_id
from portal.unit_of_work import UnitOfWork

IMPORT_ACTOR = Agent("import")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class ImportKind(StrEnum):
    ORGANIZATIONS = "organizations"
    ACCOUNTS = "accounts"
    CHARGERS = "chargers"
    WORKSPACES = "workspaces"


COLUMNS: dict[ImportKind, tuple[set[str], set[str]]] = {
    # kind: (required columns, optional columns)
    ImportKind.ORGANIZATIONS: ({"name", "kind"}, set()),
    ImportKind.ACCOUNTS: ({"email", "registered_at"}, {"organization"}),
    ImportKind.CHARGERS: (
        {"serial", "model", "shipped_at", "purchaser"},
        {"service_operator", "warranty_until", "site"},
    ),
    ImportKind.WORKSPACES: ({"team_id", "organization"}, set()),
}

Row = dict[str, str]
RowHandler = Callable[[UnitOfWork, Row], Awaitable[None]]


async def import_csv(uow: UnitOfWork, kind: ImportKind, lines: Iterable[str]) -> int:
    """Import one CSV file (header row first); returns the number of rows imported."""
    reader = csv.DictReader(lines)
    required, optional = COLUMNS[kind]
    header = set(reader.fieldnames or [])
    if not required <= header:
        raise ImportFailed(1, "missing column(s): " + ", ".join(sorted(required - header)))
    if header - required - optional:
        raise ImportFailed(1, "unknown column(s): " + ", ".join(sorted(header - required - optional)))
    handler = _HANDLERS[kind]
    count = 0
    seen: set[str] = set()
    async with uow:
        for row in reader:
            line = reader.line_num
            cleaned = {k: (v or "").strip() for k, v in row.items() if k is not None}
            if None in row:
                raise ImportFailed(line, "more values than columns")
            key = _key(kind, cleaned, line)
            if key in seen:
                raise ImportFailed(line, f"{key} appears twice in this file")
            seen.add(key)
            try:
                await handler(uow, cleaned)
            except ImportFailed:
                raise
            except (ValueError, LookupError) as error:
                raise ImportFailed(line, str(error)) from error
            count += 1
        await uow.commit()
    return count


def _key(kind: ImportKind, row: Row, line: int) -> str:
    try:
        if kind is ImportKind.ORGANIZATIONS:
            return row["name"]
        if kind is ImportKind.ACCOUNTS:
            return normalise_email(row["email"])
        if kind is ImportKind.WORKSPACES:
            return normalise_team_id(row["team_id"])
        return normalise_serial(row["serial"])
    except MalformedSerial as error:
        raise ImportFailed(line, f"malformed serial number {row['serial']!r}") from error
    except MalformedTeamId as error:
        raise ImportFailed(line, f"malformed team id {row['team_id']!r}: {error}") from error


async def _organization(uow: UnitOfWork, row: Row) -> None:
    if not row["name"]:
        raise ValueError("name is empty")
    try:
        kind = OrganizationKind(row["kind"])
    except ValueError:
        raise ValueError(f"kind must be one of {', '.join(k.value for k in OrganizationKind)}") from None
    existing = await uow.organizations.by_name(row["name"])
    if existing is None:
        uow.organizations.add(Organization(row["name"], kind))
        await uow.session.flush()  # later rows of the same file may refer to it
    else:
        existing.kind = kind


async def _account(uow: UnitOfWork, row: Row) -> None:
    if not EMAIL.fullmatch(row["email"]):
        raise ValueError(f"not an email address: {row['email']!r}")
    registered = _datetime(row["registered_at"], "registered_at")
    org_id = await _organization_id(uow, row.get("organization", ""), "organization")
    existing = await uow.accounts.by_email(row["email"])
    if existing is None:
        uow.accounts.add(Account(row["email"], registered, org_id))
    else:
        existing.registered_at, existing.organization_id = registered, org_id


async def _charger(uow: UnitOfWork, row: Row) -> None:
    serial = normalise_serial(row["serial"])
    if not row["model"]:
        raise ValueError("model is empty")
    shipped = _date(row["shipped_at"], "shipped_at")
    warranty = _date(row["warranty_until"], "warranty_until") if row.get("warranty_until") else None
    if warranty is not None and warranty < default_warranty_until(shipped):
        raise ValueError("warranty_until is earlier than two years after shipment")
    purchaser = await _organization_id(uow, row["purchaser"], "purchaser")
    if purchaser is None:
        raise ValueError("purchaser is empty")
    operator = await _organization_id(uow, row.get("service_operator", ""), "service_operator") or purchaser
    site = await _organization_id(uow, row.get("site", ""), "site")
    existing = await uow.chargers.by_serial(serial)
    if existing is None:
        uow.chargers.add(Charger(serial, row["model"], shipped, purchaser, operator, warranty, site))
        return
    existing.model, existing.shipped_at, existing.purchaser_id = row["model"], shipped, purchaser
    existing.warranty_until = warranty or default_warranty_until(shipped)
    existing.service_operator_id = operator
    existing.site_organization_id = site


async def _workspace(uow: UnitOfWork, row: Row) -> None:
    # An import is support's decision made in another system: linked like the CLI does, one event per row.
    organization = await _organization_id(uow, row["organization"], "organization")
    if organization is None:
        raise ValueError("organization is empty")
    await link_workspace_in(uow, IMPORT_ACTOR, row["team_id"], organization)


async def _organization_id(uow: UnitOfWork, name: str, column: str) -> int | None:
    if not name:
        return None
    organization = await uow.organizations.by_name(name)
    if organization is None:
        raise LookupError(f"{column}: no organization named {name!r}")
    return organization.id


def _date(text: str, column: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{column} must be a date like 2025-01-31, not {text!r}") from None


def _datetime(text: str, column: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{column} must be a date or date-time like 2025-01-31T09:00:00Z, not {text!r}") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_HANDLERS: dict[ImportKind, RowHandler] = {
    ImportKind.ORGANIZATIONS: _organization,
    ImportKind.ACCOUNTS: _account,
    ImportKind.CHARGERS: _charger,
    ImportKind.WORKSPACES: _workspace,
}
