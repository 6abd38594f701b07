"""The stress-ng command lines and argument checks (pure logic; the real runs are in
test_stress_faults.py and tests/kube/test_stress_kube.py)."""

from __future__ import annotations

import pytest
from chaoslib.exceptions import ActivityFailed

from chaosext.stress.stressor import cpu_stress, memory_stress, parse_bytes, parse_cpus


def test_cpu_stress_command_ends_by_itself() -> None:
    assert cpu_stress(2, 80, 59.2).argv("/tmp") == ["stress-ng", "--cpu", "2", "--cpu-load", "80", "--timeout", "60s",
                                                    "--temp-path", "/tmp", "--quiet"]


def test_memory_stress_command_holds_the_size_per_worker() -> None:
    stress = memory_stress(2, "96Mi", 30)
    assert stress.argv("/t") == ["stress-ng", "--vm", "2", "--vm-bytes", str(96 * 2**20), "--vm-keep", "--timeout",
                                 "30s", "--temp-path", "/t", "--quiet"]
    assert stress.describe() == "2 worker(s) holding 96 MiB each"


@pytest.mark.parametrize(("value", "cpus"), [(0.5, 0.5), ("500m", 0.5), ("2", 2.0), (None, None)])
def test_cpu_amounts_are_read_as_kubernetes_writes_them(value: object, cpus: float | None) -> None:
    assert parse_cpus(value, "cpu_limit") == cpus


@pytest.mark.parametrize("value", ["lots", 0, "-1", "0m"])
def test_bad_cpu_amounts_name_the_argument(value: object) -> None:
    with pytest.raises(ActivityFailed, match="'cpu_limit'"):
        parse_cpus(value, "cpu_limit")


@pytest.mark.parametrize(("value", "size"), [("256Mi", 256 * 2**20), ("1G", 10**9), (2**21, 2**21)])
def test_sizes(value: object, size: int) -> None:
    assert parse_bytes(value, "size") == size


@pytest.mark.parametrize(("call", "needle"), [
    (lambda: cpu_stress(0, 50, 1), "'workers'"), (lambda: cpu_stress(True, 50, 1), "'workers'"),
    (lambda: cpu_stress(1, 101, 1), "'load'"), (lambda: cpu_stress(1, "50", 1), "'load'"),
    (lambda: memory_stress(1, "512Ki", 1), "'size'"), (lambda: memory_stress(65, "1Mi", 1), "'workers'"),
])
def test_bad_stress_arguments_name_the_argument(call: object, needle: str) -> None:
    with pytest.raises(ActivityFailed, match=needle):
        call()  # type: ignore[operator]
