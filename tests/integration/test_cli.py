"""`chargedesk db upgrade`, `seed --demo` and `import` as an operator runs them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from portal.adapters import tables
from portal.adapters.database import create_engine
from tests.conftest import Database


@pytest.fixture
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    """A fresh SQLite file that the CLI finds through DATABASE_URL, as an operator would configure it.

    The importer's all-or-nothing rule is proven on both databases in test_imports.py; here it is the command.
    """
    database = Database("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}", {})
    monkeypatch.setenv("DATABASE_URL", database.url)
    return database


def rows(database: Database) -> dict[str, list[tuple[object, ...]]]:
    async def read() -> dict[str, list[tuple[object, ...]]]:
        engine = create_engine(database.url, **database.engine_options)
        result: dict[str, list[tuple[object, ...]]] = {}
        async with engine.connect() as conn:
            for table in (tables.organizations, tables.accounts, tables.chargers):
                result[table.name] = [tuple(r) for r in await conn.execute(select(table).order_by(table.c.id))]
        await engine.dispose()
        return result

    return asyncio.run(read())


def test_import_without_upgrade_creates_the_schema_first(cli_database: Database, tmp_path: Path) -> None:
    assert main(["import", "organizations", str(write(tmp_path / "o.csv", "name,kind\nA,cpo\n"))]) == 0
    assert [row[1] for row in rows(cli_database)["organizations"]] == ["A"]


def test_seed_twice_gives_the_same_rows(cli_database: Database, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert main(["seed", "--demo"]) == 0
    first = rows(cli_database)
    assert main(["seed", "--demo"]) == 0
    assert rows(cli_database) == first
    assert [len(first[k]) for k in ("organizations", "accounts", "chargers")] == [3, 5, 4]
    assert "0 rows created" in capsys.readouterr().out


def write(path: Path, content: str) -> Path:
    path.write_text(content, encoding="utf-8")
    return path


def test_import_all_or_nothing(cli_database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    orgs = write(tmp_path / "orgs.csv", "name,kind\nSparkInstall,installer\nFleetCo,end_customer\n")
    assert main(["import", "organizations", str(orgs)]) == 0
    good = write(
        tmp_path / "chargers.csv",
        "serial,model,shipped_at,purchaser,service_operator\n"
        "ace 020 0001,ACE Single,2025-03-01,SparkInstall,\n"
        "20001R001,Pro-line,2024-01-15,SparkInstall,FleetCo\n",
    )
    assert main(["import", "chargers", str(good)]) == 0
    assert "2 chargers imported" in capsys.readouterr().out

    bad = write(
        tmp_path / "accounts.csv",
        "email,organization,registered_at\n"
        "one@fleetco.example,FleetCo,2025-01-01\n"
        "two@fleetco.example,FleetCo,2025-01-02T10:00:00+01:00\n"
        "three@fleetco.example,NoSuchCompany,2025-01-03\n"
        "four@fleetco.example,,2025-01-04\n",
    )
    before = rows(cli_database)
    assert main(["import", "accounts", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "line 4" in err
    assert "NoSuchCompany" in err
    assert "nothing was imported" in err
    assert rows(cli_database) == before


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        ("serial,model,shipped_at,purchaser\nACE12,m,2025-01-01,SparkInstall\n", 2, "malformed serial"),
        ("serial,model,shipped_at,purchaser\nACE0300001,m,01/02/2025,SparkInstall\n", 2, "shipped_at"),
        (
            "serial,model,shipped_at,purchaser\nACE0300001,m,2025-01-01,SparkInstall\nace0300001,m,2025-01-01,SparkInstall\n",
            3,
            "twice",
        ),
        ("serial,model,purchaser\nACE0300001,m,SparkInstall\n", 1, "missing column"),
    ],
)
def test_import_names_the_bad_line(
    cli_database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, line: int, reason: str
) -> None:
    main(["import", "organizations", str(write(tmp_path / "o.csv", "name,kind\nSparkInstall,installer\n"))])
    assert main(["import", "chargers", str(write(tmp_path / "c.csv", content))]) == 1
    assert f"line {line}: " in (err := capsys.readouterr().err)
    assert reason in err

    async def count() -> int:
        engine = create_engine(cli_database.url, **cli_database.engine_options)
        async with engine.connect() as conn:
            n = await conn.scalar(select(func.count()).select_from(tables.chargers))
        await engine.dispose()
        return int(n or 0)

    assert asyncio.run(count()) == 0


def workspaces(database: Database) -> dict[str, tuple[object, ...]]:
    async def read() -> dict[str, tuple[object, ...]]:
        engine = create_engine(database.url, **database.engine_options)
        ws, o = tables.slack_workspaces, tables.organizations
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(ws.c.team_id, o.c.name, ws.c.linked_by).outerjoin(o, o.c.id == ws.c.organization_id)
            )
            result: dict[str, tuple[object, ...]] = {str(r.team_id): (r.name, r.linked_by) for r in rows}
        await engine.dispose()
        return result

    return asyncio.run(read())


def test_link_workspace(cli_database: Database, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seed", "--demo"]) == 0
    assert main(["link-workspace", "t0evil", "VoltWay Resellers BV"]) == 0
    assert "workspace T0EVIL is linked to VoltWay Resellers BV" in capsys.readouterr().out
    linked = workspaces(cli_database)
    assert linked["T0EVIL"][0] == "VoltWay Resellers BV"
    assert str(linked["T0EVIL"][1]).startswith("agent:cli:")  # who decided, on record
    assert linked["T0VOLT"][0] == "VoltWay Resellers BV"  # the demo's own links

    assert main(["link-workspace", "T0OTHER", "No Such Company"]) == 1
    assert main(["link-workspace", "C0CHANNEL", "CityCharge"]) == 1
    err = capsys.readouterr().err
    assert "no organization named No Such Company; nothing was changed" in err
    assert "C0CHANNEL: a Slack workspace id" in err
    assert set(workspaces(cli_database)) == {"T0EVIL", "T0VOLT", "T0GREEN", "T0CITY"}


def test_import_workspaces(cli_database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seed", "--demo"]) == 0
    good = write(tmp_path / "ws.csv", "team_id,organization\nT0NEW1,CityCharge\nE0GRID,GreenFleet Logistics\n")
    assert main(["import", "workspaces", str(good)]) == 0
    assert "2 workspaces imported" in capsys.readouterr().out
    bad = write(tmp_path / "bad.csv", "team_id,organization\nT0NEW2,CityCharge\nT0NEW3,Nobody Inc\n")
    assert main(["import", "workspaces", str(bad)]) == 1
    assert "line 3: organization: no organization named 'Nobody Inc'; nothing was imported" in capsys.readouterr().err
    linked = workspaces(cli_database)
    assert linked["T0NEW1"][0] == "CityCharge" and linked["E0GRID"][0] == "GreenFleet Logistics"
    assert "T0NEW2" not in linked
