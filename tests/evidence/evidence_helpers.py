"""Helpers of the evidence tests: real `chaos run` journals, a small real HTTP service, the CLI.

(Not a conftest.py: other test folders import the root conftest by name.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import typer
from support import wait_until
from typer.testing import CliRunner

from chaosext.evidence.cli import archive, compare, gate, report

HERE = Path(__file__).resolve().parent
CHAOS = Path(sys.executable).parent / "chaos"
PY = sys.executable


def cli_app() -> typer.Typer:
    """The evidence commands mounted the way chaosext.cli mounts them."""
    app = typer.Typer(add_completion=False)
    for command in (gate, report, compare, archive):
        app.command()(command)
    return app


def make_cli() -> Callable[..., Any]:
    """Invoke the evidence commands as a user would (exit code and output)."""
    app, runner = cli_app(), CliRunner()

    def invoke(*args: Any) -> Any:
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return invoke


def process(code: str, **extra: Any) -> dict[str, Any]:
    return {"type": "process", "path": PY, "arguments": ["-c", code], **extra}


def probe(name: str, code: str) -> dict[str, Any]:
    return {"type": "probe", "name": name, "tolerance": 0, "provider": process(code)}


def action(name: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"type": "action", "name": name, "provider": process(code), **extra}


def python_action(
    name: str, func: str, arguments: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    provider = {"type": "python", "module": "evidence_workload", "func": func, "arguments": arguments or {}}
    return {"type": "action", "name": name, "provider": provider, **extra}


def experiment(
    title: str,
    probes: list[dict[str, Any]],
    method: list[dict[str, Any]],
    rollbacks: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "version": "1.0.0",
        "title": title,
        "description": "evidence test",
        "steady-state-hypothesis": {"title": "checkout stays healthy", "probes": probes},
        "method": method,
        "rollbacks": rollbacks or [],
        **extra,
    }


@dataclass
class ChaosRun:
    returncode: int
    journal: Path
    log: Path
    experiment: Path

    def data(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.journal.read_text())
        return loaded


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")]).strip(os.pathsep)
    return env


def _command(folder: Path, name: str, *args: str) -> list[str]:
    return [
        str(CHAOS),
        "--log-file",
        str(folder / f"{name}.log"),
        "run",
        "--journal-path",
        str(folder / f"{name}.journal.json"),
        *args,
        str(folder / f"{name}.experiment.json"),
    ]


def _write(folder: Path, name: str, spec: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.experiment.json"
    path.write_text(json.dumps(spec, indent=2))
    return path


def run_chaos(folder: Path, name: str, spec: dict[str, Any], *args: str, timeout: float = 120) -> ChaosRun:
    """`chaos run` an experiment for real; always with --rollback-strategy always unless told otherwise."""
    path = _write(folder, name, spec)
    if "--rollback-strategy" not in args:
        args = ("--rollback-strategy", "always", *args)
    proc = subprocess.run(
        _command(folder, name, *args), capture_output=True, text=True, timeout=timeout, env=_env(), cwd=folder
    )
    journal = folder / f"{name}.journal.json"
    assert journal.is_file(), f"chaos run wrote no journal\n{proc.stdout}\n{proc.stderr}"
    return ChaosRun(proc.returncode, journal, folder / f"{name}.log", path)


def run_chaos_interrupted(folder: Path, name: str, spec: dict[str, Any], marker: str) -> ChaosRun:
    """Start `chaos run`, send SIGTERM once the log shows ``marker``, return the journal it leaves."""
    path = _write(folder, name, spec)
    log = folder / f"{name}.log"
    proc = subprocess.Popen(
        _command(folder, name, "--rollback-strategy", "always"),
        env=_env(),
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(
            f"'{marker}' in {log}",
            lambda: log.is_file() and marker in log.read_text(errors="replace"),
            timeout=60,
            interval=0.1,
        )
        proc.send_signal(signal.SIGTERM)
        returncode = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    return ChaosRun(returncode, folder / f"{name}.journal.json", log, path)


class _Service(BaseHTTPRequestHandler):
    fault_file: Path
    counter = 0
    lock = threading.Lock()

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        started = time.time()
        fault: dict[str, float] = {}
        if self.fault_file.is_file():
            fault = json.loads(self.fault_file.read_text() or "{}")
        with self.lock:
            type(self).counter += 1
            count = type(self).counter
        time.sleep(float(fault.get("delay_ms", 5)) / 1000)
        every = int(fault.get("error_every", 0))
        status = 500 if every and count % every == 0 else 200
        body = b"ok" if status == 200 else b"payment timeout"
        self.send_response(status)
        self.send_header("X-Server-Time-Ms", f"{(time.time() - started) * 1000:.2f}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return


@dataclass
class Service:
    url: str
    fault_file: Path


@contextmanager
def running_service(folder: Path) -> Iterator[Service]:
    """A real HTTP service on 127.0.0.1 whose latency/errors follow ``fault_file`` while it exists."""
    fault_file = folder / "fault.json"
    handler = type("Handler", (_Service,), {"fault_file": fault_file})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Service(url=f"http://127.0.0.1:{server.server_address[1]}/checkout", fault_file=fault_file)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
