"""What `chargedesk shell` and `chargedesk run` import to start on a current schema and a warm model cache (issue 18).

Alembic (with Mako and Pygments) only upgrades a schema, and Sanic serves only the standalone action server; each
costs about 10 MB and a tenth of a second or more of every start. The benchmark (bench/startup_bench.py) measures
the time; these tests keep the imports out.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from bot.config import DESIGN_ROOT
from bot.engine.model_cache import cache_key, cache_path, save

ROOT = Path(__file__).resolve().parents[2]
NOT_AT_START = ("alembic", "mako", "pygments", "sanic", "rasa_sdk.cli", "rasa_sdk.plugin")
# `main` as the console script runs it; at exit, which of the names given on the command line were imported.
CHARGEDESK = textwrap.dedent(
    """
    import atexit, sys
    watched = sys.argv[1].split(",")
    atexit.register(lambda: print("IMPORTED", *sorted(name for name in watched if name in sys.modules), flush=True))
    from bot.cli import main
    sys.exit(main(sys.argv[2:]))
    """
)


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory: pytest.TempPathFactory, trained: tuple[Any, Any]) -> Path:
    """The design's model cache, written from the session's trained interpreter."""
    design, interpreter = trained
    cache = tmp_path_factory.mktemp("models")
    key = cache_key(DESIGN_ROOT, design.domain.intents, design.domain.entities)
    assert save(cache_path(cache, key), key, interpreter.model)
    return cache


def environment(tmp_path: Path, sqlite_template: Path, warm_cache: Path) -> dict[str, str]:
    """A database already at the newest migration, the warm cache, nothing that reaches Slack or Rasa."""
    database = tmp_path / "current.db"
    shutil.copy(sqlite_template, database)
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SLACK_", "RASA_", "ACTION_ENDPOINT", "DATABASE_", "CHARGEDESK_"))
    }
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        CHARGEDESK_MODEL_CACHE=str(warm_cache),
        CHARGEDESK_TURN_WORKERS="0",
        PYTHONPATH=str(ROOT),
    )
    return env


def imported(output: str) -> list[str]:
    [line] = [line for line in output.splitlines() if line.startswith("IMPORTED")]
    return line.split()[1:]


def test_the_shell_answers_without_alembic_or_sanic(tmp_path: Path, sqlite_template: Path, warm_cache: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHARGEDESK, ",".join(NOT_AT_START), "shell", "--as", "carla@citycharge.example"],
        input="hello\n",
        capture_output=True,
        text=True,
        env=environment(tmp_path, sqlite_template, warm_cache),
        cwd=tmp_path,
        timeout=120,
        check=True,
    )
    assert "you> chargedesk: " in result.stdout  # it answered
    assert imported(result.stdout) == []


def test_run_gets_ready_without_alembic_or_sanic(tmp_path: Path, sqlite_template: Path, warm_cache: Path) -> None:
    port = free_port()
    env = {
        **environment(tmp_path, sqlite_template, warm_cache),
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "test-secret",
        "SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/",  # nothing listens there
        "PORT": str(port),
    }
    process = subprocess.Popen(
        [sys.executable, "-c", CHARGEDESK, ",".join(NOT_AT_START), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/readyz", process)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert imported(output) == []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_ready(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120  # start-up speed is the benchmark's matter, not this test's
    while time.monotonic() < deadline:
        assert process.poll() is None, "chargedesk run exited before it was ready"
        try:
            with urllib.request.urlopen(url, timeout=1.0) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.05)
    raise AssertionError("chargedesk run was not ready in time")
