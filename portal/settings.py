"""The portal's own configuration. Read when asked, never at import time."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_SQLITE_PATH = Path("var") / "chargedesk.db"


def database_url() -> str:
    """`DATABASE_URL`, or a SQLite file under ./var/ (created on demand)."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url
    DEFAULT_SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH}"
