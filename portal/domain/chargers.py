"""Chargers, their warranty and their Service Operator."""

from __future__ import annotations

from datetime import date

from portal.domain.serials import normalise_serial

WARRANTY_YEARS = 2


def default_warranty_until(shipped_at: date) -> date:
    """At least two years from shipment; 29 February ships into 28 February."""
    try:
        return shipped_at.replace(year=shipped_at.year + WARRANTY_YEARS)
    except ValueError:
        return shipped_at.replace(year=shipped_at.year + WARRANTY_YEARS, day=28)


class Charger:
    """A charger. Only accounts of its Service Operator may raise service tickets on it."""

    id: int | None
    version: int

    def __init__(
        self,
        serial: str,
        model: str,
        shipped_at: date,
        purchaser_id: int,
        service_operator_id: int | None = None,
        warranty_until: date | None = None,
        site_organization_id: int | None = None,
    ) -> None:
        self.id = None
        self.serial = normalise_serial(serial)
        self.model = model.strip()
        self.shipped_at = shipped_at
        self.warranty_until = warranty_until or default_warranty_until(shipped_at)
        self.purchaser_id = purchaser_id
        # At shipment the purchaser is registered as Service Operator.
        self.service_operator_id = service_operator_id if service_operator_id is not None else purchaser_id
        # Where it is installed (often an end customer's site); it gives no rights, only context.
        self.site_organization_id = site_organization_id

    def in_warranty(self, today: date) -> bool:
        return today <= self.warranty_until

    def __repr__(self) -> str:
        return f"<Charger {self.serial}>"
