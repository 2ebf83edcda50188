"""Imports flow downward only (DESIGN.md §3): portal/ knows no surface, actions/ never imports bot/."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "portal": {"slack_bolt", "slack_sdk", "rasa_sdk", "aiohttp", "bot", "actions", "sanic"},
    "actions": {"bot", "slack_bolt", "slack_sdk"},
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_upward_or_framework_imports(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_modules(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_importing_the_portal_loads_no_surface_framework() -> None:
    # A runtime check too: an import hidden behind a helper would not show in the source scan.
    code = (
        "import sys, portal.services, portal.bootstrap, portal.imports, portal.demo; "
        "surfaces = {'slack_bolt', 'slack_sdk', 'rasa_sdk', 'aiohttp', 'sanic'}; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in surfaces); "
        "print(','.join(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == ""
