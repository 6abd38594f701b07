"""Kubernetes driver: the load goes to the checkout URL the cluster exposes (``checkout_url``:
an ingress, a LoadBalancer or a ``kubectl port-forward``), from the machine running the experiment."""

from __future__ import annotations

from typing import Any

from chaoslib.exceptions import ActivityFailed

from chaosext.target import setting

__all__ = ["base_url"]


def base_url(configuration: dict[str, Any] | None) -> str:
    url = setting(configuration, "checkout_url")
    if not url:
        raise ActivityFailed(
            "'checkout_url' is not configured: on the kubernetes target, set the configuration "
            "key checkout_url (or CHAOSEXT_CHECKOUT_URL) to the checkout service's URL"
        )
    if not str(url).startswith(("http://", "https://")):
        raise ActivityFailed(f"'checkout_url' must be an http(s) URL, got {url!r}")
    return str(url).rstrip("/")
