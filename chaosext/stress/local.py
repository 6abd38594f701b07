"""Resource stress on the local stack.

The chosen replica (a supervisor program) is moved into a fresh cgroup per controller with the
CPU quota and memory limit it would have as a container; stress-ng starts inside the same
cgroups, so it competes with the replica for *its* limit, as Chaos Mesh's StressChaos does in a
pod. Undo stops stress-ng (its whole process group), moves the replica back where it was and
deletes the cgroups. stress-ng also ends by itself at the fault's duration.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext.common.procs import pids_named, reap, start_ticks
from chaosext.common.waiting import eventually
from chaosext.errors import ToolMissing
from chaosext.faults import engine, markers
from chaosext.faults.markers import FaultMarker
from chaosext.faults.paths import faults_dir
from chaosext.faults.undoers import undoer
from chaosext.instance import local as instances
from chaosext.stress import cgroups
from chaosext.stress.driver import StressRequest
from chaosext.stress.stressor import Stress, parse_bytes, parse_cpus

__all__ = ["apply", "group_stats", "remove_leftovers", "stress_replicas", "stressor_pids", "stress_groups", "undo"]

FAMILY = "stress"

GROUP_PREFIX = "chaosext-stress-"  # "chaosext-" + the fault id


def _spawn(stress: Stress, groups: list[Path], log: Path) -> subprocess.Popen[bytes]:
    def join_groups() -> None:  # runs in the child, before exec: stress-ng starts inside
        for group in groups:
            cgroups.procs_file(group).write_text(str(os.getpid()))

    argv = stress.argv(str(log.parent))
    with open(log, "ab") as out:
        try:
            return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                    start_new_session=True, preexec_fn=join_groups)
        except FileNotFoundError as exc:
            if exc.filename != argv[0]:
                raise
            raise ToolMissing(f"{argv[0]} is not installed (apt-get install stress-ng)") from None


def _wait_started(proc: subprocess.Popen[bytes], log: Path, group: Path, replica_pid: int,
                  timeout: float = 10.0) -> None:
    """Until stress-ng's workers run in the group (it has passed its own checks), or it exits."""

    def workers() -> set[int]:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-400:].strip()
            raise ActivityFailed(f"stress-ng exited at once with status {proc.returncode}: {tail or 'no output'}")
        return set(cgroups.members(group)) - {replica_pid, proc.pid}

    if not eventually("stress-ng's workers", workers, timeout_s=timeout, interval_s=0.01):
        raise ActivityFailed(f"stress-ng (pid {proc.pid}) started no worker within {timeout:g}s")


def apply(service: str, count: int, names: list[str] | None, stress: Stress, cpu_limit: float | None,
          memory_limit: int | None, fault_id: str, configuration: Configuration,
          record: Any) -> dict[str, Any]:
    """Stress ``count`` replicas; ``record(undo_args)`` saves what undo needs as soon as each
    change is made (so an interruption half-way still undoes it)."""
    found = instances.instances(service)  # listed once: the choice, the guardrails and the pids share it
    chosen = instances.pick(service, count, configuration, names, found)
    hierarchies = [cgroups.hierarchy("cpu"), cgroups.hierarchy("memory")]
    undo_args: dict[str, Any] = {"replicas": [], "stressors": []}
    result = []
    for name in chosen:
        pid = int(found[name]["pid"])
        if pid <= 0:
            raise ActivityFailed(f"{name} has no running process to stress")
        entry: dict[str, Any] = {"instance": name, "pid": pid, "groups": []}
        undo_args["replicas"].append(entry)
        for h in hierarchies:
            home = cgroups.cgroup_of(pid, h)
            group = cgroups.create(h, pid, f"chaosext-{fault_id}", cpu_limit, memory_limit)
            entry["groups"].append({"controller": h.controller, "path": str(group.path), "home": str(home),
                                    "version": h.version})
            record(undo_args)
            if not cgroups.move(pid, group.path):
                raise ActivityFailed(f"{name} (pid {pid}) exited before it could be stressed")
        log = faults_dir() / f"{fault_id}.stress-ng.log"
        proc = _spawn(stress, [Path(g["path"]) for g in entry["groups"]], log)
        undo_args["stressors"].append({"pid": proc.pid, "start_time": start_ticks(proc.pid)})
        record(undo_args)
        with engine.deliberate_wait():  # stress-ng passed its own checks: the fault is real
            _wait_started(proc, log, Path(entry["groups"][0]["path"]), pid)
        result.append({"instance": name, "pid": pid, "stressor_pid": proc.pid,
                       "cgroups": [g["path"] for g in entry["groups"]]})
    return {"replicas": result, "undo_args": undo_args}


def _stop_stressor(pid: int, start_time: int | None, timeout: float = 5.0) -> None:
    if start_time is None or start_ticks(pid) != start_time:
        return  # already gone (or the pid is another process now)
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, timeout)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return

        def gone() -> bool:
            reap(pid)  # when the experiment process started it
            return start_ticks(pid) != start_time

        if eventually(f"stressor {pid} to exit", gone, timeout_s=wait, interval_s=0.05):
            return


@undoer("stress.local")
def undo(replicas: list[dict[str, Any]], stressors: list[dict[str, Any]]) -> None:
    """Stop the stressors, move the replicas home, delete the cgroups (idempotent)."""
    for stressor in stressors:
        _stop_stressor(int(stressor["pid"]), stressor.get("start_time"))
    for replica in replicas:
        for group in replica["groups"]:
            path, home = Path(group["path"]), Path(group["home"])
            if int(replica["pid"]) in cgroups.members(path) and home.exists():
                cgroups.move(int(replica["pid"]), home)
            cgroups.remove(path, home)


def group_stats(replicas: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per stressed replica: CPU throttling and memory use of its cgroups so far."""
    out = []
    for replica in replicas:
        row: dict[str, Any] = {"instance": replica["instance"], "pid": replica["pid"]}
        for group in replica["groups"]:
            row.update(cgroups.stats(Path(group["path"]), group["controller"], int(group["version"])))
        out.append(row)
    return out


def stress_groups() -> list[Path]:
    """Every chaosext stress cgroup on this machine (there are none when no stress is active)."""
    found: list[Path] = []
    for controller in ("cpu", "memory"):
        try:
            mount = cgroups.hierarchy(controller).mount
        except ActivityFailed:  # no such controller here: nothing of ours either
            continue
        found.extend(p for p in mount.rglob(f"{GROUP_PREFIX}*") if p.is_dir())
    return sorted(set(found))


def stressor_pids() -> list[int]:
    """Live stress-ng processes on this machine."""
    return pids_named("stress-ng")


def remove_leftovers(dry_run: bool = False) -> list[dict[str, Any]]:
    """Stress cgroups no marker accounts for (the run's state dir was lost): stop the stressors
    in them, move everything else (the replica) to the parent group, delete them."""
    from chaosext.faults import markers

    known = {g["path"] for m in markers.list_markers(family="stress")
             for r in m.undo_args.get("replicas", []) for g in r.get("groups", [])}
    rows = []
    running = set(stressor_pids())
    for group in stress_groups():
        if str(group) in known:
            continue
        members = cgroups.members(group)
        stressors = [p for p in members if p in running]
        rows.append({"cgroup": str(group), "processes": len(members), "stressors": len(stressors)})
        if dry_run:
            continue
        for pid in stressors:
            _stop_stressor(pid, start_ticks(pid))
        home = group.parent if group.parent.name != cgroups.V2_PARENT else group.parent.parent
        cgroups.remove(group, home)
    return rows


def stress_replicas(request: StressRequest, configuration: Configuration, secrets: Secrets) -> dict[str, Any]:
    """The driver's entry (``StressDriver``): ``cpu_limit`` and ``memory_limit`` are the replica's
    limits while stressed, as its container's would be."""
    cpus = parse_cpus(request.cpu_limit, "cpu_limit")
    memory = parse_bytes(request.memory_limit, "memory_limit") if request.memory_limit is not None else None
    limits = f"cpu_limit={cpus if cpus is not None else 'none'}, memory_limit={request.memory_limit or 'none'}"
    stress, service = request.stress, request.service
    marker = FaultMarker(id=markers.new_id(FAMILY), family=FAMILY, kind=stress.kind, target=f"local/{service}",
                         scope={"service": service}, description=f"{request.describe()} ({limits})",
                         undo="stress.local", undo_args={"replicas": [], "stressors": []},
                         expires_at=time.time() + stress.seconds)

    def apply_local() -> dict[str, Any]:
        done = apply(service, request.count, request.instances, stress, cpus, memory, marker.id, configuration,
                     record=lambda args: engine.record(marker, **args))
        return {"target": "local", "stress": stress.to_json(), "cpu_limit": cpus, "memory_limit": memory,
                "replicas": done["replicas"]}

    return engine.activate(marker, apply_local)
