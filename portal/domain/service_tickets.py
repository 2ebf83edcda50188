"""Service tickets: raised by the charger's Service Operator; billing depends on the warranty."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar

from portal.domain.actors import Actor, Agent, Customer
from portal.domain.chargers import Charger
from portal.domain.organizations import Account
from portal.domain.requests import WAITING_FOR_CUSTOMER, RequestCharger, RequestKind, SupportRequest, require_agent
from portal.domain.text import clean_reason
from portal.errors import InvalidTransition, NotRequester, NotServiceOperator, ReopenWindowClosed

# How long after its resolution the customer's side may reopen a ticket (CHARGEDESK_REOPEN_DAYS); agents may always.
DEFAULT_REOPEN_DAYS = 14


class TicketStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"  # by the requester's side, before support resolved it
    REJECTED = "rejected"  # by support, with a reason (not something support does: spam, not ours to fix)
    WAITING_FOR_CUSTOMER = WAITING_FOR_CUSTOMER  # support asked the customer's side something


class ServiceTicket(SupportRequest):
    request_kind = RequestKind.SERVICE_TICKET
    transitions: ClassVar[Mapping[str, frozenset[str]]] = {
        TicketStatus.OPEN: frozenset(
            {
                TicketStatus.IN_PROGRESS,
                TicketStatus.RESOLVED,
                TicketStatus.CLOSED,
                TicketStatus.WITHDRAWN,
                TicketStatus.REJECTED,
                TicketStatus.WAITING_FOR_CUSTOMER,
            }
        ),
        TicketStatus.IN_PROGRESS: frozenset(
            {
                TicketStatus.RESOLVED,
                TicketStatus.CLOSED,
                TicketStatus.WITHDRAWN,
                TicketStatus.REJECTED,
                TicketStatus.WAITING_FOR_CUSTOMER,
            }
        ),
        # The customer's answer takes it back to where it was; support may also decide without waiting longer.
        TicketStatus.WAITING_FOR_CUSTOMER: frozenset(
            {
                TicketStatus.OPEN,
                TicketStatus.IN_PROGRESS,
                TicketStatus.RESOLVED,
                TicketStatus.CLOSED,
                TicketStatus.WITHDRAWN,
                TicketStatus.REJECTED,
            }
        ),
        # A resolved ticket can be reopened if the fix did not hold (back to open, or in progress when someone has
        # it), or closed for good.
        TicketStatus.RESOLVED: frozenset({TicketStatus.OPEN, TicketStatus.IN_PROGRESS, TicketStatus.CLOSED}),
    }
    terminal = frozenset({TicketStatus.CLOSED, TicketStatus.WITHDRAWN, TicketStatus.REJECTED})
    # Once support has resolved it, the ticket is decided: the customer may reopen it, not withdraw it.
    withdrawable = frozenset({TicketStatus.OPEN, TicketStatus.IN_PROGRESS, TicketStatus.WAITING_FOR_CUSTOMER})
    withdrawn_status = TicketStatus.WITHDRAWN
    askable = frozenset({TicketStatus.OPEN, TicketStatus.IN_PROGRESS})
    unanswered_status = TicketStatus.CLOSED

    @classmethod
    def open(
        cls,
        reference: str,
        requester: Account,
        charger: Charger,
        description: str,
        at: datetime,
        follows: str | None = None,
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
        ticket.follows = follows  # the resolved ticket it follows up, when that one could no longer be reopened
        return ticket

    def set_status(self, actor: Actor, to: TicketStatus | str, at: datetime, reason: str | None = None) -> None:
        require_agent(actor)
        target = TicketStatus(to)
        if target in (TicketStatus.WITHDRAWN, TicketStatus.REJECTED):
            # Only the customer's side withdraws; a rejection needs its reason (`reject`).
            raise InvalidTransition(self.reference, self.status, f"moved to {to}")
        self._move(target, actor, at, reason, f"moved to {to}")

    @property
    def resolved_at(self) -> datetime | None:
        """When it was last resolved, while it is resolved."""
        if self.status != TicketStatus.RESOLVED:
            return None
        return next((step.at for step in reversed(self.history) if step.to_status == TicketStatus.RESOLVED), None)

    def may_be_reopened_by(self, account: Account) -> bool:
        return self.acts_for_requester(account)

    def reopen(
        self, actor: Actor, at: datetime, reason: str | None = None, *, account: Account | None = None, days: int
    ) -> None:
        """The fix did not hold: back to open, or to in progress when an agent has it.

        An agent may reopen at any time. The customer's side (`account`: the requester or their organization) may
        within `days` of the resolution; after that the answer is ReopenWindowClosed (a new ticket follows it up).
        Who may comes before the state: someone else learns nothing about the ticket.
        """
        if not isinstance(actor, Agent) and (account is None or not self.may_be_reopened_by(account)):
            raise NotRequester("only the requester or their organization may reopen this ticket")
        resolved_at = self.resolved_at
        if resolved_at is None:
            raise InvalidTransition(self.reference, self.status, "reopened")
        if not isinstance(actor, Agent) and at - resolved_at > timedelta(days=days):
            raise ReopenWindowClosed(self.reference, resolved_at, days)
        target = TicketStatus.IN_PROGRESS if self.assignee else TicketStatus.OPEN
        self._move(target, actor, at, clean_reason(reason, required=False), "reopened")

    def reject(self, actor: Actor, at: datetime, reason: str) -> None:
        """Support will not work on it (not a fault of the charger, not ours to fix): a reason is required."""
        require_agent(actor)
        self._ensure_can_move(TicketStatus.REJECTED, "rejected")
        self._move(TicketStatus.REJECTED, actor, at, clean_reason(reason, required=True), "rejected")

    def close_as_duplicate(self, actor: Actor, at: datetime, original: SupportRequest) -> None:
        """The same problem is already being handled under `original`: this ticket links to it and closes."""
        require_agent(actor)
        if original.reference == self.reference or not isinstance(original, ServiceTicket):
            raise InvalidTransition(self.reference, self.status, f"closed as a duplicate of {original.reference}")
        self._ensure_can_move(TicketStatus.CLOSED, "closed as a duplicate")
        self.duplicate_of = original.reference
        self._move(TicketStatus.CLOSED, actor, at, f"duplicate of {original.reference}", "closed as a duplicate")
