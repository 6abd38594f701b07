"""The release as a user gets it: sdist and wheel built from this checkout with ``python -m build``
(no warning), installed with pip into fresh venvs outside the checkout, and run from a folder
outside it as a user would.

* the core (no extra): ``chaos discover``, ``chaosext experiments``, ``chaosext gate`` on a real
  journal; ``chaosext report`` and ``chaosext stack up`` refuse with exit 2 naming their extra and
  change nothing; no plotting or stack-only library installed;
* ``[stack,report]`` (marked ``stack``: the real local stack, run it under
  ``flock /tmp/chaosext-kind.lock``): ``chaosext install`` (the cache is shared, so nothing is
  rebuilt when it is warm), ``chaosext stack up`` running the services packaged in the wheel,
  ``chaos run`` of copied experiments, ``chaosext gate``, ``chaosext report``, ``chaosext stack down``.

pip's download cache is used, so a second run installs from it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONSTRAINTS = REPO / "constraints.txt"
# a real run kept as evidence: judged PASS by the gate
PASSING_JOURNAL = REPO / "journals" / "2026-11-27-kafka-malformed-event-dead-lettered-no-crash-loop.json"
# a real run kept as evidence that recorded load: its report has a PNG timeline
TIMELINE_JOURNAL = REPO / "journals" / "2026-11-27-killing-one-of-two-payment-instances-does-not-raise-checkout-2.json"
STACK_EXPERIMENTS = ["kafka-malformed-event.json", "certificate-rotation.json"]
PLOTTING = {"matplotlib", "numpy", "pillow", "contourpy", "kiwisolver", "fonttools"}
# [stack] also names aiohttp and python-json-logger (the services import them), but the core has
# them anyway: kubernetes requires aiohttp, chaostoolkit-lib python-json-logger
STACK_ONLY = {"supervisor", "dnslib", "redis", "tenacity"}

pytestmark = pytest.mark.timeout(1800)


@dataclass(frozen=True)
class Dist:
    sdist: Path
    wheel: Path
    build_output: str


@dataclass(frozen=True)
class Venv:
    root: Path
    home: Path  # the folder the user works in, outside the checkout

    def env(self) -> dict[str, str]:
        """The user's environment: this venv first on PATH, no chaosext setting from the caller."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHAOSEXT_") and k != "VIRTUAL_ENV"}
        env["PATH"] = f"{self.root / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return env

    def run(self, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.root / "bin" / args[0]), *args[1:]]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=self.home, env=self.env())
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(args)} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        return proc

    def distributions(self) -> set[str]:
        listed = self.run("pip", "list", "--format=freeze").stdout.split()
        return {line.split("==")[0].lower().replace("_", "-") for line in listed}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    """sdist, then the wheel built from that sdist (so the sdist is proven complete); or, with
    ``CHAOSEXT_RELEASE_DIST``, the files the release workflow built and will publish."""
    given = os.environ.get("CHAOSEXT_RELEASE_DIST")
    if given:
        out, output = Path(given), ""
    else:
        out = tmp_path_factory.mktemp("dist")
        proc = subprocess.run(
            [sys.executable, "-m", "build", "--outdir", str(out), str(REPO)],
            capture_output=True,
            text=True,
            timeout=600,
            # as on a user's machine: with this set, setuptools warns that it skips byte-compiling
            env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        output = proc.stdout + proc.stderr
    (sdist,) = out.glob("chaosext_backend-*.tar.gz")
    (wheel,) = out.glob("chaosext_backend-*.whl")
    return Dist(sdist, wheel, output)


def _venv(tmp_path_factory: pytest.TempPathFactory, name: str, requirement: str) -> Venv:
    base = tmp_path_factory.mktemp(name)
    assert not base.is_relative_to(REPO)
    root, home = base / "venv", base / "home"
    home.mkdir()
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, timeout=300)
    venv = Venv(root, home)
    venv.run("pip", "install", "-q", "-c", str(CONSTRAINTS), requirement, timeout=1200)
    return venv


@pytest.fixture(scope="module")
def core(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    return _venv(tmp_path_factory, "core", str(dist.wheel))


@pytest.fixture(scope="module")
def full(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    return _venv(tmp_path_factory, "full", f"{dist.wheel}[stack,report]")


def test_the_build_shows_no_warning(dist: Dist) -> None:
    if os.environ.get("CHAOSEXT_RELEASE_DIST"):
        pytest.skip("built by the release workflow's build job, which fails on any warning itself")
    assert "Successfully built" in dist.build_output
    warnings = [line for line in dist.build_output.splitlines() if re.search(r"warn|deprecat", line, re.IGNORECASE)]
    assert warnings == []


def test_the_wheel_ships_the_experiments_and_services_of_the_checkout(dist: Dist) -> None:
    with zipfile.ZipFile(dist.wheel) as whl:
        names = set(whl.namelist())
        prefix = "chaosext/_bundle/"
        experiments = {n[len(prefix) :] for n in names if n.startswith(prefix + "experiments/")}
        source = REPO / "experiments"
        expected = {f"experiments/{p.relative_to(source).as_posix()}" for p in source.rglob("*.json")}
        assert experiments == expected
        for name in expected:
            assert whl.read(prefix + name) == (REPO / name).read_bytes(), name
        services = REPO / "cluster" / "services"
        for path in services.rglob("*.py"):
            assert f"{prefix}cluster/services/{path.relative_to(services).as_posix()}" in names
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
        metadata = whl.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: Apache-2.0" in metadata
    assert "Provides-Extra: stack" in metadata and "Provides-Extra: report" in metadata
    assert not any("__pycache__" in n or n.startswith("tests/") for n in names)


def test_the_sdist_holds_the_build_inputs_and_no_tests_or_ci_files(dist: Dist) -> None:
    with tarfile.open(dist.sdist) as tar:
        top = tar.getnames()[0].split("/")[0]
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for needed in (
        "setup.py",
        "pyproject.toml",
        "LICENSE",
        "README.md",
        "CHANGELOG.md",
        "constraints.txt",
        "experiments/payment-503.json",
        "cluster/services/servicekit/service.py",
        "chaosext/cli.py",
    ):
        assert needed in names, needed
    assert top.startswith("chaosext_backend-")
    assert not any(n.startswith(("tests/", "scripts/", ".github/", "journals/", "cluster/kind/")) for n in names)


def test_the_core_install_holds_no_plotting_and_no_stack_library(core: Venv) -> None:
    installed = core.distributions()
    assert "chaosext-backend" in installed
    assert installed & (PLOTTING | STACK_ONLY) == set()


def test_chaos_discover_finds_every_activity(core: Venv) -> None:
    from chaosext.discovery import discover_extension

    expected = {(a["type"], a["mod"], a["name"]) for a in discover_extension(discover_system=False)["activities"]}
    core.run(
        "chaos",
        "discover",
        "chaosext-backend",
        "--no-system-info",
        "--no-install",
        "--discovery-path",
        "discovery.json",
        timeout=300,
    )
    found = json.loads((core.home / "discovery.json").read_text())["activities"]
    assert {(a["type"], a["mod"], a["name"]) for a in found} == expected
    assert len(found) == len(expected) > 50


def test_experiments_copy_gives_the_guide_s_files(core: Venv) -> None:
    listed = core.run("chaosext", "experiments", "list").stdout
    assert "payment-503.json" in listed
    core.run("chaosext", "experiments", "copy", "mine")
    for path in (REPO / "experiments").rglob("*.json"):
        copy = core.home / "mine" / path.relative_to(REPO / "experiments")
        assert copy.read_bytes() == path.read_bytes(), path.name


def test_the_gate_runs_in_the_core(core: Venv) -> None:
    proc = core.run("chaosext", "gate", str(PASSING_JOURNAL), "--junit", "gate.xml")
    assert "1 of 1 journal(s) pass" in proc.stdout
    assert "<testsuite" in (core.home / "gate.xml").read_text()


def test_report_without_the_report_extra_exits_2_naming_it(core: Venv) -> None:
    proc = core.run("chaosext", "report", str(PASSING_JOURNAL), "--output", "report", check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "chaosext-backend[report]" in proc.stderr
    assert not (core.home / "report").exists()


def test_stack_up_without_the_stack_extra_exits_2_and_changes_nothing(core: Venv, tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = {**core.env(), "CHAOSEXT_STATE_DIR": str(state)}
    for args in (["stack", "up"], ["install"]):
        proc = subprocess.run(
            [str(core.root / "bin" / "chaosext"), *args], capture_output=True, text=True, timeout=120, cwd=core.home, env=env
        )
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "chaosext-backend[stack]" in proc.stderr
    assert not state.exists()


def test_report_with_the_report_extra_draws_the_timeline(full: Venv) -> None:
    proc = full.run("chaosext", "report", str(TIMELINE_JOURNAL), "--output", "report", timeout=300)
    assert "experiment log written" in proc.stdout
    (png,) = (full.home / "report").glob("*.png")
    assert png.read_bytes().startswith(b"\x89PNG")
    assert png.name in (full.home / "report" / "experiment-log.md").read_text()


@pytest.fixture
def stack(full: Venv) -> Iterator[Venv]:
    """The local stack up from the installed package (any stack already up is taken down first:
    the ports are the same), down again afterwards."""
    full.run("chaosext", "stack", "down", timeout=300)
    try:
        yield full
    finally:
        full.run("chaosext", "stack", "down", timeout=300, check=False)


@pytest.mark.stack
def test_a_user_runs_an_experiment_against_the_stack_from_the_wheel(stack: Venv) -> None:
    started = time.monotonic()
    installed = stack.run("chaosext", "install", timeout=3600)
    assert "stack components ready" in installed.stderr
    stack.run("chaosext", "stack", "up", timeout=900)
    status = json.loads(stack.run("chaosext", "stack", "status", "--json").stdout)
    assert status["healthy"] is True
    # the services run from the wheel's copy, with this venv's Python, not from the checkout
    conf = Path(status["endpoints"]["state_dir"], "supervisord.conf").read_text()
    site = next((stack.root / "lib").glob("python3.*/site-packages"))
    assert f'PYTHONPATH="{site / "chaosext" / "_bundle" / "cluster" / "services"}"' in conf
    assert str(REPO) not in conf
    stack.run("chaosext", "experiments", "copy", "mine", *STACK_EXPERIMENTS)
    journals = []
    for name in STACK_EXPERIMENTS:
        journal = stack.home / f"{name}.journal.json"
        stack.run(
            "chaos",
            "run",
            "--rollback-strategy",
            "always",
            "--journal-path",
            str(journal),
            f"mine/{name}",
            timeout=900,
            check=False,
        )
        assert journal.is_file(), name
        journals.append(str(journal))
    gate = stack.run("chaosext", "gate", *journals, check=False)
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert f"{len(journals)} of {len(journals)} journal(s) pass" in gate.stdout
    stack.run("chaosext", "report", *journals, "--output", "stack-report", timeout=300)
    log = (stack.home / "stack-report" / "experiment-log.md").read_text()
    for name in STACK_EXPERIMENTS:
        title = json.loads((stack.home / "mine" / name).read_text())["title"]
        assert title in log, name
    stack.run("chaosext", "stack", "down", timeout=300)
    after = stack.run("chaosext", "stack", "status", "--json", check=False)
    assert after.returncode == 1 and json.loads(after.stdout)["supervisor"]["pid"] is None
    print(f"stack part: {time.monotonic() - started:.1f} s")
