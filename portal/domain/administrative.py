"""Administrative requests: account and organization changes, e.g. "link me to my company"."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from portal.domain.actors import Actor, Customer
from portal.domain.chargers import Charger
from portal.domain.organizations import Account
from portal.domain.requests import WAITING_FOR_CUSTOMER, RequestCharger, RequestKind, SupportRequest, require_agent
from portal.domain.text import clean_reason


class AdminStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # by the requester's side, before support decided it
    WAITING_FOR_CUSTOMER = WAITING_FOR_CUSTOMER  # support asked the customer's side something
    CLOSED = "closed"  # the customer's side never answered support's question


class AdminTopic(StrEnum):
    NOT_LINKED = "not_linked"  # the account is not linked to any organization
    OTHER = "other"
    HANDOFF = "handoff"  # the customer asked to talk to a person; the description is the conversation so far


class AdministrativeRequest(SupportRequest):
    request_kind = RequestKind.ADMINISTRATIVE
    transitions: ClassVar[Mapping[str, frozenset[str]]] = {
        AdminStatus.OPEN: frozenset(
            {AdminStatus.RESOLVED, AdminStatus.REJECTED, AdminStatus.WITHDRAWN, AdminStatus.WAITING_FOR_CUSTOMER}
        ),
        AdminStatus.WAITING_FOR_CUSTOMER: frozenset(
            {AdminStatus.OPEN, AdminStatus.RESOLVED, AdminStatus.REJECTED, AdminStatus.WITHDRAWN, AdminStatus.CLOSED}
        ),
    }
    terminal = frozenset({AdminStatus.RESOLVED, AdminStatus.REJECTED, AdminStatus.WITHDRAWN, AdminStatus.CLOSED})
    withdrawable = frozenset({AdminStatus.OPEN, AdminStatus.WAITING_FOR_CUSTOMER})
    withdrawn_status = AdminStatus.WITHDRAWN
    askable = frozenset({AdminStatus.OPEN})
    unanswered_status = AdminStatus.CLOSED

    @classmethod
    def open(
        cls,
        reference: str,
        requester: Account,
        description: str,
        at: datetime,
        chargers: list[Charger] | None = None,
        topic: AdminTopic | None = None,
    ) -> AdministrativeRequest:
        assert requester.id is not None
        lines = [RequestCharger(c.id, c.serial, c.service_operator_id) for c in chargers or [] if c.id is not None]
        request = cls(
            reference,
            AdminStatus.OPEN,
            requester.id,
            requester.organization_id,
            description,
            at,
            Customer(requester.email),
            lines,
        )
        if topic is None:
            topic = AdminTopic.NOT_LINKED if requester.organization_id is None else AdminTopic.OTHER
        request.topic = topic
        return request

    def resolve(self, actor: Actor, at: datetime, note: str | None) -> None:
        require_agent(actor)
        note = clean_reason(note, required=True)
        self._move(AdminStatus.RESOLVED, actor, at, note, "resolved")
        self.resolution = note

    def reject(self, actor: Actor, at: datetime, reason: str | None) -> None:
        require_agent(actor)
        reason = clean_reason(reason, required=True)
        self._move(AdminStatus.REJECTED, actor, at, reason, "rejected")
        self.resolution = reason
