"""Plain domain objects for rule tests (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from portal.domain.chargers import Charger
from portal.domain.organizations import Account

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
VOLTWAY, GREENFLEET, CITYCHARGE = 1, 2, 3


def account(
    email: str, organization_id: int | None, registered_at: datetime = datetime(2024, 1, 1, tzinfo=UTC)
) -> Account:
    result = Account(email, registered_at, organization_id)
    result.id = abs(hash(email)) % 10_000
    return result


def charger(
    serial: str, operator_id: int, shipped_at: date = date(2025, 2, 1), charger_id: int | None = None
) -> Charger:
    result = Charger(serial, "ACE Single 22 kW", shipped_at, purchaser_id=operator_id)
    result.id = charger_id if charger_id is not None else abs(hash(serial)) % 10_000
    return result


anna = account("anna@voltway.example", VOLTWAY)
ben = account("ben@greenfleet.example", GREENFLEET)
carla = account("carla@citycharge.example", CITYCHARGE)
