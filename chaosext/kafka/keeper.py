"""``python -m chaosext.kafka.keeper``: hold broker pods of a StatefulSet down until a deadline.

Watches the named pods and deletes (grace 0) every copy the StatefulSet controller recreates. It
exits by itself at ``--until``, on SIGTERM (the fault's undo), or as soon as the StatefulSet no
longer carries its fault id (undone elsewhere, e.g. ``remove_leftovers``).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from types import FrameType

from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from chaosext import kube
from chaosext.kafka.kubernetes import annotations_of

_stop = False


def _on_term(signum: int, frame: FrameType | None) -> None:
    global _stop
    _stop = True


def _log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} keeper: {message}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chaosext.kafka.keeper")
    parser.add_argument("--fault-id", required=True)
    parser.add_argument("--statefulset", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--pods", required=True)
    parser.add_argument("--until", type=float, required=True)
    parser.add_argument("--context")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGINT, _on_term)
    api = kube.client_for({"KUBERNETES_CONTEXT": args.context} if args.context else None)
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    names = set(args.pods.split(","))
    deletions = 0

    def still_held() -> bool:
        try:
            sts = apps.read_namespaced_stateful_set(args.statefulset, args.namespace)
        except ApiException as exc:
            return exc.status != 404
        return annotations_of(sts).get(kube.FAULT_ANNOTATION) == args.fault_id

    while not _stop and time.time() < args.until and still_held():
        stream = watch.Watch()
        try:
            for event in stream.stream(
                core.list_namespaced_pod,
                args.namespace,
                timeout_seconds=max(1, min(2, int(args.until - time.time()) + 1)),
            ):
                pod = event["object"]
                if _stop or time.time() >= args.until:
                    break
                if (
                    event["type"] == "DELETED"
                    or pod.metadata.name not in names
                    or pod.metadata.deletion_timestamp is not None
                ):
                    continue
                try:
                    core.delete_namespaced_pod(
                        pod.metadata.name, args.namespace, body=client.V1DeleteOptions(grace_period_seconds=0)
                    )
                    deletions += 1
                    _log(f"deleted recreated pod {args.namespace}/{pod.metadata.name} ({args.fault_id})")
                except ApiException as exc:
                    if exc.status != 404:
                        _log(f"deleting {pod.metadata.name} failed: {exc.status} {exc.reason}")
        except Exception as exc:  # the API server may blip: keep holding until the deadline
            _log(f"watch error: {exc}")
            time.sleep(0.5)
        finally:
            stream.stop()
    _log(f"hold {args.fault_id} on {args.namespace}/{args.statefulset} ended after {deletions} re-deletions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
