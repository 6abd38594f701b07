"""A real Kubernetes control plane on 127.0.0.1 for tests.

kube-apiserver, kube-controller-manager and kube-scheduler (built from the Kubernetes Go modules),
etcd, and KWOK simulating nodes and pods. Pods are scheduled, become Ready and are recreated by
their controllers, but no container ever runs: KWOK only updates their status.
"""

from __future__ import annotations
