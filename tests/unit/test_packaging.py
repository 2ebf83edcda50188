"""`pip install .` (not editable) runs everything: the wheel ships the design and the migrations, and declares
every library the code imports."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("portal", "actions", "bot", "rasa_sdk_plugins")
# The conversation design, at the top of the repository, ships as the package chargedesk_design (bot/config.py finds
# it); the migrations ship inside bot (portal/migrations.py).
DESIGN = ("domain", "data", "config.yml", "endpoints.yml")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built offline from a copy of the sources (building in place would race with other runs)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in (*PACKAGES, "domain", "data"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("config.yml", "endpoints.yml"):
        shutil.copy(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    offline = ["--no-deps", "--no-build-isolation", "--no-index", "--quiet"]
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), *offline, "-w", str(out)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("chargedesk-*.whl")
    return built


def test_the_wheel_ships_the_conversation_design_and_the_migrations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    design = {
        "chargedesk_design/" + path.relative_to(ROOT).as_posix()
        for name in DESIGN
        for path in ([ROOT / name] if (ROOT / name).is_file() else (ROOT / name).glob("*.yml"))
    }
    migrations = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "bot" / "migrations").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert {"chargedesk_design/config.yml", "chargedesk_design/domain/intents.yml"} <= design
    assert "chargedesk_design/data/nlu.yml" in design
    assert {"bot/migrations/env.py", "bot/migrations/script.py.mako"} <= migrations
    assert (design | migrations) - names == set()


def test_every_code_package_is_listed_for_the_wheel() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    found = {
        ".".join(path.relative_to(ROOT).parts)
        for package in PACKAGES
        for path in [ROOT / package, *(ROOT / package).rglob("*")]
        if path.is_dir() and "__pycache__" not in path.parts and any(path.glob("*.py"))
    }
    assert found - listed == set(), "add these packages to [tool.setuptools] packages in pyproject.toml"


def test_the_installed_wheel_upgrades_the_database_and_opens_the_shell_from_another_directory(
    wheel: Path, tmp_path: Path
) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", "-t", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "RASA_URL", "ACTION_ENDPOINT"))}
    # The installed copy comes first; the libraries come from this venv.
    env |= {"PYTHONPATH": str(target), "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'installed.db'}"}

    def chargedesk(*args: str, typed: str = "") -> str:
        code = "import sys, bot.cli; print('from', bot.cli.__file__); sys.exit(bot.cli.main(sys.argv[1:]))"
        result = subprocess.run(
            [sys.executable, "-c", code, *args],
            input=typed,
            capture_output=True,
            text=True,
            cwd=elsewhere,
            env=env,
            timeout=120,
            check=True,
        )
        return result.stdout

    upgraded = chargedesk("db", "upgrade")
    assert f"from {target}" in upgraded
    assert "database schema is up to date" in upgraded
    shell = chargedesk("shell", "--as", "anna@voltway.example", typed="hello\n")
    assert "You are anna@voltway.example" in shell


def _imported_distributions(skip: tuple[str, ...] = ()) -> set[str]:
    """The distributions whose modules the shipped packages import (standard library and own packages left out),
    leaving out the files under the folders `skip` (relative to the repository)."""
    names: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if path.relative_to(ROOT).as_posix().startswith(skip):
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module.split(".")[0])
    third_party = names - set(sys.stdlib_module_names) - set(PACKAGES)
    owners = packages_distributions()
    return {_normalise(owners[name][0]) for name in third_party}


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def test_every_imported_library_is_declared_and_asyncpg_is_an_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {_normalise(Requirement(spec).name) for spec in project["dependencies"]}
    ocr = {_normalise(Requirement(spec).name) for spec in project["optional-dependencies"]["ocr"]}
    # The `ocr` extra's libraries are imported by bot/photos only (lazily: labels.py says so when they are missing).
    assert _imported_distributions() - declared - ocr == set()
    assert _imported_distributions(skip=("bot/photos/",)) - declared == set()
    assert ocr - declared == {"rapidocr-onnxruntime", "pillow"}
    assert "asyncpg" not in declared  # SQLite needs no PostgreSQL driver
    assert [Requirement(spec).name for spec in project["optional-dependencies"]["postgres"]] == ["asyncpg"]
    assert all(Requirement(spec).specifier for spec in project["dependencies"])  # every one with its range
    assert all(Requirement(spec).specifier for spec in project["optional-dependencies"]["ocr"])
