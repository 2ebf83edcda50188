"""Benchmark of start-up and resident memory of the processes people start (issue 18).

    python -m bench.startup_bench                          # 3 runs of each, prints a Markdown section
    python -m bench.startup_bench --write BENCHMARKS.md
    python -m bench.startup_bench --baseline /tmp/before   # the same commands on another checkout, alternating

Each measure is a fresh process, as a person starts it, on a temporary SQLite database seeded with the demo data:

* `chargedesk shell` answering one message ("hello"): seconds from the start of the process to the answer on its
  standard output, and the process's peak resident memory (`ru_maxrss` of the child, from `wait4`);
* `chargedesk run` (HTTP mode, tokens that reach no Slack): seconds until `/readyz` answers 200, and the peak
  resident memory once it is ready (then it is stopped with SIGTERM);

each with a cold model cache (an empty `CHARGEDESK_MODEL_CACHE`: the classifier is trained, then cached) and a warm
one (the cache the cold start wrote). Medians of `--runs` runs. `--baseline DIR` runs the same commands with the
code of the checkout DIR first on the module path (its own design files), one run of each after the other, so both
columns share the machine's load.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bench.common import TARGET_COLUMNS, command_line, machine, markdown_table, publish

TARGET_STARTUP_S = 1.0
TARGET_RSS_MB = 120.0
MESSAGE = "hello"
ANSWER_MARK = b"you> chargedesk:"  # the shell's first answer follows the prompt on the same line
READY_TIMEOUT_S = 120.0
# Variables of the machine's environment that would change what the processes do.
_CLEARED = ("RASA_URL", "ACTION_ENDPOINT_URL", "SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")


@dataclass(frozen=True)
class Sample:
    seconds: float
    peak_mb: float


def environment(directory: Path, code: Path | None) -> dict[str, str]:
    """The processes' environment: a database and a model cache of their own, nothing that reaches Slack or Rasa."""
    env = {key: value for key, value in os.environ.items() if key not in _CLEARED}
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{directory / 'bench.db'}",
        # The default folder (var/models under the working directory) spelled out: `chargedesk run` builds its
        # engine with the default, the shell with the setting; both must find the same cache.
        CHARGEDESK_MODEL_CACHE=str(directory / "var" / "models"),
        CHARGEDESK_TURN_WORKERS="0",
        LOG_LEVEL="ERROR",
        PYTHONUNBUFFERED="1",  # the answer must reach the pipe when it is written, not at exit
    )
    if code is not None:
        env["PYTHONPATH"] = str(code)
    return env


def chargedesk(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "bot.cli", *arguments]


def _wait(process: subprocess.Popen[bytes]) -> float:
    """Reaps ``process``; its peak resident memory in MB."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024


def shell_once(env: Mapping[str, str], cwd: Path) -> Sample:
    """`chargedesk shell` answering one message: seconds to the answer, and the peak resident memory."""
    started = time.perf_counter()
    process = subprocess.Popen(
        chargedesk("shell", "--as", "carla@citycharge.example"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=dict(env),
        cwd=cwd,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(f"{MESSAGE}\n".encode())
    process.stdin.close()  # end of input: the shell says goodbye after its answer
    output = b""
    answered = None
    while chunk := os.read(process.stdout.fileno(), 65536):
        output += chunk
        if answered is None and ANSWER_MARK in output:
            answered = time.perf_counter() - started
    peak = _wait(process)
    if answered is None or process.returncode != 0:
        raise RuntimeError(f"the shell did not answer (exit {process.returncode}): {output[-500:]!r}")
    return Sample(answered, peak)


def run_once(env: Mapping[str, str], cwd: Path) -> Sample:
    """`chargedesk run` until /readyz answers 200: seconds to ready, and the peak resident memory by then."""
    port = _free_port()
    ready_url = f"http://127.0.0.1:{port}/readyz"
    slack = {
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": "bench-secret",
        "SLACK_API_URL": f"http://127.0.0.1:{_free_port()}/api/",  # nothing listens: no request leaves the machine
        "PORT": str(port),
    }
    started = time.perf_counter()
    process = subprocess.Popen(
        chargedesk("run"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**env, **slack}, cwd=cwd
    )
    try:
        ready = _wait_until_ready(ready_url, process, started)
    finally:
        process.send_signal(signal.SIGTERM)
    peak = _wait(process)
    return Sample(ready, peak)


def _wait_until_ready(url: str, process: subprocess.Popen[bytes], started: float) -> float:
    while time.perf_counter() - started < READY_TIMEOUT_S:
        if process.poll() is not None:
            raise RuntimeError(f"`chargedesk run` exited with {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=1.0) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.01)
    raise RuntimeError(f"`chargedesk run` was not ready within {READY_TIMEOUT_S:.0f} s")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def seed(env: Mapping[str, str], cwd: Path) -> None:
    subprocess.run(chargedesk("seed", "--demo"), env=dict(env), cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def measure(runs: int, baseline: Path | None) -> dict[str, dict[str, list[Sample]]]:
    """Samples per code ("after", and "before" with a baseline) and per measure, one code after the other."""
    codes: dict[str, Path | None] = {"after": None}
    if baseline is not None:
        codes = {"before": baseline, "after": None}
    samples: dict[str, dict[str, list[Sample]]] = {name: {} for name in codes}
    with tempfile.TemporaryDirectory() as top:
        for _ in range(runs):
            for name, code in codes.items():
                directory = Path(tempfile.mkdtemp(dir=top))
                env = environment(directory, code)
                seed(env, directory)
                found = samples[name]
                found.setdefault("shell_cold", []).append(shell_once(env, directory))
                found.setdefault("shell_warm", []).append(shell_once(env, directory))
                shutil.rmtree(directory / "var" / "models", ignore_errors=True)  # cold again (a baseline writes none)
                found.setdefault("run_cold", []).append(run_once(env, directory))
                found.setdefault("run_warm", []).append(run_once(env, directory))
    return samples


def medians(samples: list[Sample]) -> Sample:
    return Sample(statistics.median(s.seconds for s in samples), statistics.median(s.peak_mb for s in samples))


def report(samples: dict[str, dict[str, list[Sample]]], command: str, runs: int) -> str:
    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    after = {measure: medians(found) for measure, found in samples["after"].items()}
    before = {measure: medians(found) for measure, found in samples.get("before", {}).items()}

    def cell(measure: str, field: str) -> str:
        unit = " s" if field == "seconds" else " MB"
        value = getattr(after[measure], field)
        text = f"{value:.2f}{unit}" if field == "seconds" else f"{value:.0f}{unit}"
        if measure in before:
            old = getattr(before[measure], field)
            text = (f"{old:.2f}" if field == "seconds" else f"{old:.0f}") + f" → {text}"
        return text

    rows = []
    for process, what in (("shell", "to the first answer"), ("run", "to /readyz 200")):
        for cache in ("cold", "warm"):
            key = f"{process}_{cache}"
            rows.append(
                (
                    f"`chargedesk {process}` start-up {what}, {cache} model cache",
                    cell(key, "seconds"),
                    f"≤ {TARGET_STARTUP_S:.0f} s",
                    verdict(after[key].seconds <= TARGET_STARTUP_S),
                )
            )
            rows.append(
                (
                    f"`chargedesk {process}` peak resident memory, {cache} model cache",
                    cell(key, "peak_mb"),
                    f"≤ {TARGET_RSS_MB:.0f} MB",
                    verdict(after[key].peak_mb <= TARGET_RSS_MB),
                )
            )
    lines = [
        "## Start-up and memory (issue 18)",
        "",
        f"Command: `{command}` — medians of {runs} fresh processes each; machine: {machine()}, SQLite."
        + (" Before → after: the baseline checkout and this one, alternating." if before else ""),
        "",
        *markdown_table(TARGET_COLUMNS, rows),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per measure (median)")
    parser.add_argument("--baseline", type=Path, help="a checkout to measure as well, e.g. of the previous commit")
    parser.add_argument("--write", type=Path, help="update this Markdown file's section")
    args = parser.parse_args()
    samples = measure(args.runs, args.baseline.resolve() if args.baseline else None)
    publish(report(samples, command_line("bench.startup_bench", sys.argv[1:]), args.runs), args.write)


if __name__ == "__main__":
    main()
