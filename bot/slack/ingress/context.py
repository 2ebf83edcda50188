"""Who is talking where: one conversation per (workspace, channel, thread, user), and the metadata the engine gets."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

NO_THREAD = "-"


@dataclass(frozen=True)
class Conversation:
    team_id: str  # the acting user's own workspace (differs from the channel's in Slack Connect)
    user_id: str
    channel_id: str
    thread_ts: str | None  # None in DMs
    surface: str  # "channel", "im", "shortcut"

    @property
    def sender_id(self) -> str:
        return f"{self.team_id}:{self.channel_id}:{self.thread_ts or NO_THREAD}:{self.user_id}"

    @property
    def is_private(self) -> bool:
        """DMs are private: everything can be said there. In channels, details go ephemeral."""
        return self.surface == "im" or self.channel_id.startswith("D")

    def metadata(self, requester: dict[str, Any] | None = None) -> dict[str, Any]:
        """`requester` comes from the identity resolver (`Person.requester()`); without one nobody is known."""
        who = requester or {"email": None, "slack_user_id": self.user_id, "slack_team_id": self.team_id}
        return {
            "requester": who,
            "conversation": {"surface": self.surface, "channel_id": self.channel_id, "thread_ts": self.thread_ts},
        }

    def dumps(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def loads(cls, text: str) -> Conversation:
        data = json.loads(text)
        return cls(
            str(data["team_id"]),
            str(data["user_id"]),
            str(data["channel_id"]),
            data.get("thread_ts"),
            str(data["surface"]),
        )


def acting_team(user: dict[str, Any] | None, fallback: str | None) -> str:
    """The acting user's team: in Slack Connect channels it is theirs, not the workspace the event came from."""
    team = (user or {}).get("team_id") or fallback
    return str(team or "")
