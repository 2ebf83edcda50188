"""How actions reach the portal: injected in tests and embedded mode, else one per process from DATABASE_URL."""

from __future__ import annotations

from portal.bootstrap import Portal

_default: Portal | None = None


def default_portal() -> Portal:
    """The process-wide portal, created on first use (never at import time)."""
    global _default
    if _default is None:
        _default = Portal.connect()
    return _default


class UsesPortal:
    """Mixin for actions: `portal` is a constructor default, so rasa-sdk can still build them with no arguments."""

    def __init__(self, portal: Portal | None = None) -> None:
        self._portal = portal

    @property
    def portal(self) -> Portal:
        return self._portal or default_portal()
