"""JUnit XML for accountant checks: one ``<testcase>`` per cell, so a CI system (GitHub Actions,
GitLab, Jenkins) lists every cell and shows the unsound ones as failures.

Mapping: ``unsound`` -> ``<failure>`` (type ``unsound``, message with the reported value and the
certified bounds that refute it); ``error`` -> ``<error>`` (what the accountant raised or
returned); ``inconclusive`` -> ``<skipped>``; ``tight`` and ``loose`` pass, with the verdict and
the certified excess in ``<system-out>``. The testsuite's properties carry the grid, the library
version and the tolerance policy.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from certify.accountants.check import AccountantReport, CellResult


def _detail(r: CellResult) -> str:
    parts = [f"verdict={r.verdict}", f"proof={r.proof}", f"reference={r.reference}"]
    if r.reported is not None:
        parts.append(f"reported={r.reported!r}")
    if r.truth is not None:
        parts.append(f"certified true value in {r.truth}")
    if r.delta_at_reported is not None:
        parts.append(f"certified delta at the judged epsilon in {r.delta_at_reported} "
                     f"(target {r.delta!r})")
    ex = r.excess_percent
    if ex is not None:
        parts.append(f"excess in [{ex[0]:.6g}%, {ex[1]:.6g}%]")
    if r.note:
        parts.append(r.note)
    return "; ".join(parts)


def to_junit(reports: Sequence[AccountantReport]) -> str:
    """The JUnit XML text (one testsuite per report, one testcase per cell)."""
    suites = ET.Element("testsuites", name="certify accountant")
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for rep in reports:
        counts = rep.counts()
        attrs = {"tests": len(rep.results), "failures": counts["unsound"],
                 "errors": counts["error"], "skipped": counts["inconclusive"]}
        for k in total:
            total[k] += attrs[k]
        suite = ET.SubElement(suites, "testsuite",
                              {"name": f"{rep.target} [{rep.grid}]",
                               "time": f"{rep.seconds:.3f}",
                               **{k: str(v) for k, v in attrs.items()}})
        props = ET.SubElement(suite, "properties")
        for name, value in (("grid", rep.grid), ("library", rep.library or ""),
                            ("version", rep.version or ""), ("tolerance",
                                                            rep.tolerance.describe()),
                            ("loose_threshold", repr(rep.loose_threshold))):
            ET.SubElement(props, "property", name=name, value=str(value))
        for r in rep.results:
            case = ET.SubElement(suite, "testcase", classname=f"accountant.{rep.target}",
                                 name=r.name(), time=f"{r.seconds + r.certified_seconds:.3f}")
            detail = _detail(r)
            if r.verdict == "unsound":
                ET.SubElement(case, "failure", type="unsound",
                              message=f"unsound: {r.name()}").text = detail
            elif r.verdict == "error":
                ET.SubElement(case, "error", type="error", message=r.note).text = detail
            elif r.verdict == "inconclusive":
                ET.SubElement(case, "skipped", message=r.note)
            else:
                ET.SubElement(case, "system-out").text = detail
    for k, v in total.items():
        suites.set(k, str(v))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(
        suites, encoding="unicode") + "\n"


def write_junit(reports: Sequence[AccountantReport], path: str | os.PathLike[str]) -> None:
    """Write :func:`to_junit` to ``path`` (parent folders created)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(to_junit(reports), encoding="utf-8")


__all__ = ["to_junit", "write_junit"]
