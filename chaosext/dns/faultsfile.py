"""DNS faults read from a JSON file the DNS server polls: how faults reach the server in a cluster.

On Kubernetes the file is the key ``faults.json`` of the ConfigMap ``chaosext-dns-faults``
mounted into the DNS forwarder's pod; chaosext changes it through the API server only (it never
reaches the pod). Format::

    {"faults": {"payment.chaosext.test": {"kind": "delay", "delay_ms": 300, "jitter_ms": 0,
                                          "expires_at": 1767225600.0, "fault_id": "dns-..."}}}

``fault_id`` is chaosext's bookkeeping and is ignored by the server. Entries whose ``expires_at``
has passed are ignored, so a fault ends on time even if nobody cleans the ConfigMap.

The server runs :class:`FaultsFileWatcher` (``--faults-file PATH``): it polls the file and keeps
the faults that came from it in the server's fault store, next to the control API's.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any, Protocol

__all__ = ["BOOKKEEPING_FIELDS", "FaultsFileWatcher", "dump_faults", "load_faults", "read_faults"]

log = logging.getLogger("chaosext.dns")

BOOKKEEPING_FIELDS = ("fault_id",)


class _Store(Protocol):
    def put(self, fault: Any) -> None: ...

    def delete(self, name: str) -> bool: ...


def load_faults(text: str) -> dict[str, dict[str, Any]]:
    """The ``faults`` mapping of a faults file's text (empty text = no faults); ValueError if malformed."""
    if not text.strip():
        return {}
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("faults", {}), dict):
        raise ValueError('a faults file must be a JSON object {"faults": {name: fault}}')
    faults: dict[str, dict[str, Any]] = data.get("faults", {})
    for name, body in faults.items():
        if not isinstance(body, dict):
            raise ValueError(f"fault {name!r} must be a JSON object, got {body!r}")
    return faults


def dump_faults(faults: dict[str, dict[str, Any]]) -> str:
    return json.dumps({"faults": faults}, indent=2, sort_keys=True) + "\n"


def read_faults(text: str, now: float) -> list[Any]:
    """The server's Fault objects for the unexpired, valid entries of a faults file's text."""
    from chaosext.dns.server import FaultError, parse_fault

    out = []
    for name, body in load_faults(text).items():
        clean = {k: v for k, v in body.items() if k not in BOOKKEEPING_FIELDS}
        try:
            out.append(parse_fault(name, clean, now))
        except FaultError as exc:
            log.info("faults file: ignoring the fault on %s: %s", name, exc)
    return out


class FaultsFileWatcher:
    """Polls ``path`` every ``interval`` seconds and mirrors its faults into ``store``."""

    def __init__(self, path: Path, store: _Store, interval: float = 1.0) -> None:
        self.path = Path(path)
        self.store = store
        self.interval = interval
        self._text: str | None = None
        self._names: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dns-faults-file", daemon=True)

    def start(self) -> None:
        self.poll()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def poll(self) -> None:
        """Apply the file's faults if its content changed (a missing file holds no faults)."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            text = ""
        except OSError as exc:
            log.warning("faults file %s unreadable, keeping the current faults: %s", self.path, exc)
            return
        if text == self._text:
            return
        try:
            faults = read_faults(text, time.time())
        except ValueError as exc:
            log.error("faults file %s: %s; keeping the current faults", self.path, exc)
            self._text = text
            return
        names = {f.name for f in faults}
        for gone in self._names - names:
            self.store.delete(gone)
        for fault in faults:
            self.store.put(fault)
        log.info("faults file %s: %d fault(s) active from it", self.path, len(faults))
        self._text, self._names = text, names

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()
