"""payment-instance-kill on kind: one of the two payment pods is deleted with grace 0 by chaosext's
kill_instances while checkout takes constant load from chaosext's Vegeta run; the ReplicaSet
replaces it with a new pod in a new containerd container and the client-side figures stay within
the experiment's hypothesis."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kind.helpers import REPO, KindCluster, app_pods, container_id, cri_container_ids, is_ready
from kube.helpers import wait_until

from chaosext.instance import actions as instance_actions
from chaosext.instance import probes as instance_probes
from chaosext.traffic import actions as traffic_actions
from chaosext.traffic import probes as traffic_probes
from chaosext.traffic import stats, vegeta
from chaosext.traffic.runs import load_run

EXPERIMENT = REPO / "experiments" / "payment-instance-kill.json"
RATE = 20  # checkouts/s, the experiment's
JUDGED_S = 30  # the experiment's window after the kill
BACK_WITHIN_S = 30  # the experiment's bound for the replacement to be up


def _step(name: str) -> dict[str, Any]:
    """One activity of the experiment's method, by name."""
    method: dict[str, dict[str, Any]] = {a["name"]: a for a in json.loads(EXPERIMENT.read_text())["method"]}
    return method[name]


def _hypothesis() -> tuple[float, float]:
    """The experiment's client-side tolerances: error ratio below X, p99 (ms) at most Y."""
    ratio = _step("client-error-ratio-during-kill")["provider"]["arguments"]["threshold"]
    p99 = _step("client-p99-during-kill-ms")["tolerance"]["range"][1]
    return float(ratio), float(p99)


def _arguments(name: str) -> dict[str, Any]:
    """The arguments of one of the experiment's steps."""
    arguments: dict[str, Any] = _step(name)["provider"]["arguments"]
    return arguments


def _results(run_id: str) -> list[vegeta.Result]:
    return vegeta.read_results(load_run(run_id).results)


def _errors_per_second(results: list[vegeta.Result], start: float) -> dict[int, int]:
    errors: dict[int, int] = {}
    for r in results:
        if stats.outcome(r) in stats.ERROR_OUTCOMES:
            errors[int(r.ts - start)] = errors.get(int(r.ts - start), 0) + 1
    return errors


# the client's view of the window after the kill, kept by the kill test for the SLO test below
_AFTER_KILL: dict[str, Any] = {}


def test_a_killed_payment_pod_is_replaced_by_a_new_container_under_load(
        kind_cluster: KindCluster, chaos_config: dict[str, Any]) -> None:
    # as the experiment does: two payment pods, Ready and running for 20 s, before any load or kill
    settled = instance_actions.wait_for_instances(**_arguments("payment-instances-settled"),
                                                  configuration=chaos_config)
    before = {p.metadata.name: container_id(p) for p in app_pods(kind_cluster, "payment-service")}
    assert set(before) == {r["instance"] for r in settled["instances"]} and len(before) == 2, (before, settled)
    steady_step = _arguments("checkout-load-steady")
    run_id = traffic_actions.start_load(rate=RATE, duration=steady_step["timeout"] + JUDGED_S + 10,
                                        scenario="checkout", timeout_s=10, configuration=chaos_config)["run_id"]
    try:
        # as the experiment does: the last 10 s of load meet the hypothesis before the kill
        baseline = traffic_actions.wait_for_steady_load(**steady_step, run_id=run_id, configuration=chaos_config)
        killed = instance_actions.kill_instances("payment-service", count=1, signal="SIGKILL",
                                                 configuration=chaos_config)
        (victim,) = killed["killed"]
        assert victim["pod"] in before and victim["grace_seconds"] == 0, victim
        (survivor,) = set(before) - {victim["pod"]}
        # the kubelet kills the container itself: containerd no longer runs it
        wait_until("the killed container to leave containerd", cri_container_ids,
                   lambda ids: before[victim["pod"]] not in ids, timeout_s=20)
        after = wait_until(
            "a replacement payment pod Running and Ready",
            lambda: {p.metadata.name: p for p in app_pods(kind_cluster, "payment-service")},
            lambda pods: victim["pod"] not in pods and len(pods) == 2 and all(
                p.status.phase == "Running" and is_ready(p) for p in pods.values()),
            timeout_s=BACK_WITHIN_S)
        (new_pod,) = set(after) - set(before)
        new_id = container_id(after[new_pod])
        assert new_id and new_id not in before.values() and new_id in cri_container_ids()
        assert container_id(after[survivor]) == before[survivor], "the survivor's container was touched"
        assert instance_probes.instances_ready("payment-service", configuration=chaos_config)["ready"] == 2
        wait_until(f"{JUDGED_S} s of load after the kill", lambda: _results(run_id)[-1].ts,
                   lambda last: last >= killed["at"] + JUDGED_S, timeout_s=JUDGED_S + 10, interval_s=1)
    finally:
        traffic_actions.stop_load(run_id=run_id, configuration=chaos_config)
    assert not traffic_probes.load_report(run_id=run_id)["running"]
    # judged as the experiment judges it: the client's view of the window after the kill
    judged = stats.window(_results(run_id), since=killed["at"], until=killed["at"] + JUDGED_S)
    per_second = stats.series(judged, killed["at"], killed["at"] + JUDGED_S, step=1.0, span=1.0)
    summary = {**stats.summarize(judged), "errors_per_second_after_kill": _errors_per_second(judged, killed["at"]),
               "p99_ms_per_second_after_kill": [round(p) for _, p in per_second["p99_ms"]],
               "baseline_before_kill": {k: baseline[k] for k in ("requests", "error_ratio", "latency_ms", "waited_s")}}
    assert summary["requests"] >= 0.9 * RATE * JUDGED_S, summary
    _AFTER_KILL.update(summary)


def test_checkout_keeps_its_slo_while_a_payment_pod_is_killed() -> None:
    """The experiment's hypothesis over the 30 s after the kill. Toxiproxy dials payment-lb on
    localhost (cluster/base/toxiproxy/payment-lb.cfg): dialled at payment-service's ClusterIP, a
    dial routed to the killed pod blocked every new connection through Toxiproxy and the error
    ratio after the kill was 0.15-0.94. The kill waits for a settled fleet: run straight after the
    certificate-interrupt test, whose rollback restarts payment, the surviving pod was 6 s old and
    on the 2-core node served 3-13 charges/s instead of 20 for 6 s after the kill (error ratio 0.20
    and 0.47). The kill also waits until the last 10 s of load meet the hypothesis: a node still
    slow from what ran before (p50 206 ms over the whole window) is then a baseline failure, named
    as such, and not a verdict on the kill."""
    if not _AFTER_KILL:
        pytest.skip("the kill test did not measure the window after the kill")
    max_error_ratio, max_p99_ms = _hypothesis()
    seen = json.dumps(_AFTER_KILL)
    assert _AFTER_KILL["error_ratio"] < max_error_ratio, seen
    assert _AFTER_KILL["latency_ms"]["p99"] <= max_p99_ms, seen

