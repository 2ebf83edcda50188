from __future__ import annotations

from portal.domain.administrative import AdministrativeRequest
from portal.domain.service_tickets import ServiceTicket
from portal.domain.transfers import TransferRequest
from portal.status_text import STATUS_LABELS, status_label


def test_every_status_of_every_kind_has_wording() -> None:
    expected = {
        (cls.request_kind.value, str(status))
        for cls in (ServiceTicket, AdministrativeRequest, TransferRequest)
        for status in {*cls.transitions, *cls.terminal, *(s for targets in cls.transitions.values() for s in targets)}
    }
    assert expected == set(STATUS_LABELS)
    assert status_label("transfer", "awaiting_operator") == "waiting for the current Service Operator to consent"
