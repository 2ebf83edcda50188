"""Imports flow downward only (DESIGN.md §3).

The static rules are import-linter contracts in pyproject.toml (`lint-imports`, run by `make test`): the layers, the
portal and the actions free of surface frameworks, bot.slack off portal's adapters. What a static scan cannot see
is checked here: a module imported at run time (importlib, a plugin) would not show in the source.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_portal_loads_no_surface_framework() -> None:
    code = (
        "import sys, portal.services, portal.bootstrap, portal.imports, portal.demo; "
        "surfaces = {'slack_bolt', 'slack_sdk', 'rasa_sdk', 'aiohttp', 'sanic'}; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in surfaces); "
        "print(','.join(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == ""
