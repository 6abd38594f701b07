"""Archive, report and compare on real runs against a real HTTP service, and scan them for secrets."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from evidence_helpers import (
    ChaosRun,
    Service,
    experiment,
    make_cli,
    python_action,
    run_chaos,
    running_service,
)

from chaosext.evidence.journal import load_journal
from chaosext.evidence.redact import MASK, Redactor, find_leaks

TOKEN = "sk_live_4f9a8b7c6d5e4f3a2b1c"
PASSWORD = "correct-horse-battery-staple"


def _private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return pem.decode()


def _latency_probe(url: str, limit_s: float) -> dict[str, Any]:
    code = (
        "import sys, time, urllib.request\n"
        "t = time.time()\n"
        "try:\n"
        f"    ok = urllib.request.urlopen({url!r}, timeout=5).status == 200\n"
        "except Exception:\n"
        "    ok = False\n"
        f"sys.exit(0 if ok and time.time() - t < {limit_s} else 1)\n"
    )
    return {
        "type": "probe",
        "name": "checkout-p99-under-500ms",
        "tolerance": 0,
        "provider": {"type": "process", "path": "python3", "arguments": ["-c", code]},
    }


def _write_json(path: Path, payload: dict[str, Any]) -> str:
    return f"import json; open({str(path)!r}, 'w').write({json.dumps(json.dumps(payload))})"


def _spec(service: Service, fault: dict[str, Any], pem: str) -> dict[str, Any]:
    leak = f"print('Authorization: Bearer {TOKEN}'); print({pem!r}); print('db password {PASSWORD}')"
    inject = {
        "type": "action",
        "name": "inject-fault",
        "pauses": {"before": 1.5, "after": 3.5},
        "provider": {
            "type": "process",
            "path": "python3",
            "arguments": ["-c", _write_json(service.fault_file, fault)],
        },
    }
    remove = {
        "type": "action",
        "name": "remove-fault",
        "pauses": {"after": 1.5},
        "provider": {
            "type": "process",
            "path": "python3",
            "arguments": ["-c", f"import os; os.remove({str(service.fault_file)!r})"],
        },
    }
    chatty = {
        "type": "action",
        "name": "print-credentials",
        "provider": {"type": "process", "path": "python3", "arguments": ["-c", leak]},
    }
    guard = {
        "name": "evidence",
        "provider": {
            "type": "python",
            "module": "evidence_workload",
            "arguments": {
                "p99_ms": 500.0,
                "error_rate": 0.05,
                "root_cause": "checkout-api retried 5x with no backoff",
                "fix": "exponential backoff, PR #482",
            },
        },
    }
    return experiment(
        "Checkout survives slow payments",
        [_latency_probe(service.url, 0.5)],
        [
            python_action(
                "load", "run_load", {"url": service.url, "seconds": 8.0, "workers": 2}, background=True
            ),
            inject,
            remove,
            chatty,
        ],
        [
            {
                "type": "action",
                "name": "clear-fault",
                "provider": {
                    "type": "process",
                    "path": "python3",
                    "arguments": [
                        "-c",
                        f"import pathlib; pathlib.Path({str(service.fault_file)!r}).unlink(missing_ok=True)",
                    ],
                },
            }
        ],
        secrets={"payment": {"api_token": TOKEN, "db_password": PASSWORD}},
        controls=[guard],
    )


@pytest.fixture
def cli() -> Any:
    return make_cli()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with running_service(tmp_path_factory.mktemp("service")) as running:
        yield running


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory, service: Service) -> dict[str, Any]:
    """A failing run (slow, erroring payments) and its re-run after the 'fix' (a mild fault)."""
    repo = tmp_path_factory.mktemp("repo")
    _git(repo, "init", "-q")
    pem = _private_key_pem()
    runs: dict[str, ChaosRun] = {}
    for name, fault in (("first", {"delay_ms": 800, "error_every": 2}), ("rerun", {"delay_ms": 20})):
        runs[name] = run_chaos(
            repo / "runs",
            name,
            _spec(service, fault, pem),
            "--hypothesis-strategy",
            "continuously",
            "--hypothesis-frequency",
            "0.3",
        )
        shutil.copy(runs[name].experiment, repo / "experiment.json")
        _git(repo, "add", "experiment.json")
        _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", name)
    return {"repo": repo, "runs": runs, "pem": pem}


def test_runs_recorded_real_timelines(evidence: dict[str, Any]) -> None:
    first = evidence["runs"]["first"].data()
    block = first["chaosext"]
    series = block["timeline"]["series"]
    assert len(series["client_p99_ms"]) >= 8
    assert block["slo"]["during"]["client_p99_ms"] >= 800
    assert block["slo"]["during"]["server_p99_ms"] >= 800 > block["slo"]["before"]["server_p99_ms"]
    assert block["slo"]["during"]["error_rate"] > 0.05
    assert evidence["runs"]["rerun"].data()["chaosext"]["slo"]["during"]["server_p99_ms"] < 500


def test_archive_writes_dated_redacted_journal(cli: Any, evidence: dict[str, Any], tmp_path: Path) -> None:
    repo: Path = evidence["repo"]
    run: ChaosRun = evidence["runs"]["first"]
    dest = tmp_path / "journals"
    for _ in range(2):
        result = cli(
            "archive",
            run.journal,
            "--dest",
            dest,
            "--experiment",
            repo / "experiment.json",
            "--target",
            "local",
            "--log",
            run.log,
        )
        assert result.exit_code == 0, result.output
        # stdout carries only the archived path, for scripts (scripts/run-experiments.sh)
        assert Path(result.stdout.strip()).parent == dest and Path(result.stdout.strip()).is_file()
    date = json.loads(run.journal.read_text())["start"][:10]
    first = dest / f"{date}-checkout-survives-slow-payments.json"
    assert sorted(p.name for p in dest.iterdir()) == sorted(
        [first.name, first.with_suffix(".log").name, f"{first.stem}-2.json", f"{first.stem}-2.log"]
    )
    block = load_journal(first)["chaosext"]
    assert block["commit"] == _git(repo, "rev-parse", "HEAD")
    assert block["experiment_commit"] == _git(repo, "log", "-1", "--format=%H", "--", "experiment.json")
    assert block["experiment_file"] == "experiment.json" and block["target"] == "local"
    assert block["versions"]["chaostoolkit-lib"] and block["versions"]["python"]
    assert set(block["slo"]) == {"before", "during", "after"} and block["fault_window"]["start"]
    for path in dest.iterdir():
        _assert_no_secret(path.read_text(), evidence["pem"])
    assert MASK in first.read_text()


def test_archive_rejects_bad_target(cli: Any, evidence: dict[str, Any], tmp_path: Path) -> None:
    result = cli(
        "archive",
        evidence["runs"]["first"].journal,
        "--dest",
        tmp_path,
        "--experiment",
        evidence["repo"] / "experiment.json",
        "--target",
        "mars",
    )
    assert result.exit_code == 2 and "--target" in result.output and "'mars'" in result.output


def _assert_no_secret(text: str, pem: str) -> None:
    body = "".join(pem.strip().splitlines()[1:-1])
    for secret in (TOKEN, PASSWORD, body[:40], "BEGIN RSA PRIVATE KEY-----\nMII"):
        assert secret not in text
    assert find_leaks(text, [TOKEN, PASSWORD]) == []


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_report_markdown_and_timelines(cli: Any, evidence: dict[str, Any], tmp_path: Path) -> None:
    runs = evidence["runs"]
    out = tmp_path / "report"
    result = cli("report", runs["rerun"].journal, runs["first"].journal, "-o", out)
    assert result.exit_code == 0, result.output
    markdown = (out / "experiment-log.md").read_text()
    for field in (
        "Experiment",
        "Hypothesis",
        "Scope",
        "Steady state before",
        "Observed",
        "Root cause",
        "Fix",
        "Re-run result",
    ):
        assert f"| **{field}** |" in markdown
    assert "| [Checkout survives slow payments](#checkout-survives-slow-payments) | 2 | ✅ PASS |" in markdown
    assert "checkout-api retried 5x with no backoff" in markdown
    assert "p99 peaked at" in markdown and "T+" in markdown
    assert "**PASS** —" in markdown  # the re-run
    pngs = sorted(out.glob("*.png"))
    assert len(pngs) == 2
    for png in pngs:
        assert f"]({png.name})" in markdown
        width, height = _png_size(png)
        assert width >= 800 and height >= 500
    assert len(markdown.encode()) < 64 * 1024
    _assert_no_secret(markdown, evidence["pem"])


def test_report_degrades_without_timeline(cli: Any, tmp_path: Path, evidence: dict[str, Any]) -> None:
    data = evidence["runs"]["first"].data()
    del data["chaosext"]
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(data))
    result = cli("report", bare, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    markdown = (tmp_path / "out" / "experiment-log.md").read_text()
    assert "no timeline recorded" in markdown and not list((tmp_path / "out").glob("*.png"))
    _assert_no_secret(markdown, evidence["pem"])


def test_report_stays_under_github_summary_limit(cli: Any, tmp_path: Path, evidence: dict[str, Any]) -> None:
    data = evidence["runs"]["first"].data()
    data["chaosext"].pop("timeline")  # keep the test fast: sections only
    paths = []
    for n in range(150):
        data["experiment"]["title"] = f"Experiment number {n} with a long, descriptive title"
        path = tmp_path / f"j{n}.json"
        path.write_text(json.dumps(data))
        paths.append(path)
    result = cli("report", *paths, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    size = (tmp_path / "out" / "experiment-log.md").stat().st_size
    assert 0 < size < 1024 * 1024 / 2


def test_report_bad_journal_exits_2(cli: Any, tmp_path: Path) -> None:
    result = cli("report", tmp_path / "nope.json", "-o", tmp_path / "out")
    assert result.exit_code == 2 and str(tmp_path / "nope.json") in result.output


def test_compare_side_by_side(cli: Any, evidence: dict[str, Any], tmp_path: Path) -> None:
    runs = evidence["runs"]
    out = tmp_path / "compare.md"
    result = cli("compare", runs["first"].journal, runs["rerun"].journal, "-o", out)
    assert result.exit_code == 0, result.output
    assert "FAIL" in result.output and "PASS" in result.output and "p99 during" in result.output
    markdown = out.read_text()
    assert "| **verdict** | ❌ FAIL | ✅ PASS |" in markdown
    assert "| **steady state before** | met | met |" in markdown
    assert "steady state missed during the method" in markdown
    _assert_no_secret(markdown + result.output, evidence["pem"])


def test_redactor_scrubs_known_shapes() -> None:
    redactor = Redactor(["s3cr3t-value"])
    kubeconfig = "users:\n- name: admin\n  user:\n    client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVk=\n"
    text = redactor.text(
        kubeconfig + " curl -H 'Authorization: Bearer abcdefghijklmnopqrstuvwxyz' "
        "postgres://app:hunter22@db/x API_KEY=abcd1234 s3cr3t-value"
    )
    for leaked in ("LS0tLS1CRUdJTi", "abcdefghijklmnop", "hunter22", "abcd1234", "s3cr3t-value"):
        assert leaked not in text
    data = redactor.data(
        {"password": "pw123456", "tolerance_met": True, "nested": {"Authorization": "Basic xyz"}}
    )
    assert data == {"password": MASK, "tolerance_met": True, "nested": {"Authorization": MASK}}


def test_redactor_masks_base64_private_keys_as_kubernetes_secrets_carry_them() -> None:
    import base64

    from kubernetes import client

    key_b64 = base64.b64encode(_private_key_pem().encode()).decode()
    cert_b64 = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").decode()
    secret = client.V1Secret(data={"tls.key": key_b64, "tls.crt": cert_b64}, type="kubernetes.io/tls")
    text = str(secret)  # the client's repr, as a failing activity or test would print it
    assert key_b64[:40] in text and find_leaks(text) == ["base64-encoded PEM private key"]
    clean = Redactor().text(text)
    assert key_b64[:20] not in clean and MASK in clean
    assert cert_b64 in clean, "a certificate is public and must stay readable"
    assert find_leaks(clean) == []


def test_failure_reports_are_redacted(tmp_path: Path) -> None:
    """A failing test that holds a key prints it in its report; the suite's hook masks it."""
    tests_dir = Path(__file__).parents[1]
    (tmp_path / "conftest.py").write_text("from redaction_plugin import pytest_runtest_makereport  # noqa: F401\n")
    pem = _private_key_pem()
    (tmp_path / "test_leak.py").write_text(
        f"def test_leaks():\n    secret = {{'tls.key': {pem!r}}}\n    assert secret == {{}}\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tests_dir)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 1 and "1 failed" in out, out[-3000:]
    assert "test_leaks" in out and MASK in out
    assert "assert secret == {}" in out, "the report's code must stay readable"
    assert pem.splitlines()[1] not in out, "the key's body is in the failure report"
    assert find_leaks(out) == []
