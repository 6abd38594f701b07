"""What the config family's two drivers (``local``: each service's hot-reloaded JSON file,
``kubernetes``: the ConfigMap its pods mount) implement under the same names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from chaoslib.types import Configuration, Secrets

__all__ = ["ConfigDriver"]


class ConfigDriver(Protocol):
    def change_service_config(self, service: str, settings: dict[str, Any], seconds: float, namespace: str | None,
                              configmap: str | None, key: str, configuration: Configuration,
                              secrets: Secrets) -> dict[str, Any]:
        """Record and merge ``settings`` into the service's config for ``seconds``."""

    def service_config(self, service: str, namespace: str | None, configmap: str | None, key: str,
                       configuration: Configuration, secrets: Secrets) -> list[dict[str, Any]]:
        """Each replica's effective config (and on Kubernetes the ConfigMap's value)."""


if TYPE_CHECKING:  # mypy checks both drivers against the Protocol
    from chaosext.config import kubernetes, local

    _local: ConfigDriver = local
    _kubernetes: ConfigDriver = kubernetes
