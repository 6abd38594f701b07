"""Target selection: configuration, then CHAOSEXT_TARGET, then the local stack."""

from __future__ import annotations

import pytest
from chaoslib.exceptions import ActivityFailed

from chaosext.target import setting, target_of


def test_local_by_default() -> None:
    assert target_of(None) == "local"
    assert target_of({}) == "local"
    assert target_of({"target": ""}) == "local"


def test_configuration_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAOSEXT_TARGET", "kubernetes")
    assert target_of(None) == "kubernetes"
    assert target_of({"target": "local"}) == "local"


@pytest.mark.parametrize("bad", ["k8s", "Kubernetes", "mars"])
def test_an_unknown_target_names_the_argument(bad: str) -> None:
    with pytest.raises(ActivityFailed, match=f"'target' must be one of local, kubernetes, got '{bad}'"):
        target_of({"target": bad})


def test_an_unknown_target_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAOSEXT_TARGET", "staging")
    with pytest.raises(ActivityFailed, match="'target'"):
        target_of({})


def test_setting_configuration_then_environment_then_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHAOSEXT_TOXIPROXY_URL", raising=False)
    assert setting(None, "toxiproxy_url", "http://default") == "http://default"
    monkeypatch.setenv("CHAOSEXT_TOXIPROXY_URL", "http://from-env")
    assert setting({}, "toxiproxy_url", "http://default") == "http://from-env"
    assert setting({"toxiproxy_url": ""}, "toxiproxy_url") == "http://from-env", "an empty value falls through"
    assert setting({"toxiproxy_url": "http://from-cfg"}, "toxiproxy_url") == "http://from-cfg"
    monkeypatch.setenv("CHAOSEXT_TOXIPROXY_URL", "")
    assert setting({}, "toxiproxy_url", 7) == 7
