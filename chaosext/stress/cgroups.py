"""Linux control groups for stress on the local stack: a replica and its stressors share one
cgroup with a CPU quota and a memory limit, as a container's processes share its limits.

Hand-written: the Python cgroup libraries (cgroupspy, cgroup-utils) are unmaintained and v1
only; what is needed is a dozen file writes. Both layouts are handled: cgroup v2 (the unified
hierarchy of current distributions and GitHub runners) and the v1 controllers of older or
hybrid hosts (this project's CI machines). Creating cgroups and moving processes needs root.

v1: the group is made inside the replica's own group of each controller (its limits stay
above ours). v2: a child of a process-holding group cannot get controllers ("no internal
processes"), so groups are made under ``/chaosext.stress`` at the root of the hierarchy.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from chaoslib.exceptions import ActivityFailed

from chaosext.common.waiting import eventually

__all__ = ["Group", "Hierarchy", "create", "hierarchy", "move", "remove", "stats"]

CPU_PERIOD_US = 100_000
V2_PARENT = "chaosext.stress"


@dataclass(frozen=True)
class Hierarchy:
    controller: str  # "cpu" or "memory"
    mount: Path
    version: int  # 1 or 2


@dataclass(frozen=True)
class Group:
    """One fault's cgroup in one hierarchy."""

    controller: str
    path: Path
    version: int


def _mounts() -> list[tuple[str, Path, set[str]]]:
    """(fstype, mount point, super options) of every cgroup mount."""
    out = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        fields, rfields = left.split(), right.split()
        if len(rfields) >= 3 and rfields[0] in ("cgroup", "cgroup2"):
            out.append((rfields[0], Path(fields[4]), set(rfields[2].split(","))))
    return out


def hierarchy(controller: str) -> Hierarchy:
    """Where ``controller`` is mounted: its v1 hierarchy, else the v2 one if it offers it."""
    mounts = _mounts()
    for fstype, mount, options in mounts:
        if fstype == "cgroup" and controller in options:
            return Hierarchy(controller, mount, 1)
    for fstype, mount, _ in mounts:
        if fstype == "cgroup2" and controller in (mount / "cgroup.controllers").read_text().split():
            return Hierarchy(controller, mount, 2)
    raise ActivityFailed(f"the {controller} cgroup controller is not available on this machine "
                         "(neither a cgroup v1 hierarchy nor cgroup v2 offers it)")


def cgroup_of(pid: int, h: Hierarchy) -> Path:
    """The cgroup ``pid`` is in, in hierarchy ``h``."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        num, controllers, rel = line.split(":", 2)
        if (h.version == 2 and num == "0") or (h.version == 1 and h.controller in controllers.split(",")):
            return h.mount / rel.lstrip("/")
    raise ActivityFailed(f"process {pid} has no {h.controller} cgroup")


def _write(path: Path, value: str) -> None:
    try:
        path.write_text(value)
    except OSError as exc:
        raise ActivityFailed(f"cannot write {value!r} to {path}: {exc.strerror} "
                             "(stress needs root and a writable cgroup hierarchy)") from None


def create(h: Hierarchy, pid: int, name: str, cpu_limit: float | None, memory_limit: int | None) -> Group:
    """Make cgroup ``name`` for ``pid`` with the given limits (None: unlimited); not yet joined."""
    if h.version == 1:
        path = cgroup_of(pid, h) / name
    else:
        parent = h.mount / V2_PARENT
        parent.mkdir(exist_ok=True)
        _write(h.mount / "cgroup.subtree_control", f"+{h.controller}")
        _write(parent / "cgroup.subtree_control", f"+{h.controller}")
        path = parent / name
    try:
        path.mkdir(exist_ok=True)
    except OSError as exc:
        raise ActivityFailed(f"cannot create cgroup {path}: {exc.strerror} (stress needs root)") from None
    group = Group(h.controller, path, h.version)
    if h.controller == "cpu" and cpu_limit is not None:
        quota = max(1000, int(cpu_limit * CPU_PERIOD_US))
        if h.version == 1:
            _write(path / "cpu.cfs_period_us", str(CPU_PERIOD_US))
            _write(path / "cpu.cfs_quota_us", str(quota))
        else:
            _write(path / "cpu.max", f"{quota} {CPU_PERIOD_US}")
    if h.controller == "memory" and h.version == 1:
        # v1 leaves the pages a process already has charged to its old group; a container's
        # limit counts them, so they move along (v2 never moves charges: only new pages count)
        with contextlib.suppress(OSError):
            (path / "memory.move_charge_at_immigrate").write_text("3")
    if h.controller == "memory" and memory_limit is not None:
        _write(path / ("memory.limit_in_bytes" if h.version == 1 else "memory.max"), str(memory_limit))
    return group


def procs_file(path: Path) -> Path:
    return path / "cgroup.procs"


def move(pid: int, path: Path) -> bool:
    """Move a process (all its threads) into cgroup ``path``; False if it is gone."""
    try:
        procs_file(path).write_text(str(pid))
        return True
    except ProcessLookupError:
        return False
    except OSError as exc:
        if exc.errno == 3:  # ESRCH
            return False
        raise ActivityFailed(f"cannot move process {pid} into {path}: {exc.strerror}") from None


def members(path: Path) -> list[int]:
    try:
        return [int(p) for p in procs_file(path).read_text().split()]
    except FileNotFoundError:
        return []


def remove(path: Path, home: Path, timeout: float = 10.0) -> None:
    """Move whatever is still in ``path`` to ``home``, then delete the cgroup (idempotent)."""

    def removed() -> bool:
        if not path.exists():
            return True
        for pid in members(path):
            if home.exists():
                move(pid, home)
        try:
            os.rmdir(path)
        except FileNotFoundError:
            return True
        except OSError:  # a process was still in it: move it and try again
            return False
        return True

    if not eventually(f"cgroup {path} to be removed", removed, timeout_s=timeout, interval_s=0.05):
        raise ActivityFailed(f"cgroup {path} still holds processes {members(path)}; it was not removed")


def stats(group_path: Path, controller: str, version: int) -> dict[str, float]:
    """What the limits did so far: CPU periods throttled, memory in use and its peak, OOM kills."""
    out: dict[str, float] = {}
    try:
        if controller == "cpu":
            for line in (group_path / "cpu.stat").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key in ("nr_periods", "nr_throttled"):
                    out[key] = float(value)
                elif key == "throttled_time":  # v1, ns
                    out["throttled_s"] = float(value) / 1e9
                elif key == "throttled_usec":  # v2
                    out["throttled_s"] = float(value) / 1e6
        else:
            current = "memory.usage_in_bytes" if version == 1 else "memory.current"
            out["memory_bytes"] = float((group_path / current).read_text())
            peak = group_path / ("memory.max_usage_in_bytes" if version == 1 else "memory.peak")
            if peak.exists():
                out["memory_peak_bytes"] = float(peak.read_text())
            if version == 1:
                out["limit_hits"] = float((group_path / "memory.failcnt").read_text())
                for line in (group_path / "memory.oom_control").read_text().splitlines():
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        out["oom_kills"] = float(value)
            else:
                for line in (group_path / "memory.events").read_text().splitlines():
                    key, _, value = line.partition(" ")
                    if key in ("max", "oom_kill"):
                        out["limit_hits" if key == "max" else "oom_kills"] = float(value)
    except FileNotFoundError:
        return {}
    return out
