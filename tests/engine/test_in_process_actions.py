"""The embedded engine registers the custom actions without rasa-sdk's private helpers."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import ActionExecutor

from bot.config import DESIGN_ROOT
from bot.engine.actions import InProcessActions
from bot.engine.design import load_domain


def test_every_custom_action_is_registered_with_its_dependencies_without_rasa_sdk_private_api(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A rasa-sdk release may drop or change a private method: ours must not need it.
    monkeypatch.delattr(ActionExecutor, "_import_submodules")
    portal = object()
    actions = InProcessActions(portal=portal)
    registered = set(actions.executor.actions)
    assert set(load_domain(DESIGN_ROOT / "domain").custom_actions) <= registered
