"""Start, stop and inspect the local control plane (etcd, kube-apiserver, kube-controller-manager,
kube-scheduler, KWOK) on 127.0.0.1. Processes are detached; pid files and logs are in the state dir.

Every start is a fresh cluster (etcd's data dir is emptied); certificates are kept between starts.
Pods are scheduled onto fake KWOK nodes and marked Ready by KWOK: no container ever runs.
"""

from __future__ import annotations

import json
import shutil
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from chaosext.common.waiting import WaitTimeout, wait_until
from chaosext.errors import ComponentError
from chaosext.localkube import procs
from chaosext.localkube.build import is_built
from chaosext.localkube.components import ORDER, Layout, command
from chaosext.localkube.kubeconfig import write_kubeconfig
from chaosext.localkube.nodes import create_nodes, ready_node_names
from chaosext.localkube.paths import bin_dir, default_state_dir
from chaosext.localkube.pki import CLIENTS, ensure_pki
from chaosext.localkube.settings import SERVICE_IP, Ports, port_in_use
from chaosext.localkube.versions import K8S_VERSION, KWOK_VERSION

__all__ = ["NODE_COUNT", "api_client", "start", "status", "stop"]

Progress = Callable[[str], None]
NODE_COUNT = 3
INFO_FILE = "info.json"


def _layout(state_dir: Path, ports: Ports | None = None) -> Layout:
    state_dir = state_dir.expanduser().resolve()
    if ports is None:
        ports = _saved_ports(state_dir) or Ports.from_env()
    return Layout(bin_dir=bin_dir(), state_dir=state_dir, pki=ensure_pki(state_dir / "pki", SERVICE_IP),
                  ports=ports)


def _saved_ports(state_dir: Path) -> Ports | None:
    """The ports of the running instance, so `status`/`up` find it whatever the environment says."""
    try:
        info = json.loads((state_dir / INFO_FILE).read_text())
        return Ports(**info["ports"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def api_client(kubeconfig: Path) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(kubeconfig))


def _apiserver_ready(lay: Layout) -> bool:
    try:
        resp = requests.get(f"{lay.server}/readyz", timeout=3, verify=str(lay.pki.ca_cert),
                            cert=(str(lay.pki.client_cert("admin")), str(lay.pki.client_key("admin"))))
    except requests.RequestException:
        return False
    return resp.status_code == 200 and resp.text.strip() == "ok"


def _etcd_healthy(lay: Layout) -> bool:
    try:
        resp = requests.get(f"http://127.0.0.1:{lay.ports.etcd_client}/health", timeout=3)
        return resp.status_code == 200 and resp.json().get("health") == "true"
    except (requests.RequestException, ValueError):
        return False


def _healthz(port: int) -> bool:
    """kube-controller-manager and kube-scheduler serve /healthz with a self-signed certificate."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
        try:
            resp = requests.get(f"https://127.0.0.1:{port}/healthz", timeout=3, verify=False)
        except requests.RequestException:
            return False
    return resp.status_code == 200 and resp.text.strip() == "ok"


def _wait(what: str, check: Callable[[], bool], timeout_s: float, lay: Layout, watch: tuple[str, ...],
          progress: Progress) -> None:
    """Poll CHECK until true; fail fast with the log tail if a watched process dies; fail at the deadline."""
    started = time.monotonic()
    next_note = started + 10

    def ready() -> bool:
        nonlocal next_note
        if check():
            return True
        for name in watch:
            if not procs.is_running(lay.state_dir, name):
                raise ComponentError(f"{name} exited while waiting for {what}; last lines of "
                                     f"{procs.log_path(lay.state_dir, name)}:\n{procs.log_tail(lay.state_dir, name)}")
        now = time.monotonic()
        if now >= next_note:
            progress(f"  still waiting for {what} ({now - started:.0f}s)")
            next_note = now + 10
        return False

    try:
        wait_until(what, ready, timeout_s=timeout_s)
    except WaitTimeout:
        logs = "\n".join(f"--- {n}:\n{procs.log_tail(lay.state_dir, n, 10)}" for n in watch)
        raise ComponentError(f"timed out after {timeout_s:.0f}s waiting for {what}\n{logs}") from None
    progress(f"  {what}: ok after {time.monotonic() - started:.1f}s")


def _all_running(lay: Layout) -> bool:
    return all(procs.is_running(lay.state_dir, name) for name in ORDER)


def _write_kubeconfigs(lay: Layout) -> None:
    write_kubeconfig(lay.admin_kubeconfig, lay.pki, "admin", lay.server)
    for name in CLIENTS:
        if name != "admin":
            write_kubeconfig(lay.kubeconfig(name), lay.pki, name, lay.server)


def _default_service_account(api: client.ApiClient) -> Callable[[], bool]:
    def check() -> bool:
        try:
            client.CoreV1Api(api).read_namespaced_service_account("default", "default")
        except ApiException:
            return False
        return True
    return check


def start(state_dir: Path | None = None, progress: Progress = print) -> Path:
    """Start the control plane (a no-op if it is running); returns the admin kubeconfig path."""
    lay = _layout(state_dir or default_state_dir())
    if _all_running(lay) and _apiserver_ready(lay):
        progress(f"control plane already running ({lay.server}, state {lay.state_dir})")
        return lay.admin_kubeconfig
    if any(procs.is_running(lay.state_dir, name) for name in ORDER):
        progress("part of a previous control plane is running: stopping it first")
        stop(lay.state_dir, progress)
    lay = _layout(lay.state_dir, Ports.from_env())
    if not is_built():
        raise ComponentError(f"the Kubernetes binaries are not built in {bin_dir()}: "
                             "run `python -m chaosext.localkube build` (or `make kube-up`, which builds first)")
    busy = [f"{name} {port}" for name, port in lay.ports.items() if port_in_use(port)]
    if busy:
        raise ComponentError(f"ports already in use on 127.0.0.1: {', '.join(busy)}; stop what holds them "
                             "or set CHAOSEXT_PORT_OFFSET")
    started = time.monotonic()
    progress(f"starting Kubernetes {K8S_VERSION} control plane (binaries {lay.bin_dir}, state {lay.state_dir})")
    try:
        _start_processes(lay, progress)
    except BaseException:
        progress("start failed: stopping what was started")
        stop(lay.state_dir, progress)
        raise
    (lay.state_dir / INFO_FILE).write_text(json.dumps({
        "server": lay.server, "kubeconfig": str(lay.admin_kubeconfig), "k8s_version": K8S_VERSION,
        "kwok_version": KWOK_VERSION, "ports": dict(lay.ports.items()),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }, indent=2) + "\n")
    progress(f"control plane ready in {time.monotonic() - started:.1f}s ({NODE_COUNT} KWOK nodes; pods run "
             "no containers)")
    return lay.admin_kubeconfig


def _start_processes(lay: Layout, progress: Progress) -> None:
    _write_kubeconfigs(lay)
    shutil.rmtree(lay.state_dir / "etcd", ignore_errors=True)
    timeouts = {"etcd": 60.0, "kube-apiserver": 180.0, "kube-controller-manager": 90.0, "kube-scheduler": 90.0}
    checks: dict[str, Callable[[], bool]] = {
        "etcd": lambda: _etcd_healthy(lay),
        "kube-apiserver": lambda: _apiserver_ready(lay),
        "kube-controller-manager": lambda: _healthz(lay.ports.controller_manager),
        "kube-scheduler": lambda: _healthz(lay.ports.scheduler),
    }
    for index, name in enumerate(ORDER):
        pid = procs.spawn(lay.state_dir, name, command(name, lay))
        progress(f"started {name} (pid {pid}, log {procs.log_path(lay.state_dir, name)})")
        if name in checks:
            _wait(f"{name} health", checks[name], timeouts[name], lay, ORDER[: index + 1], progress)
    api = api_client(lay.admin_kubeconfig)
    try:
        names = create_nodes(api, NODE_COUNT)
        progress(f"created fake nodes {', '.join(names)} (managed by KWOK)")
        _wait(f"{NODE_COUNT} nodes Ready", lambda: set(names) <= ready_node_names(api), 90.0, lay, ORDER,
              progress)
        _wait("the default ServiceAccount", _default_service_account(api), 90.0, lay, ORDER, progress)
    finally:
        api.close()


def stop(state_dir: Path | None = None, progress: Progress = print) -> None:
    """Stop every process of the control plane and verify none is left."""
    directory = (state_dir or default_state_dir()).expanduser().resolve()
    stopped = []
    for name in reversed(ORDER):
        try:
            if procs.terminate(directory, name):
                stopped.append(name)
                progress(f"stopped {name}")
        except RuntimeError as exc:
            raise ComponentError(str(exc)) from None
    left = [name for name in ORDER if procs.is_running(directory, name)]
    if left:
        raise ComponentError(f"still running after stop: {', '.join(left)}")
    (directory / INFO_FILE).unlink(missing_ok=True)
    progress("control plane stopped" if stopped else f"control plane was not running (state {directory})")


def status(state_dir: Path | None = None) -> dict[str, Any]:
    """Which processes run (pid or None), whether the API server is ready, and the kubeconfig path."""
    lay = _layout(state_dir or default_state_dir())
    components = {name: procs.pid_of(lay.state_dir, name) for name in ORDER}
    running = all(pid is not None for pid in components.values())
    return {
        "running": running,
        "ready": running and _apiserver_ready(lay),
        "server": lay.server,
        "kubeconfig": str(lay.admin_kubeconfig),
        "state_dir": str(lay.state_dir),
        "components": components,
        "k8s_version": K8S_VERSION,
    }
