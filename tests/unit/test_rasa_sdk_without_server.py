"""rasa-sdk's classes without its Sanic action server (bot/rasa_sdk_without_server.py), each case in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SERVER = ("sanic", "rasa_sdk.cli", "rasa_sdk.plugin")  # what rasa-sdk's __init__ adds


def run(code: str) -> Any:
    """`code` in a fresh interpreter; the JSON it prints last."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True, cwd=ROOT, timeout=120
    )
    return json.loads(result.stdout.splitlines()[-1])


def test_the_engine_and_every_action_load_without_the_server() -> None:
    found = run(
        f"""
        import json, sys
        from bot import rasa_sdk_without_server
        installed = rasa_sdk_without_server.install()
        import rasa_sdk, rasa_sdk.interfaces, rasa_sdk.forms, rasa_sdk.version
        from rasa_sdk import Action, ActionExecutionRejection, FormValidationAction, Tracker, ValidationAction, utils
        from bot.engine.actions import _import_actions
        _import_actions()  # every module of the actions package, as the embedded engine loads them
        print(json.dumps({{
            "installed": installed,
            "same": [
                Tracker is rasa_sdk.interfaces.Tracker,
                Action is rasa_sdk.interfaces.Action,
                ActionExecutionRejection is rasa_sdk.interfaces.ActionExecutionRejection,
                FormValidationAction is rasa_sdk.forms.FormValidationAction,
                ValidationAction is rasa_sdk.forms.ValidationAction,
                utils is sys.modules["rasa_sdk.utils"],
                rasa_sdk.__version__ == rasa_sdk.version.__version__,
            ],
            "server": [name for name in {SERVER!r} if name in sys.modules],
        }}))
        """
    )
    assert found == {"installed": True, "same": [True] * 7, "server": []}


def test_without_it_the_same_imports_load_the_server() -> None:
    """The counterpart: the check above would pass vacuously if the names were wrong."""
    found = run(
        f"""
        import json, sys
        from bot.engine.actions import _import_actions
        _import_actions()
        print(json.dumps([name for name in {SERVER!r} if name in sys.modules]))
        """
    )
    assert found == list(SERVER)


def test_any_other_name_loads_the_whole_package() -> None:
    found = run(
        f"""
        import json, logging, sys
        from bot import rasa_sdk_without_server
        rasa_sdk_without_server.install()
        import rasa_sdk
        print(json.dumps({{
            "logger": rasa_sdk.logger is logging.getLogger("rasa_sdk"),  # defined by rasa-sdk's __init__
            "server": [name for name in {SERVER!r} if name in sys.modules],
            "missing": hasattr(rasa_sdk, "no_such_name"),
        }}))
        """
    )
    assert found == {"logger": True, "server": list(SERVER), "missing": False}


def test_it_leaves_an_imported_rasa_sdk_alone() -> None:
    found = run(
        """
        import json, sys
        import rasa_sdk
        from bot import rasa_sdk_without_server
        print(json.dumps([rasa_sdk_without_server.install(), sys.modules["rasa_sdk"] is rasa_sdk]))
        """
    )
    assert found == [False, True]
