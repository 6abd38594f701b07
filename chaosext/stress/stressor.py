"""What a stress fault runs: a stress-ng command line (the same locally and in a container).

stress-ng (Debian package ``stress-ng``; the sample images install it) does the burning and the
filling; it ends by itself after ``--timeout`` even if nobody stops it, so a stressor cannot
outlive its fault by more than the fault's own duration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from chaoslib.exceptions import ActivityFailed
from kubernetes.utils import parse_quantity

from chaosext.common import checks

__all__ = ["Stress", "cpu_stress", "memory_stress", "parse_bytes", "parse_cpus"]


@dataclass(frozen=True)
class Stress:
    kind: str  # "cpu" or "memory"
    workers: int
    seconds: float
    load_percent: int = 100  # cpu
    size_bytes: int = 0  # memory, per worker

    def argv(self, temp_path: str) -> list[str]:
        """``temp_path``: a writable directory (stress-ng refuses to start without one, even for
        stressors that write nothing; a read-only root filesystem has none but its /tmp volume)."""
        timeout = f"{max(1, math.ceil(self.seconds))}s"
        if self.kind == "cpu":
            work = ["--cpu", str(self.workers), "--cpu-load", str(self.load_percent)]
        else:
            work = ["--vm", str(self.workers), "--vm-bytes", f"{self.size_bytes}", "--vm-keep"]
        return ["stress-ng", *work, "--timeout", timeout, "--temp-path", temp_path, "--quiet"]

    def describe(self) -> str:
        if self.kind == "cpu":
            return f"{self.workers} CPU worker(s) at {self.load_percent}%"
        return f"{self.workers} worker(s) holding {self.size_bytes / 2**20:.0f} MiB each"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "workers": self.workers, "seconds": self.seconds,
                "load_percent": self.load_percent, "size_bytes": self.size_bytes}


def _workers(workers: Any) -> int:
    return checks.whole("workers", workers, 1, 64, text_ok=False)


def parse_cpus(value: Any, name: str) -> float | None:
    """A CPU amount as Kubernetes writes it (0.5, "500m", 2); None stays None."""
    if value is None:
        return None
    try:
        cpus = float(parse_quantity(value))
    except (ValueError, TypeError):
        raise ActivityFailed(f"'{name}' must be a CPU amount such as 0.5 or \"500m\", got {value!r}") from None
    if cpus <= 0 or cpus > 1024:
        raise ActivityFailed(f"'{name}' must be more than 0 CPUs, got {value!r}")
    return cpus


def parse_bytes(value: Any, name: str) -> int:
    """A size as Kubernetes writes it ("256Mi", "1G", 1048576)."""
    try:
        size = int(parse_quantity(value))
    except (ValueError, TypeError):
        raise ActivityFailed(f"'{name}' must be a size such as \"256Mi\" or \"1Gi\", got {value!r}") from None
    if size < 2**20:
        raise ActivityFailed(f"'{name}' must be at least 1Mi, got {value!r}")
    return size


def cpu_stress(workers: Any, load: Any, seconds: float) -> Stress:
    percent = checks.whole("load", load, 1, 100, text_ok=False)
    return Stress("cpu", _workers(workers), seconds, load_percent=percent)


def memory_stress(workers: Any, size: Any, seconds: float) -> Stress:
    return Stress("memory", _workers(workers), seconds, size_bytes=parse_bytes(size, "size"))
