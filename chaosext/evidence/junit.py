"""The gate's verdicts as JUnit XML: one testcase per journal, the breach reasons as the failure."""

from __future__ import annotations

from pathlib import Path

from junitparser import Error, Failure, JUnitXml, TestCase, TestSuite

from chaosext.evidence.gate import Verdict

__all__ = ["write_junit"]


def _case(verdict: Verdict) -> TestCase:
    case = TestCase(
        name=verdict.title,
        classname=f"chaosext.gate.{verdict.path.stem.replace('.', '_')}",
        time=verdict.duration_s,
    )
    if verdict.error is not None:
        error = Error(message=verdict.error, type_=verdict.error_type)
        error.text = verdict.error
        case.result = [error]
    elif verdict.reasons:
        failure = Failure(message="; ".join(verdict.reasons), type_="SLOBreach")
        failure.text = "\n".join(f"- {reason}" for reason in verdict.reasons)
        case.result = [failure]
    case.system_out = f"journal: {verdict.path}"
    return case


def write_junit(verdicts: list[Verdict], path: Path) -> Path:
    """Write the JUnit XML report (parent folders are created)."""
    suite = TestSuite("chaosext gate")
    for verdict in verdicts:
        suite.add_testcase(_case(verdict))
    suite.update_statistics()
    xml = JUnitXml()
    xml.add_testsuite(suite)
    path.parent.mkdir(parents=True, exist_ok=True)
    xml.write(str(path), pretty=True)
    return path
