"""rasa-sdk's classes without its action server, for the processes that run the actions in their own event loop.

rasa_sdk's package `__init__` imports its command line and plugin hook, and with them Sanic: about 10 MB and a tenth
of a second of every start of `chargedesk shell` and `chargedesk run`, which serve no HTTP with it (only `chargedesk
actions`, a process of its own, does). Python runs a package's `__init__` before any of its modules, so no import of
`rasa_sdk.events` can skip it, except this one: `install()` registers, before anything imports rasa-sdk, a package
module of our own on the real package's path. Its modules (events, interfaces, forms, executor, …) then load from
the real package, unchanged; the names its `__init__` exports (`Tracker`, `Action`, …) load on first use; any other
name runs the real `__init__` in place, so code that wants the rest of the package still finds it.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

PACKAGE = "rasa_sdk"
# What rasa_sdk/__init__.py exports (rasa-sdk 3.x), and the module each comes from.
EXPORTS = {
    "Tracker": "rasa_sdk.interfaces",
    "Action": "rasa_sdk.interfaces",
    "ActionExecutionRejection": "rasa_sdk.interfaces",
    "ValidationAction": "rasa_sdk.forms",
    "FormValidationAction": "rasa_sdk.forms",
    "__version__": "rasa_sdk.version",
}


def install() -> bool:
    """Make `import rasa_sdk…` skip the action server; False (nothing done) when rasa-sdk is imported already."""
    if PACKAGE in sys.modules:
        return False
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return False  # not installed as a regular package: leave the import to Python
    package = importlib.util.module_from_spec(spec)  # __path__, __spec__ and __file__ of the real one, not executed

    def __getattr__(name: str) -> object:
        if name in EXPORTS:
            value = getattr(importlib.import_module(EXPORTS[name]), name)
            setattr(package, name, value)
            return value
        if name.startswith("__") or importlib.util.find_spec(f"{PACKAGE}.{name}") is not None:
            # A probe (hasattr(module, "__all__")) or a module not imported yet: `from rasa_sdk import utils`
            # asks here first, then imports the module when told it is not there.
            raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}")
        del package.__getattr__  # what rasa-sdk's `__init__` defines now comes from it
        spec.loader.exec_module(package)  # type: ignore[union-attr]
        return getattr(package, name)

    package.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[PACKAGE] = package
    return True
