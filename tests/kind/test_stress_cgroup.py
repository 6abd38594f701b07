"""payment-cpu-stress on kind: chaosext's CPU stress starts stress-ng in one payment container
through pods/exec; it lands in that container's own cgroup (the one of the service's PID 1), so
the container's CPU limit throttles it, and the rollback leaves no stress-ng behind."""

from __future__ import annotations

from typing import Any

from kind.helpers import NAMESPACE, KindCluster, app_pods, container_id, is_ready, pod_exec
from kube.helpers import wait_until

from chaosext.stress import actions as stress_actions
from chaosext.stress import probes as stress_probes
from chaosext.stress.kubernetes import PID_ANNOTATION

# cgroup v2 first: in a v1 container /sys/fs/cgroup/cpu.stat does not exist
CPU_STAT = ("for f in /sys/fs/cgroup/cpu.stat /sys/fs/cgroup/cpu,cpuacct/cpu.stat /sys/fs/cgroup/cpu/cpu.stat; "
            'do if [ -r "$f" ]; then cat "$f"; exit 0; fi; done; exit 1')
# pid and cgroup of every live stress-ng process (workers are named stress-ng-<stressor>) in the
# container: what ps would show, read from /proc as the image has no ps
STRESS_NG = ('for d in /proc/[0-9]*; do case "$(cat $d/comm 2>/dev/null)" in stress-ng*) ;; *) continue ;; esac; '
             'read -r _ _ st _ < $d/stat 2>/dev/null || continue; [ "$st" = Z ] && continue; '
             'echo "${d#/proc/} $(tr "\\n" " " < $d/cgroup)"; done')


def _nr_throttled(cluster: KindCluster, pod: str) -> int:
    stat = dict(line.split() for line in pod_exec(cluster, pod, ["sh", "-c", CPU_STAT]).splitlines())
    return int(stat["nr_throttled"])


def _stress_ng(cluster: KindCluster, pod: str) -> dict[int, str]:
    """Live stress-ng processes in the container: pid -> its /proc/<pid>/cgroup, on one line."""
    out = pod_exec(cluster, pod, ["sh", "-c", STRESS_NG])
    return {int(pid): cgroup.strip() for pid, _, cgroup in (line.partition(" ") for line in out.splitlines())}


def test_cpu_stress_runs_in_the_containers_cgroup_and_is_throttled_by_its_limit(
        kind_cluster: KindCluster, chaos_config: dict[str, Any]) -> None:
    pods = {p.metadata.name: p for p in app_pods(kind_cluster, "payment-service")}
    before = {name: _nr_throttled(kind_cluster, name) for name in pods}
    assert all(not _stress_ng(kind_cluster, name) for name in pods), "stress-ng already running"
    try:
        record = stress_actions.stress_cpu("payment-service", workers=2, load=100, duration=60, count=1,
                                           configuration=chaos_config)
        (stressed,) = record["changed"]["pods"]
        pod, pid = stressed["pod"], stressed["stressor_pid"]
        (other,) = set(pods) - {pod}
        throttled = wait_until("the stressed container's throttled periods to grow",
                               lambda: _nr_throttled(kind_cluster, pod), lambda n: n >= before[pod] + 20,
                               timeout_s=30)
        assert throttled - before[pod] > _nr_throttled(kind_cluster, other) - before[other]
        workers = wait_until("stress-ng and its workers to run", lambda: _stress_ng(kind_cluster, pod),
                             lambda found: pid in found and len(found) >= 3, timeout_s=15)
        service = pod_exec(kind_cluster, pod, ["sh", "-c", "tr '\\n' ' ' < /proc/1/cgroup"]).strip()
        assert set(workers.values()) == {service}, (service, workers)
        cid = container_id(pods[pod])
        # the container's own cgroups, by its containerd id (a private cgroup namespace shows "/")
        assert all(cid in line or line.endswith(":/") for line in service.split()), (cid, service)
        assert [row["pods"][0]["pid"] for row in stress_probes.stress_status("payment-service")] == [pid]
    finally:
        removed = stress_actions.remove_stress("payment-service", configuration=chaos_config)
    assert [r["id"] for r in removed] == [record["id"]]
    wait_until("no stress-ng left in the container", lambda: _stress_ng(kind_cluster, pod), lambda found: not found,
               timeout_s=15)
    assert PID_ANNOTATION not in (kind_cluster.core.read_namespaced_pod(pod, NAMESPACE).metadata.annotations or {})
    wait_until("both payment pods Ready, unrestarted",
               lambda: app_pods(kind_cluster, "payment-service"),
               lambda now: {p.metadata.name for p in now if is_ready(p)} == set(pods)
               and all(container_id(p) == container_id(pods[p.metadata.name]) for p in now), timeout_s=30)
