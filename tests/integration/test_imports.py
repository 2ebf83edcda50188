"""The CSV importer on both databases: valid files upsert, a bad row writes nothing."""

from __future__ import annotations

import pytest

from portal import services
from portal.bootstrap import Portal
from portal.errors import ImportFailed
from portal.imports import ImportKind, import_csv


async def test_valid_files_import_and_reimport_idempotently(empty_portal: Portal) -> None:
    orgs = ["name,kind\n", "SparkInstall,installer\n", "FleetCo,end_customer\n"]
    assert await import_csv(empty_portal.uow(), ImportKind.ORGANIZATIONS, orgs) == 2
    assert await import_csv(empty_portal.uow(), ImportKind.ORGANIZATIONS, orgs) == 2
    accounts = ["email,organization,registered_at\n", "Pat@FleetCo.example,FleetCo,2025-01-01\n"]
    assert await import_csv(empty_portal.uow(), ImportKind.ACCOUNTS, accounts) == 1
    chargers = [
        "serial,model,shipped_at,purchaser,service_operator\n",
        "ace0400001,ACE Single,2025-03-01,SparkInstall,FleetCo\n",
    ]
    assert await import_csv(empty_portal.uow(), ImportKind.CHARGERS, chargers) == 1
    decision = await services.check_eligibility(empty_portal.uow(), "pat@fleetco.example", "ACE0400001")
    assert decision.may_raise_ticket


async def test_one_bad_row_writes_nothing(empty_portal: Portal) -> None:
    await import_csv(empty_portal.uow(), ImportKind.ORGANIZATIONS, ["name,kind\n", "FleetCo,end_customer\n"])
    lines = [
        "email,organization,registered_at\n",
        "a@fleetco.example,FleetCo,2025-01-01\n",
        "b@fleetco.example,FleetCo,2025-01-01\n",
        "not-an-email,FleetCo,2025-01-01\n",
    ]
    with pytest.raises(ImportFailed) as failed:
        await import_csv(empty_portal.uow(), ImportKind.ACCOUNTS, lines)
    assert failed.value.line == 4
    assert "not an email" in failed.value.reason
    for email in ("a@fleetco.example", "b@fleetco.example"):
        decision = await services.check_eligibility(empty_portal.uow(), email, "ACE0100001")
        assert decision.outcome == "no_account"
