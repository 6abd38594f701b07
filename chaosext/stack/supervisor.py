"""Drive the stack's supervisord through its XML-RPC interface on the unix socket."""

from __future__ import annotations

import functools
import os
import subprocess
import time
import xmlrpc.client
from collections.abc import Sequence
from typing import Any, cast

import psutil

from chaosext.common import procs
from chaosext.common.waiting import WaitTimeout, eventually, wait_until
from chaosext.errors import ComponentError
from chaosext.extras import require
from chaosext.stack.config import StackConfig
from chaosext.stack.rpcdecode import AnswerDecoder

__all__ = ["Supervisor"]

RUNNING_STATES = {"RUNNING"}


@functools.cache
def _transport_class() -> type:
    """supervisor's transport for its unix socket, decoding answers with ElementTree
    (:mod:`chaosext.stack.rpcdecode`)."""
    # supervisor is in the [stack] extra: imported here so the core installs without it; the
    # extra is checked (a few module look-ups) only when the import fails, to name it
    try:
        from supervisor.xmlrpc import SupervisorTransport
    except ImportError:
        require("stack", "the local stack's supervisor")
        raise

    class Transport(SupervisorTransport):
        def getparser(self) -> tuple[Any, AnswerDecoder]:
            return AnswerDecoder.pair()

    return Transport


class Supervisor:
    """A thin client of one supervisord (the stack's), addressed by its config."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config

    def _proxy(self) -> Any:
        transport = _transport_class()(None, None, f"unix://{self.config.supervisor_socket}")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)

    @property
    def rpc(self) -> Any:
        return self._proxy().supervisor

    def pid(self) -> int | None:
        """supervisord's pid if it runs (from its pid file, checked against the process's command line)."""
        try:
            pid = int(self.config.supervisor_pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if any("supervisord" in arg for arg in procs.cmdline(pid)) else None

    def is_running(self) -> bool:
        if self.pid() is None:
            return False
        try:
            return bool(self.rpc.getState()["statename"] == "RUNNING")
        except (OSError, xmlrpc.client.Fault, xmlrpc.client.ProtocolError):
            return False

    def start_daemon(self, timeout: float = 15.0) -> None:
        """Start supervisord (it daemonizes) and wait until its RPC answers."""
        require("stack", "the local stack")
        supervisord = self.config.venv / "bin" / "supervisord"
        if not supervisord.exists():
            raise ComponentError(
                f"supervisor: {supervisord} is missing; install chaosext-backend[stack] into {self.config.venv} "
                "(or point CHAOSEXT_VENV at the environment that has it)"
            )
        proc = subprocess.run(
            [str(supervisord), "-c", str(self.config.supervisor_conf)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if proc.returncode != 0:
            raise ComponentError(
                f"supervisor: supervisord failed to start (exit {proc.returncode}): "
                f"{(proc.stdout + proc.stderr).strip()[-800:]}; see {self.config.logs / 'supervisord.log'}"
            )
        try:
            wait_until("supervisord's RPC", self.is_running, timeout_s=timeout, interval_s=0.1)
        except WaitTimeout:
            raise ComponentError(
                f"supervisor: supervisord did not answer on {self.config.supervisor_socket} "
                f"within {timeout:.0f}s; "
                f"see {self.config.logs / 'supervisord.log'}"
            ) from None

    def update(self, force_after: dict[str, float] | None = None) -> list[str]:
        """Apply a changed config (like ``supervisorctl update``, but stopping the changed programs at
        once rather than one by one); returns the names it (re)started."""
        rpc = self.rpc
        added, changed, removed = rpc.reloadConfig()[0]
        if removed or changed:
            self.stop_all(timeout=60, force_after=force_after, only=set(removed + changed))
        for name in removed + changed:
            rpc.removeProcessGroup(name)
        for name in added + changed:
            rpc.addProcessGroup(name)
        return cast(list[str], added + changed)

    def processes(self) -> dict[str, dict[str, Any]]:
        """``getAllProcessInfo`` keyed by program name (empty when supervisord is not running)."""
        if self.pid() is None:
            return {}
        try:
            infos = self.rpc.getAllProcessInfo()
        except (OSError, xmlrpc.client.Fault, xmlrpc.client.ProtocolError):
            return {}
        return {info["name"]: info for info in infos}

    def infos_of(self, names: Sequence[str]) -> list[dict[str, Any]]:
        """``getProcessInfo`` of each of ``names``, in one call (``system.multicall``); a name
        supervisord does not know comes back as a fault struct (with ``faultCode``), not raised."""
        calls = [{"methodName": "supervisor.getProcessInfo", "params": [name]} for name in names]
        return cast(list[dict[str, Any]], self._proxy().system.multicall(calls))

    def start_stopped(self) -> list[str]:
        """Start every program that is not running or starting; returns their names."""
        started = []
        for name, info in self.processes().items():
            if info["statename"] in {"STOPPED", "EXITED", "FATAL", "BACKOFF"}:
                try:
                    self.rpc.startProcess(name, False)
                except xmlrpc.client.Fault as exc:
                    if "ALREADY_STARTED" not in exc.faultString:
                        raise
                started.append(name)
        return started

    def stop_all(
        self,
        timeout: float,
        force_after: dict[str, float] | None = None,
        only: set[str] | None = None,
    ) -> list[str]:
        """Stop every program (or those in ``only``) at once, not one by one; wait until they stopped.

        ``force_after`` maps a name prefix to seconds after which a program still stopping gets
        SIGKILL (the last Kafka broker of a cluster that is going away cannot shut down cleanly:
        it has no controller quorum left). Returns the names that were killed.
        """
        rpc = self.rpc
        for name, info in self.processes().items():
            if only is not None and name not in only:
                continue
            if info["statename"] in {"RUNNING", "STARTING", "BACKOFF"}:
                try:
                    rpc.stopProcess(name, False)
                except xmlrpc.client.Fault as exc:
                    if "NOT_RUNNING" not in exc.faultString:
                        raise
        started = time.monotonic()
        killed: list[str] = []

        def all_stopped() -> bool:
            infos = {n: i for n, i in self.processes().items() if only is None or n in only}
            stopping = [
                n
                for n, i in infos.items()
                if i["statename"] in {"RUNNING", "STARTING", "BACKOFF", "STOPPING"}
            ]
            for name in stopping:
                limit = next(
                    (t for prefix, t in (force_after or {}).items() if name.startswith(prefix)), None
                )
                if limit is not None and name not in killed and time.monotonic() - started > limit:
                    try:
                        rpc.signalProcess(name, "KILL")
                        killed.append(name)
                    except xmlrpc.client.Fault:
                        pass
            return not stopping

        eventually("the programs to stop", all_stopped, timeout_s=timeout, interval_s=0.2)
        return killed

    def shutdown(self, timeout: float) -> None:
        """Ask supervisord to exit and wait for its pid to go away."""
        pid = self.pid()
        if pid is None:
            return
        try:
            self.rpc.shutdown()
        except (OSError, xmlrpc.client.Fault, xmlrpc.client.ProtocolError):
            os.kill(pid, 15)
        try:  # wait for the process itself: supervisord removes its pid file before it exits
            psutil.Process(pid).wait(timeout)
        except psutil.NoSuchProcess:
            pass
        except psutil.TimeoutExpired:
            return

    def stop_program(self, name: str, wait: bool = True) -> None:
        self.rpc.stopProcess(name, wait)

    def start_program(self, name: str, wait: bool = True) -> None:
        self.rpc.startProcess(name, wait)

    def signal_program(self, name: str, signal: str) -> None:
        self.rpc.signalProcess(name, signal)
