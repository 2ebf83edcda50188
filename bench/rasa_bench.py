"""The same conversations through a real Rasa Open Source 3.6.21 server and through the embedded engine.

    make bench-rasa        # builds .venv-rasa and the model if needed (not part of CI: ~2.7 GB)

Rasa runs our trained model (var/rasa-models/chargedesk.tar.gz) with its REST channel and our action server
(`chargedesk actions`); the embedded engine runs in this process. Both use their own copy of the demo data.
Reported for each: start-up time, turns per second and p50/p99 turn latency with 1 and 20 concurrent
conversations, resident memory, and whether both took the same actions in every conversation.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import markdown_table, percentile, publish
from bot.config import DESIGN_ROOT
from bot.engine.actions import InProcessActions
from bot.engine.engine import Engine, prepare
from bot.engine.model_cache import DEFAULT_CACHE
from bot.engine.rasa_server import RasaServer
from bot.engine.store import TrackerStore
from portal.bootstrap import Portal
from portal.demo import seed_demo

ROOT = Path(__file__).resolve().parent.parent
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
MODEL = ROOT / "var" / "rasa-models" / "chargedesk.tar.gz"
IGNORED = {"action_listen", "action_session_start", "action_extract_slots"}
SCRIPTS: dict[str, tuple[str, list[str]]] = {
    "carla": (
        "carla@citycharge.example",
        [
            "hello",
            "/have_question",
            "/request_service_ticket",
            '/inform{"serial": "10001R002"}',
            "Socket two stops charging after a minute",
            "/submit",  # the summary's Submit (issue 13) files the ticket
            "thanks!",
        ],
    ),
    "ben": (
        "ben@greenfleet.example",
        [
            "my charger ACE0100002 is broken",
            '/request_transfer{"serial": "ACE0100002"}',
            "We bought it from VoltWay in 2025",
            "/affirm",
        ],
    ),
    "dave": (
        "dave@newcustomer.example",
        ["/have_question", "/request_admin_change", "Please link me to GreenFleet Logistics", "/submit"],
    ),
    "faq": (
        "ben@greenfleet.example",
        ["what is a service operator", "why am i not the service operator", "purple monkey dishwasher"],
    ),
}

Say = Callable[[str, str, dict[str, Any]], Awaitable[Any]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def train_model_cache() -> None:
    """Train the classifier into the model cache, in a process of its own, unless it is there already.

    Rasa starts from the model `rasa train` wrote; the embedded engine likewise starts from the classifier an earlier
    start trained and cached (as `chargedesk run` does), so both start-ups are measured with a trained model, and the
    training's memory stays out of this process's peak.
    """
    script = (
        "from bot.config import DESIGN_ROOT; from bot.engine.engine import prepare; "
        "from bot.engine.model_cache import DEFAULT_CACHE; prepare(DESIGN_ROOT, DEFAULT_CACHE)"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=ROOT)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def wait_http(url: str, process: subprocess.Popen[bytes], limit: float) -> float:
    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        while time.perf_counter() - started < limit:
            if process.poll() is not None:
                raise RuntimeError(f"{url}: the process exited with {process.returncode}")
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return time.perf_counter() - started
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not come up within {limit} s")


async def converse(say: Say, tag: str, concurrency: int, latencies: list[float]) -> int:
    jobs = [(f"{tag}-{name}-{i}", email, texts) for i in range(concurrency) for name, (email, texts) in SCRIPTS.items()]

    async def one(sender: str, email: str, texts: list[str]) -> None:
        for text in texts:
            start = time.perf_counter()
            await say(sender, text, {"requester": {"email": email}})
            latencies.append((time.perf_counter() - start) * 1000)

    semaphore = asyncio.Semaphore(concurrency)

    async def limited(job: tuple[str, str, list[str]]) -> None:
        async with semaphore:
            await one(*job)

    await asyncio.gather(*(limited(job) for job in jobs))
    return len(jobs)


async def measure(say: Say, tag: str) -> dict[str, float]:
    figures: dict[str, float] = {}
    for concurrency in (1, 20):
        latencies: list[float] = []
        started = time.perf_counter()
        await converse(say, f"{tag}{concurrency}", concurrency, latencies)
        elapsed = time.perf_counter() - started
        figures[f"tps_{concurrency}"] = len(latencies) / elapsed
        figures[f"p50_{concurrency}"] = percentile(latencies, 50)
        figures[f"p99_{concurrency}"] = percentile(latencies, 99)
    return figures


async def rasa_actions(url: str, sender: str) -> list[str]:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/conversations/{sender}/tracker") as response:
        tracker = await response.json()
    return [e["name"] for e in tracker.get("events", []) if e.get("event") == "action" and e["name"] not in IGNORED]


async def main_async() -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="chargedesk-rasa-bench-"))
    rasa_db = f"sqlite+aiosqlite:///{workdir / 'rasa-side.db'}"
    env = {**os.environ, "DATABASE_URL": rasa_db, "SANIC_HOST": "127.0.0.1", "RASA_TELEMETRY_ENABLED": "false"}
    # Set-up before anything is measured: blocking the loop here costs nothing.
    subprocess.run(  # noqa: ASYNC221
        [sys.executable, "-m", "bot.cli", "seed", "--demo"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    action_port, rasa_port = free_port(), free_port()
    (workdir / "endpoints.yml").write_text(f"action_endpoint:\n  url: http://127.0.0.1:{action_port}/webhook\n")
    (workdir / "credentials.yml").write_text("rest:\n")
    actions = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(action_port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    rasa = subprocess.Popen(  # noqa: ASYNC220
        [
            str(RASA),
            "run",
            "--model",
            str(MODEL),
            "--endpoints",
            str(workdir / "endpoints.yml"),
            "--credentials",
            str(workdir / "credentials.yml"),
            "--port",
            str(rasa_port),
            "--enable-api",
            "--interface",
            "127.0.0.1",
        ],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    result: dict[str, Any] = {}
    try:
        await wait_http(f"http://127.0.0.1:{action_port}/health", actions, 60)
        result["rasa_startup_s"] = await wait_http(f"http://127.0.0.1:{rasa_port}/status", rasa, 300)
        url = f"http://127.0.0.1:{rasa_port}"
        client = RasaServer(url, timeout_seconds=60)
        await client.handle("warm-up", "hello", {})
        result["rasa"] = await measure(client.handle, "rasa")
        result["rasa_rss_mb"] = rss_mb(rasa.pid) + rss_mb(actions.pid)
        rasa_paths = {name: await rasa_actions(url, f"rasa1-{name}-0") for name in SCRIPTS}
        await client.close()
    finally:
        for process in (rasa, actions):
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)

    train_model_cache()
    started = time.perf_counter()
    portal = Portal.connect(f"sqlite+aiosqlite:///{workdir / 'embedded.db'}")
    await portal.upgrade()
    await seed_demo(portal.uow())
    design, interpreter = prepare(DESIGN_ROOT, DEFAULT_CACHE)
    engine = Engine(design, interpreter, TrackerStore(portal.engine), InProcessActions(portal=portal))
    await engine.handle("warm-up", "hello", {})
    result["engine_startup_s"] = time.perf_counter() - started
    result["engine"] = await measure(engine.handle, "engine")
    result["engine_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    same, differ = [], {}
    for name in SCRIPTS:
        tracker = await engine.tracker(f"engine1-{name}-0")
        ours = [e["name"] for e in tracker.events if e.get("event") == "action" and e["name"] not in IGNORED]
        if ours == rasa_paths[name]:
            same.append(name)
        else:
            differ[name] = {"rasa": rasa_paths[name], "embedded": ours}
    result["same_actions"], result["differences"] = same, differ
    await engine.close()
    await portal.close()
    return result


def report(r: dict[str, Any]) -> str:
    rasa, ours = r["rasa"], r["engine"]
    rows = [
        ("start-up (ready to answer)", f"{r['rasa_startup_s']:.1f} s", f"{r['engine_startup_s']:.2f} s"),
        ("turns per second, 1 conversation at a time", f"{rasa['tps_1']:.0f}", f"{ours['tps_1']:.0f}"),
        (
            "turn latency p50 / p99, 1 at a time",
            f"{rasa['p50_1']:.0f} / {rasa['p99_1']:.0f} ms",
            f"{ours['p50_1']:.1f} / {ours['p99_1']:.1f} ms",
        ),
        ("turns per second, 20 concurrent", f"{rasa['tps_20']:.0f}", f"{ours['tps_20']:.0f}"),
        (
            "turn latency p50 / p99, 20 concurrent",
            f"{rasa['p50_20']:.0f} / {rasa['p99_20']:.0f} ms",
            f"{ours['p50_20']:.1f} / {ours['p99_20']:.1f} ms",
        ),
        (
            "resident memory",
            f"{r['rasa_rss_mb']:.0f} MB (Rasa + action server)",
            f"{r['engine_rss_mb']:.0f} MB (peak, whole process)",
        ),
    ]
    lines = [
        "## Against Rasa Open Source 3.6.21 (issue 8, `make bench-rasa`)",
        "",
        f"Command: `make bench-rasa`; machine: {os.cpu_count()} cores; {len(SCRIPTS)} scripted conversations "
        "(carla's ticket, ben's transfer, dave's administrative request, questions and nonsense), each run once per "
        "concurrent user.",
        "",
        *markdown_table(("measure", "Rasa 3.6.21 server", "embedded engine"), rows),
        "",
        f"Same actions in every turn: {len(r['same_actions'])} of {len(SCRIPTS)} conversations "
        f"({', '.join(r['same_actions']) or 'none'}).",
    ]
    for name, paths in r["differences"].items():
        lines.append(f"- {name}: Rasa {paths['rasa']}; embedded {paths['embedded']}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description="Rasa 3.6 versus the embedded engine")
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    if not RASA.exists() or not MODEL.exists():
        sys.exit("run `make rasa-check` first (it builds .venv-rasa and trains the model)")
    section = report(asyncio.run(main_async()))
    publish(section, args.write)


if __name__ == "__main__":
    main()
