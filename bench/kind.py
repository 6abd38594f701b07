"""Benchmark the sample stack on kind against the local stack, both measured in one run.

Measures, in this order (the two stacks share host ports, so the local stack runs only while the
kind cluster is deleted):
  1. `scripts/kind-down.sh --keep-engine` (the cluster deleted; timed as a side figure);
  2. the local stack: `chaosext stack up` from down with its state kept warm (bench/stack_up.py's
     `time_up`), its resident memory by component (bench/stack_up.py's `memory_by_component`),
     then `chaosext stack down`;
  3. the node image: cold (`docker rmi chaosext/kind-node:<version>`, then
     `scripts/kind-node-image.sh --offline`: docker build + image import + commit, the Go-built
     binaries staying cached; skipped with --skip-cold) and cached (a second call); the first Go
     build of the node and control plane binaries is read from their build-info.json, as recorded
     when they were built;
  4. the cluster: `scripts/ci-kind-up.sh` from no cluster to node Ready;
  5. the stack's images (cached) built and loaded: `scripts/ci-build-images.sh --tag <tag>
     --kind-cluster chaosext`;
  6. the stack ready: `scripts/ci-deploy.sh` until every workload is available, then
     `scripts/ci-steady-state.sh`;
  7. the cluster's memory: the node container's (cgroup usage minus page cache, and `docker stats`)
     and per pod (`crictl stats` inside the node, grouped by workload), plus kubelet and containerd.
The scripts run as scripts/kind-up.sh runs them, with CHAOSEXT_KIND_OFFLINE=1 (the node image built
here, as `scripts/kind-up.sh --offline`). The kind cluster is left up with the stack deployed, the
local stack down; if a step fails, `scripts/kind-up.sh --offline` brings the cluster back.

Usage: .venv/bin/python bench/kind.py [--skip-cold] [--settle 20]
Every script's output goes to a log file under $CHAOSEXT_CACHE_DIR/bench (path printed at the start).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from rich.table import Table
from stack_up import console, memory_by_component, progress, run_cli, time_up

from chaosext.common.settings import cache_root, state_root
from chaosext.localkube.nodebuild import node_bin_dir
from chaosext.localkube.paths import bin_dir
from chaosext.stack import lifecycle
from chaosext.stack.config import StackConfig, load_config

ROOT = Path(__file__).resolve().parent.parent
CACHE = cache_root()
STATE = state_root()
CLUSTER = "chaosext"
NODE = f"{CLUSTER}-control-plane"
CONTEXT = f"kind-{CLUSTER}"
K8S_VERSION = "v1.37.0"
NODE_IMAGE = f"chaosext/kind-node:{K8S_VERSION}"
NAMESPACE = "chaosext"
# pod groups whose name differs from the local stack's component name
ALIASES = {"chaosext-dns": "dns"}
MIB = 2**20


class CommandFailed(Exception):
    def __init__(self, command: list[str], code: int, tail: list[str], timed_out: bool) -> None:
        super().__init__(f"{display(command)} failed with exit code {code}")
        self.command = command
        self.code = code
        self.tail = tail
        self.timed_out = timed_out


@dataclass
class Timed:
    seconds: float
    output: list[str]


@dataclass
class NodeMemory:
    source: str
    used: int  # usage minus page cache
    anon: int  # anonymous memory (rss in cgroup terms)
    docker_stats: int | None
    pods: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)  # (namespace, group) -> sums
    agents: dict[str, tuple[int, int]] = field(default_factory=dict)  # command -> (processes, rss)


def display(command: list[str]) -> str:
    return " ".join(part.removeprefix(f"{ROOT}/") for part in command)


def run(command: list[str], env: dict[str, str], log: TextIO, timeout: float) -> Timed:
    """Run a command, its output (stdout and stderr interleaved) to the log; the scripts' own
    progress lines ("==> ...") echoed; CommandFailed on a non-zero exit or past the timeout."""
    log.write(f"\n$ {display(command)}\n")
    log.flush()
    start = time.monotonic()
    # its own process group, so a timeout ends the script's children (kind, docker) too
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, bufsize=1, start_new_session=True)
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(timeout, kill)
    timer.start()
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            lines.append(line.rstrip("\n"))
            if line.startswith("==> "):
                console.print(f"      {line.rstrip()}", style="dim", highlight=False, markup=False)
        code = proc.wait()
    finally:
        timer.cancel()
    elapsed = time.monotonic() - start
    log.write(f"# exit {code} after {elapsed:.1f} s\n")
    log.flush()
    if code != 0 or timed_out.is_set():
        raise CommandFailed(command, code, lines[-40:], timed_out.is_set())
    return Timed(elapsed, lines)


def script(name: str, *args: str) -> list[str]:
    return [str(ROOT / "scripts" / name), *args]


def script_env() -> dict[str, str]:
    """PATH as scripts/kind-up.sh sets it (chaosext's kind, the node's kubectl), the node image
    built here."""
    env = dict(os.environ)
    path = [str(CACHE / "bin")]
    if (node_bin_dir() / "kubectl").is_file():
        path.append(str(node_bin_dir()))
    env["PATH"] = os.pathsep.join([*path, env.get("PATH", "")])
    env["CHAOSEXT_KIND_OFFLINE"] = "1"
    return env


def capture(command: list[str], env: dict[str, str], timeout: float = 60) -> str:
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise CommandFailed(command, proc.returncode, (proc.stdout + proc.stderr).splitlines()[-40:], False)
    return proc.stdout


def cluster_exists(env: dict[str, str]) -> bool:
    proc = subprocess.run(["kind", "get", "clusters"], env=env, capture_output=True, text=True, timeout=60)
    return CLUSTER in proc.stdout.split()


def first_build(directory: Path) -> tuple[float | None, str]:
    try:
        info = json.loads((directory / "build-info.json").read_text())
    except (OSError, ValueError):
        return None, f"no {directory / 'build-info.json'}"
    return float(info["build_seconds"]), f"built_at {info.get('built_at', '?')}"


def build_cache_note(log_file: Path) -> str:
    """How many steps of the node root file system's docker build came from Docker's layer cache
    (legacy builder: "Step i/n" and "Using cache"; BuildKit: "#n [...]" and "#n CACHED")."""
    try:
        text = log_file.read_text(errors="replace")
    except OSError:
        return "no build log"
    # legacy builder: a step that makes a layer prints " ---> <id>"; FROM only names the base
    blocks = [b for b in re.split(r"^Step \d+/\d+ : ", text, flags=re.M)[1:] if " ---> " in b and not b.startswith("FROM")]
    if blocks:
        return f"rootfs build: {sum('---> Using cache' in b for b in blocks)} of {len(blocks)} steps cached"
    steps = set(re.findall(r"^(#\d+) \[[^\]]*\d+/\d+\] (?!FROM)", text, re.M))
    cached = set(re.findall(r"^(#\d+) CACHED", text, re.M))
    return f"rootfs build: {len(steps & cached)} of {len(steps)} steps cached"


def local_groups(memory: dict[str, int]) -> dict[str, tuple[int, int]]:
    """bench/stack_up.py's grouping: kafka-1..3 -> kafka; group -> (processes, rss)."""
    groups: dict[str, tuple[int, int]] = {}
    for name, rss in memory.items():
        group = name.rstrip("0123456789").rstrip("-") or name
        count, total = groups.get(group, (0, 0))
        groups[group] = (count + 1, total + rss)
    return groups


def pod_group(pod: dict[str, Any]) -> str:
    """The workload a pod belongs to: the Deployment (its ReplicaSet minus the template hash), the
    StatefulSet, DaemonSet or Job, or for a static pod its name minus the node's."""
    meta = pod["metadata"]
    name: str = meta["name"]
    labels = meta.get("labels") or {}
    for owner in meta.get("ownerReferences") or []:
        kind, owner_name = owner["kind"], owner["name"]
        if kind == "ReplicaSet":
            template_hash = labels.get("pod-template-hash")
            return owner_name.removesuffix(f"-{template_hash}") if template_hash else owner_name
        if kind in ("StatefulSet", "DaemonSet", "Job"):
            return owner_name
        if kind == "Node":
            return name.removesuffix(f"-{owner_name}")
    return name


def stat_value(section: dict[str, Any] | None, key: str) -> int:
    # crictl prints the CRI's UInt64Value as {"value": "123"} (a string, protobuf JSON) or a number
    if not section or not section.get(key):
        return 0
    return int(section[key].get("value") or 0)


def parse_size(text: str) -> int | None:
    units = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "kB": 10**3, "KB": 10**3,
             "MB": 10**6, "GB": 10**9, "TB": 10**12}
    match = re.match(r"\s*([\d.]+)\s*([A-Za-z]+)", text)
    if not match or match.group(2) not in units:
        return None
    return int(float(match.group(1)) * units[match.group(2)])


def cgroup_memory(container_id: str) -> tuple[str, int, int] | None:
    """The node container's memory from its cgroup: (source, usage minus page cache, anonymous)."""
    v1 = Path("/sys/fs/cgroup/memory/docker") / container_id
    if (v1 / "memory.usage_in_bytes").is_file():
        usage = int((v1 / "memory.usage_in_bytes").read_text())
        stat = dict(line.split() for line in (v1 / "memory.stat").read_text().splitlines())
        return ("cgroup v1 memory.usage_in_bytes - total_cache", usage - int(stat["total_cache"]), int(stat["total_rss"]))
    for v2 in (Path(f"/sys/fs/cgroup/system.slice/docker-{container_id}.scope"), Path("/sys/fs/cgroup/docker") / container_id):
        if (v2 / "memory.current").is_file():
            usage = int((v2 / "memory.current").read_text())
            stat = dict(line.split() for line in (v2 / "memory.stat").read_text().splitlines())
            return ("cgroup v2 memory.current - file", usage - int(stat["file"]), int(stat["anon"]))
    return None


def node_memory(env: dict[str, str]) -> NodeMemory:
    container_id = capture(["docker", "inspect", "-f", "{{.Id}}", NODE], env).strip()
    from_cgroup = cgroup_memory(container_id)
    source, used, anon = from_cgroup or ("no cgroup file found", 0, 0)
    # docker stats: usage minus inactive file pages (the CLI's own calculation)
    stats = capture(["docker", "stats", "--no-stream", "--format", "{{.MemUsage}}", NODE], env)
    memory = NodeMemory(source, used, anon, parse_size(stats.split("/")[0]))

    pods = json.loads(capture(["kubectl", "--context", CONTEXT, "get", "pods", "-A", "-o", "json"], env))
    groups = {(p["metadata"]["namespace"], p["metadata"]["name"]): pod_group(p) for p in pods["items"]}
    crictl = json.loads(capture(["docker", "exec", NODE, "crictl", "stats", "-o", "json"], env))
    seen: dict[tuple[str, str], set[str]] = {}
    for entry in crictl.get("stats") or []:
        labels = (entry.get("attributes") or {}).get("labels") or {}
        namespace = labels.get("io.kubernetes.pod.namespace", "?")
        pod = labels.get("io.kubernetes.pod.name", "?")
        key = (namespace, groups.get((namespace, pod), pod))
        sums = memory.pods.setdefault(key, {"containers": 0, "rss": 0, "working_set": 0})
        sums["containers"] += 1
        sums["rss"] += stat_value(entry.get("memory"), "rssBytes")
        sums["working_set"] += stat_value(entry.get("memory"), "workingSetBytes")
        seen.setdefault(key, set()).add(pod)
    for key, names in seen.items():
        memory.pods[key]["pods"] = len(names)

    for line in capture(["docker", "exec", NODE, "ps", "-eo", "rss=,comm="], env).splitlines():
        rss_kib, _, command = line.strip().partition(" ")
        command = command.strip()
        if command in ("kubelet", "containerd") or command.startswith("containerd-shim"):
            name = "containerd-shim" if command.startswith("containerd-shim") else command
            count, total = memory.agents.get(name, (0, 0))
            memory.agents[name] = (count + 1, total + int(rss_kib) * 1024)
    return memory


def fmt_s(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.1f}"


def fmt_mib(size: int | None) -> str:
    return "-" if size is None else f"{size / MIB:.0f}"


def ratio(kind: float | None, local: float | None) -> str:
    return f"{kind / local:.2f}" if kind is not None and local else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-cold", action="store_true",
                        help=f"keep {NODE_IMAGE}: no cold node image build (only the cached call)")
    parser.add_argument("--settle", type=float, default=20.0,
                        help="seconds to wait after each stack is ready before measuring its memory (default 20)")
    parser.add_argument("--timeout", type=int, default=900, help="deadline of each script, seconds (default 900)")
    args = parser.parse_args(argv)
    if not 0 <= args.settle <= 600:
        parser.error(f"--settle must be between 0 and 600, got {args.settle}")

    if not console.is_terminal:
        # the tables stay readable when the output goes to a file or a pipe
        console.width = 160
    env = script_env()
    config: StackConfig = load_config()
    log_dir = CACHE / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"kind-{time.strftime('%Y%m%d-%H%M%S')}.log"
    progress(f"scripts' output: {log_path}")
    times: dict[str, float | None] = {}
    notes: dict[str, str] = {}
    local_memory: dict[str, int] = {}
    cluster: NodeMemory | None = None
    kind_ready = False
    failed: CommandFailed | None = None

    with log_path.open("w") as log:
        try:
            run(script("kind-docker.sh", "up"), env, log, args.timeout)
            if not (CACHE / "bin" / "kind").is_file():
                run(script("ci-install-kind.sh"), env, log, args.timeout)
            tag = capture(script("ci-image-tag.sh"), env).strip().splitlines()[-1]
            progress(f"image tag {tag}; kind cluster {CLUSTER} {'exists' if cluster_exists(env) else 'absent'}")
            if lifecycle.status(config)["supervisor"]["pid"]:
                progress("the local stack is up: it is measured from down like the rest")

            progress("kind cluster down (scripts/kind-down.sh --keep-engine), so the local stack can bind the ports")
            times["delete"] = run(script("kind-down.sh", "--keep-engine"), env, log, args.timeout).seconds
            progress(f"cluster deleted in {times['delete']:.1f}s")

            times["local"] = time_up(config, 1, fresh=False)
            progress(f"local stack: settling {args.settle:.0f}s, then its memory")
            time.sleep(args.settle)
            local_memory = memory_by_component(config)
            progress("local stack down")
            run_cli("down", timeout=300)

            times["node_go"], notes["node_go"] = first_build(node_bin_dir(K8S_VERSION))
            times["cp_go"], notes["cp_go"] = first_build(bin_dir(K8S_VERSION))
            if args.skip_cold:
                progress("node image, cold: skipped (--skip-cold)")
                times["node_cold"], notes["node_cold"] = None, "skipped (--skip-cold)"
            else:
                progress(f"node image, cold: docker rmi {NODE_IMAGE}, then scripts/kind-node-image.sh --offline")
                if subprocess.run(["docker", "image", "inspect", NODE_IMAGE], env=env, capture_output=True).returncode == 0:
                    run(["docker", "rmi", NODE_IMAGE], env, log, 120)
                cold = run(script("kind-node-image.sh", "--offline"), env, log, args.timeout)
                if cold.output[-1].strip() != NODE_IMAGE:
                    raise SystemExit(f"scripts/kind-node-image.sh printed {cold.output[-1]!r}, expected {NODE_IMAGE}")
                times["node_cold"] = cold.seconds
                size = next((m.group(1) for line in cold.output if (m := re.search(r"built in \d+ s: ([\d.]+ MB)", line))), "?")
                notes["node_cold"] = f"{build_cache_note(CACHE / 'kind' / 'node-image-build.log')}; image {size}"
                progress(f"node image, cold: {cold.seconds:.1f}s")
            cached = run(script("kind-node-image.sh", "--offline"), env, log, args.timeout)
            times["node_cached"] = cached.seconds
            notes["node_cached"] = "up to date" if any("up to date" in line for line in cached.output) else "REBUILT"
            progress(f"node image, cached: {cached.seconds:.1f}s ({notes['node_cached']})")

            progress("cluster create: scripts/ci-kind-up.sh (no cluster to node Ready)")
            times["create"] = run(script("ci-kind-up.sh", "--name", CLUSTER), env, log, args.timeout).seconds
            progress(f"cluster created in {times['create']:.1f}s")

            progress(f"stack images (cached) built and loaded: scripts/ci-build-images.sh --tag {tag} --kind-cluster {CLUSTER}")
            images = run(script("ci-build-images.sh", "--tag", tag, "--kind-cluster", CLUSTER), env, log, args.timeout)
            times["images"] = images.seconds
            text = "\n".join(images.output)
            build_s = re.search(r"images \(built in (\d+) s\)", text)
            load_s = re.search(r"loaded in (\d+) s", text)
            built = re.findall(r"built (\S+) in (\d+) s \((\d+) of (\d+) steps cached\)", text)
            # an image whose source changed since its last build is rebuilt: named in the note
            rebuilt = [f"{image.split(':')[0]} {s} s" for image, s, c, n in built if c != n]
            notes["images"] = (f"build {build_s.group(1) if build_s else '?'} s "
                               f"({sum(int(c) for *_, c, _ in built)} of {sum(int(n) for *_, n in built)} steps cached, "
                               f"{len(built)} images{'; rebuilt: ' + ', '.join(rebuilt) if rebuilt else ''}), "
                               f"kind load {load_s.group(1) if load_s else '?'} s")
            progress(f"images built and loaded in {images.seconds:.1f}s ({notes['images']})")

            progress("deploy: scripts/ci-deploy.sh until every workload is available")
            times["deploy"] = run(script("ci-deploy.sh", "--overlay", str(ROOT / "cluster/overlays/kind"), "--image-tag", tag,
                                         "--timeout", str(args.timeout), "--run-dir", str(STATE / "kind")),
                                  env, log, args.timeout + 60).seconds
            progress(f"deployed and available in {times['deploy']:.1f}s; steady state: scripts/ci-steady-state.sh")
            times["steady"] = run(script("ci-steady-state.sh", "--var-file", str(ROOT / "cluster/targets/kind.yaml"),
                                         "--timeout", str(args.timeout)), env, log, args.timeout + 60).seconds
            kind_ready = True
            progress(f"steady state met in {times['steady']:.1f}s; settling {args.settle:.0f}s, then the cluster's memory")
            time.sleep(args.settle)
            cluster = node_memory(env)
        except CommandFailed as error:
            failed = error
        finally:
            if not kind_ready:
                # the machine as it was found: local stack down, the cluster up with the stack
                progress("restoring: local stack down, scripts/kind-up.sh --offline")
                try:
                    run_cli("down", timeout=300)
                    run(script("kind-up.sh", "--offline"), env, log, 2 * args.timeout)
                    progress("restored: kind cluster up with the stack")
                except (CommandFailed, SystemExit) as error:
                    console.print(f"[red]restoring failed:[/] {error}; see {log_path}")

    if failed is not None:
        console.print(f"[red]failed:[/] `{display(failed.command)}` exit {failed.code}"
                      + (" (killed at the deadline)" if failed.timed_out else ""), highlight=False)
        console.print("\n".join(failed.tail), highlight=False, markup=False)
        console.print(f"whole output: {log_path}")
        return 1
    assert cluster is not None
    print_report(times, notes, local_memory, cluster)
    return 0


def print_report(
    times: dict[str, float | None], notes: dict[str, str], local_memory: dict[str, int], cluster: NodeMemory
) -> None:
    stack_s = (times["deploy"] or 0) + (times["steady"] or 0)
    full_s = (times["create"] or 0) + (times["images"] or 0) + stack_s

    timing = Table(title="kind vs local: time (seconds)")
    timing.add_column("phase")
    timing.add_column("command")
    timing.add_column("s", justify="right")
    timing.add_column("note")
    timing.add_row("node binaries, first Go build", "python -m chaosext.localkube build --node",
                   fmt_s(times["node_go"]), f"recorded at first build ({notes['node_go']})")
    timing.add_row("control plane binaries, first Go build", "python -m chaosext.localkube build",
                   fmt_s(times["cp_go"]), f"recorded at first build ({notes['cp_go']})")
    timing.add_row("node image, cold (docker build + import + commit)", "docker rmi; kind-node-image.sh --offline",
                   fmt_s(times["node_cold"]), notes["node_cold"])
    timing.add_row("node image, cached", "kind-node-image.sh --offline", fmt_s(times["node_cached"]), notes["node_cached"])
    timing.add_row("cluster delete", "kind-down.sh --keep-engine", fmt_s(times["delete"]), "")
    timing.add_row("cluster create (no cluster to node Ready)", "ci-kind-up.sh", fmt_s(times["create"]), "")
    timing.add_row("stack images build (layer cache) + kind load", "ci-build-images.sh --kind-cluster", fmt_s(times["images"]),
                   notes["images"])
    timing.add_row("deploy until every workload available", "ci-deploy.sh", fmt_s(times["deploy"]), "")
    timing.add_row("steady state", "ci-steady-state.sh", fmt_s(times["steady"]), "")
    timing.add_row("[bold]kind: stack ready on a new cluster[/]", "deploy + steady state", fmt_s(stack_s), "")
    timing.add_row("[bold]kind: no cluster to stack ready[/]", "create + images + deploy + steady", fmt_s(full_s),
                   "what `make kind-up` does after `make kind-down`")
    timing.add_row("[bold]local: stack up from down[/]", "chaosext stack up", fmt_s(times["local"]), "warm state")
    console.print(timing)

    local = local_groups(local_memory)
    stack_pods = {ALIASES.get(group, group): sums for (namespace, group), sums in cluster.pods.items() if namespace == NAMESPACE}
    mem = Table(title=f"memory by component, MiB (local: RSS with children; kind: namespace {NAMESPACE}, crictl stats)")
    mem.add_column("component")
    mem.add_column("local procs", justify="right")
    mem.add_column("local RSS", justify="right")
    mem.add_column("kind pods", justify="right")
    mem.add_column("kind RSS", justify="right")
    mem.add_column("kind working set", justify="right")
    names = sorted(set(local) | set(stack_pods), key=lambda n: -max(local.get(n, (0, 0))[1], stack_pods.get(n, {}).get("rss", 0)))
    for name in names:
        procs, rss = local.get(name, (0, 0))
        pod = stack_pods.get(name)
        kind_cells = (str(pod["pods"]), fmt_mib(pod["rss"]), fmt_mib(pod["working_set"])) if pod else ("-", "-", "-")
        mem.add_row(name, str(procs) if procs else "-", fmt_mib(rss) if procs else "-", *kind_cells)
    local_total = sum(local_memory.values())
    pods_rss = sum(s["rss"] for s in stack_pods.values())
    pods_ws = sum(s["working_set"] for s in stack_pods.values())
    mem.add_row("[bold]stack total[/]", str(len(local_memory)), fmt_mib(local_total),
                str(sum(s["pods"] for s in stack_pods.values())), fmt_mib(pods_rss), fmt_mib(pods_ws))
    console.print(mem)

    overhead = Table(title="kind cluster beyond the stack, MiB")
    overhead.add_column("part")
    overhead.add_column("count", justify="right")
    overhead.add_column("RSS", justify="right")
    overhead.add_column("working set", justify="right")
    others = sorted(((k, s) for k, s in cluster.pods.items() if k[0] != NAMESPACE), key=lambda item: -item[1]["rss"])
    for (namespace, group), sums in others:
        overhead.add_row(f"{namespace}/{group}", f"{sums['pods']} pod(s)", fmt_mib(sums["rss"]), fmt_mib(sums["working_set"]))
    overhead.add_row("[bold]pods outside the stack[/]", "", fmt_mib(sum(s["rss"] for _, s in others)),
                     fmt_mib(sum(s["working_set"] for _, s in others)))
    for name, (count, rss) in sorted(cluster.agents.items(), key=lambda item: -item[1][1]):
        overhead.add_row(f"node: {name} (ps RSS)", f"{count} proc(s)", fmt_mib(rss), "")
    overhead.add_row("[bold]node container[/]: " + cluster.source, "", fmt_mib(cluster.used), "")
    overhead.add_row("node container: anonymous (cgroup rss)", "", fmt_mib(cluster.anon), "")
    overhead.add_row("node container: docker stats (usage - inactive file)", "", "", fmt_mib(cluster.docker_stats))
    console.print(overhead)

    ratios = Table(title="kind / local")
    ratios.add_column("measure")
    ratios.add_column("kind", justify="right")
    ratios.add_column("local", justify="right")
    ratios.add_column("kind / local", justify="right")
    ratios.add_row("ready, s: stack on an existing cluster (deploy + steady) vs stack up", fmt_s(stack_s), fmt_s(times["local"]),
                   ratio(stack_s, times["local"]))
    ratios.add_row("ready, s: from no cluster vs stack up", fmt_s(full_s), fmt_s(times["local"]), ratio(full_s, times["local"]))
    ratios.add_row("memory, MiB: stack pods' RSS vs stack RSS", fmt_mib(pods_rss), fmt_mib(local_total),
                   ratio(pods_rss, local_total))
    ratios.add_row("memory, MiB: whole node (usage - cache) vs stack RSS", fmt_mib(cluster.used), fmt_mib(local_total),
                   ratio(cluster.used, local_total))
    console.print(ratios)


if __name__ == "__main__":
    sys.exit(main())
