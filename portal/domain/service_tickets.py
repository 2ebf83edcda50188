"""Service tickets: raised by the charger's Service Operator; billing depends on the warranty."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from portal.domain.actors import Actor, Customer
from portal.domain.chargers import Charger
from portal.domain.organizations import Account
from portal.domain.requests import RequestCharger, RequestKind, SupportRequest, require_agent
from portal.errors import InvalidTransition, NotServiceOperator


class TicketStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"  # by the requester's side, before support resolved it


class ServiceTicket(SupportRequest):
    request_kind = RequestKind.SERVICE_TICKET
    transitions: ClassVar[Mapping[str, frozenset[str]]] = {
        TicketStatus.OPEN: frozenset(
            {TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED, TicketStatus.CLOSED, TicketStatus.WITHDRAWN}
        ),
        TicketStatus.IN_PROGRESS: frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED, TicketStatus.WITHDRAWN}),
        # A resolved ticket can be reopened if the fix did not hold, or closed for good.
        TicketStatus.RESOLVED: frozenset({TicketStatus.IN_PROGRESS, TicketStatus.CLOSED}),
    }
    terminal = frozenset({TicketStatus.CLOSED, TicketStatus.WITHDRAWN})
    # Once support has resolved it, the ticket is decided: the customer may reopen it, not withdraw it.
    withdrawable = frozenset({TicketStatus.OPEN, TicketStatus.IN_PROGRESS})
    withdrawn_status = TicketStatus.WITHDRAWN

    @classmethod
    def open(
        cls, reference: str, requester: Account, charger: Charger, description: str, at: datetime
    ) -> ServiceTicket:
        """Open a ticket; the caller has already checked eligibility, this re-asserts the one hard rule."""
        if requester.organization_id is None or charger.service_operator_id != requester.organization_id:
            raise NotServiceOperator("only the charger's Service Operator may raise a service ticket on it")
        assert charger.id is not None and requester.id is not None
        ticket = cls(
            reference,
            TicketStatus.OPEN,
            requester.id,
            requester.organization_id,
            description,
            at,
            Customer(requester.email),
            [RequestCharger(charger.id, charger.serial, charger.service_operator_id)],
        )
        ticket.in_warranty = charger.in_warranty(at.date())
        return ticket

    def set_status(self, actor: Actor, to: TicketStatus | str, at: datetime, reason: str | None = None) -> None:
        require_agent(actor)
        target = TicketStatus(to)
        if target is TicketStatus.WITHDRAWN:
            # Only the customer's side withdraws; support resolves or closes.
            raise InvalidTransition(self.reference, self.status, f"moved to {to}")
        self._move(target, actor, at, reason, f"moved to {to}")
