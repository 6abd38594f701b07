"""Which kube context chaosext's clients use: an empty KUBERNETES_CONTEXT (as CI steps set to
reset it) means the kubeconfig's current context, like kubectl, never a context named ""."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from chaosext import kube


def _kubeconfig(path: Path) -> Path:
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "one",
        "clusters": [{"name": "c1", "cluster": {"server": "https://one.example:6443"}},
                     {"name": "c2", "cluster": {"server": "https://two.example:6443"}}],
        "users": [{"name": "u", "user": {"token": "not-a-real-token"}}],
        "contexts": [{"name": "one", "context": {"cluster": "c1", "user": "u"}},
                     {"name": "two", "context": {"cluster": "c2", "user": "u"}}],
    }))
    return path


@pytest.mark.parametrize(("env", "server"), [("", "https://one.example:6443"), ("two", "https://two.example:6443")])
def test_empty_context_means_the_current_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: str,
                                             server: str) -> None:
    monkeypatch.setenv("KUBECONFIG", str(_kubeconfig(tmp_path / "config")))
    monkeypatch.setenv("KUBERNETES_CONTEXT", env)
    assert kube.client_for().configuration.host == server
    assert kube.client_for({"KUBERNETES_CONTEXT": "two"}).configuration.host == "https://two.example:6443"
