"""rasa-sdk's plugin hook (it imports a top-level `rasa_sdk_plugins` module if one is installed).

Through it chargedesk's safe error handling applies to the plain `python -m rasa_sdk --actions actions` too.
"""

from __future__ import annotations

from typing import Any

import pluggy
from sanic import Sanic

from actions.server import install

hookimpl = pluggy.HookimplMarker("rasa_sdk")


class ChargedeskActionServer:
    @hookimpl
    def attach_sanic_app_extensions(self, app: Sanic[Any, Any]) -> None:
        install(app)


def init_hooks(manager: pluggy.PluginManager) -> None:
    manager.register(ChargedeskActionServer())
