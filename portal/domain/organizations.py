"""Organizations and the accounts of their people."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

# An account is linked for service purposes about a day after registration (DESIGN.md §1).
SERVICE_CUSTOMER_DELAY = timedelta(hours=24)


class OrganizationKind(StrEnum):
    RESELLER = "reseller"
    INSTALLER = "installer"
    CPO = "cpo"
    END_CUSTOMER = "end_customer"


class Organization:
    id: int | None

    def __init__(self, name: str, kind: OrganizationKind | str) -> None:
        self.id = None
        self.name = name.strip()
        self.kind = OrganizationKind(kind)

    def __repr__(self) -> str:
        return f"<Organization {self.name!r}>"


class Account:
    """A person's portal account. Every account of an organization has the organization's permissions."""

    id: int | None

    def __init__(self, email: str, registered_at: datetime, organization_id: int | None = None) -> None:
        self.id = None
        self.email = normalise_email(email)
        self.registered_at = registered_at
        self.organization_id = organization_id

    def service_customer_from(self) -> datetime:
        return self.registered_at + SERVICE_CUSTOMER_DELAY

    def is_service_customer(self, now: datetime) -> bool:
        return now >= self.service_customer_from()

    def __repr__(self) -> str:
        return f"<Account {self.email}>"


def normalise_email(email: str) -> str:
    return email.strip().lower()
