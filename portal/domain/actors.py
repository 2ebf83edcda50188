"""Who acts on a request. Surfaces decide who is a support agent (from their configuration) and say so here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Customer:
    """A person acting through their portal account, identified by its email."""

    email: str

    @property
    def label(self) -> str:
        return f"account:{self.email.lower()}"


@dataclass(frozen=True)
class Agent:
    """A support agent; `user_id` is how the surface knows them (a Slack user id, a CLI user)."""

    user_id: str
    name: str | None = None

    @property
    def label(self) -> str:
        return f"agent:{self.user_id}"


@dataclass(frozen=True)
class System:
    """The portal itself, e.g. the periodic task that expires transfers."""

    name: str = "system"

    @property
    def label(self) -> str:
        return self.name


Actor = Customer | Agent | System
