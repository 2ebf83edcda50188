"""Imperative mapping of the pure domain classes onto the tables (the domain never imports SQLAlchemy)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import registry, relationship

from portal.adapters import tables
from portal.domain.administrative import AdministrativeRequest
from portal.domain.chargers import Charger
from portal.domain.messages import RequestMessage
from portal.domain.organizations import Account, Organization
from portal.domain.requests import RequestCharger, RequestKind, SupportRequest, Transition
from portal.domain.service_tickets import ServiceTicket
from portal.domain.transfers import TransferRequest

mapper_registry = registry(metadata=tables.metadata)
_mapped = False


def start_mappers() -> None:
    """Map the domain classes once per process; safe to call repeatedly."""
    global _mapped
    if _mapped:
        return
    mapper_registry.map_imperatively(Organization, tables.organizations)
    mapper_registry.map_imperatively(Account, tables.accounts)
    mapper_registry.map_imperatively(Charger, tables.chargers, version_id_col=tables.chargers.c.version)
    mapper_registry.map_imperatively(RequestCharger, tables.request_chargers)
    mapper_registry.map_imperatively(Transition, tables.request_transitions)
    mapper_registry.map_imperatively(RequestMessage, tables.request_messages)
    base = mapper_registry.map_imperatively(
        SupportRequest,
        tables.requests,
        # The discriminator column is mapped as `kind` (a string); the classes' own `request_kind` stays an enum.
        polymorphic_on=tables.requests.c.kind,
        polymorphic_abstract=True,
        version_id_col=tables.requests.c.version,
        properties={
            # Loaded eagerly in the same round trip: async sessions cannot lazy-load on attribute access.
            "lines": relationship(
                RequestCharger, lazy="selectin", cascade="all, delete-orphan", order_by=tables.request_chargers.c.id
            ),
            "history": relationship(
                Transition, lazy="selectin", cascade="all, delete-orphan", order_by=tables.request_transitions.c.id
            ),
            "messages": relationship(
                RequestMessage, lazy="selectin", cascade="all, delete-orphan", order_by=tables.request_messages.c.number
            ),
        },
    )
    for cls, kind in (
        (ServiceTicket, RequestKind.SERVICE_TICKET),
        (AdministrativeRequest, RequestKind.ADMINISTRATIVE),
        (TransferRequest, RequestKind.TRANSFER),
    ):
        mapper_registry.map_imperatively(cls, inherits=base, polymorphic_identity=kind.value)
    _mapped = True


@event.listens_for(SupportRequest, "load", propagate=True)
def _init_events(request: SupportRequest, _context: Any) -> None:
    # Loaded objects skip __init__; they start with no pending domain events.
    request.events = []
