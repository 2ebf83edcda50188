"""Running actions: responses and Rasa's default actions here, custom actions through rasa-sdk.

Custom actions run in-process through rasa-sdk's `ActionExecutor` (the same code path as its HTTP server), or
over HTTP at an action server with exactly the JSON Rasa sends.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from rasa_sdk import Action, utils
from rasa_sdk.events import Restarted
from rasa_sdk.executor import ActionExecutor

from bot.engine.design import REQUESTED_SLOT, Domain
from bot.engine.responses import BotMessage, Button, render
from bot.engine.tracker import RASA_VERSION, Tracker, loop_event, slot_event

if TYPE_CHECKING:
    import aiohttp

logger = logging.getLogger(__name__)

# Keys of a rasa-sdk message that are not template values.
_MESSAGE_KEYS = {"text", "image", "buttons", "elements", "custom", "template", "response", "attachment", "recipient_id"}


class ActionFailed(RuntimeError):
    """A custom action could not be run (server error, unknown action)."""


class CustomActions(Protocol):
    async def call(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST-equivalent of Rasa's action call: returns {"events": [...], "responses": [...]}."""
        ...

    async def close(self) -> None: ...


class InProcessActions:
    """The actions package, run by rasa-sdk's executor in this process, with injected dependencies."""

    def __init__(self, **dependencies: Any) -> None:
        import actions  # noqa: F401  (registers the Action subclasses)

        self.executor = ActionExecutor()
        if dependencies:
            self._register(dependencies)
        else:
            self.executor.register_package("actions")

    def _register(self, dependencies: dict[str, Any]) -> None:
        _import_actions()
        for cls in utils.all_subclasses(Action):
            if not cls.__module__.startswith("actions.") or inspect.isabstract(cls):
                continue
            accepted = inspect.signature(cls.__init__).parameters
            self.executor.register_action(cls(**{k: v for k, v in dependencies.items() if k in accepted}))

    async def call(self, body: dict[str, Any]) -> dict[str, Any]:
        result = await self.executor.run(body)
        return result.model_dump() if result is not None else {"events": [], "responses": []}

    async def close(self) -> None:
        return None


def _import_actions() -> None:
    """Import every module of the actions package: each Action subclass is known once its module is imported.

    Our own walk, not rasa-sdk's private `ActionExecutor._import_submodules`, which a release may change.
    """
    import actions

    for module in pkgutil.walk_packages(actions.__path__, "actions."):
        importlib.import_module(module.name)


class HttpActions:
    """A rasa-sdk action server at `url` (e.g. http://localhost:5055/webhook)."""

    def __init__(self, url: str, timeout_seconds: float = 10.0) -> None:
        # Imported here: only a process with an action endpoint needs an HTTP client (about 9 MB resident).
        import aiohttp

        self.url = url
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    async def call(self, body: dict[str, Any]) -> dict[str, Any]:
        if self._session is None:
            import aiohttp

            self._session = aiohttp.ClientSession(timeout=self.timeout)
        async with self._session.post(self.url, json=body) as response:
            if response.status != 200:
                # The body of an error may describe the tracker; log only what identifies the failure.
                raise ActionFailed(f"action server answered {response.status} for {body.get('next_action')}")
            result: dict[str, Any] = await response.json()
            return result

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class ActionRunner:
    def __init__(self, domain: Domain, custom: CustomActions, clock: Callable[[], float]) -> None:
        self.domain = domain
        self.custom = custom
        self.clock = clock

    async def run(self, name: str, tracker: Tracker) -> tuple[list[dict[str, Any]], list[BotMessage]]:
        """Events and messages of one action (the caller records the action itself)."""
        if name in self.domain.responses:
            return [], [render(name, self.domain.responses[name], tracker.slots, {})]
        if name == "action_listen":
            return [], []
        if name == "action_deactivate_loop":
            return [loop_event(None, self.clock()), slot_event(REQUESTED_SLOT, None, self.clock())], []
        if name == "action_default_fallback":
            fallback = "utter_default"
            messages = [render(fallback, self.domain.responses[fallback], tracker.slots, {})]
            return [], messages if fallback in self.domain.responses else []
        if name == "action_restart":
            return [Restarted(timestamp=self.clock())], []
        if name in self.domain.custom_actions:
            return await self._custom(name, tracker)
        raise ActionFailed(f"no action {name}")

    async def _custom(self, name: str, tracker: Tracker) -> tuple[list[dict[str, Any]], list[BotMessage]]:
        body = {
            "next_action": name,
            "sender_id": tracker.sender_id,
            "tracker": tracker.current_state(),
            "domain": dict(self.domain.raw),
            "version": RASA_VERSION,
        }
        result = await self.custom.call(body)
        messages = [self._message(m, tracker) for m in result.get("responses") or []]
        return list(result.get("events") or []), messages

    def _message(self, message: dict[str, Any], tracker: Tracker) -> BotMessage:
        """A message from an action: a named response rendered with its keyword values, or literal text."""
        name = message.get("response") or message.get("template")
        buttons = message.get("buttons") or []
        if name and name in self.domain.responses:
            kwargs = {k: v for k, v in message.items() if k not in _MESSAGE_KEYS and v is not None}
            return render(name, self.domain.responses[name], tracker.slots, kwargs, extra_buttons=buttons)
        if name:
            logger.warning("action asked for unknown response %s", name)
        return BotMessage(
            str(message.get("text") or ""),
            tuple(Button(str(b.get("title", "")), str(b.get("payload", ""))) for b in buttons),
            None,
            message.get("custom") or None,
        )
