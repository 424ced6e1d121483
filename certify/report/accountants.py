"""Accountant certificates and the ``reports/accountants/`` folder.

``certify accountant TARGET`` turns an :class:`~certify.accountants.check.AccountantReport` into a
:class:`~certify.claims.model.Certificate` (the same format, hash and schema as the claims'
certificates, so ``certify verify`` reads it) and writes::

    reports/accountants/<target>.<grid>.json   one certificate per target and grid
    reports/accountants/index.json             file -> summary (verdict counts, worst cell, ...)
    reports/accountants/README.md              one table: every built-in adapter on the default
                                               grid (worst unsound cell, looseness, run time),
                                               then any other runs

The certificate's claim ID is ``accountant/<target>/<grid>``; its one evidence item lists every
cell with the reported value, the exact value it was judged at (the tolerance applied), the
certified enclosures and the verdict. Status: ``refuted`` when a cell is unsound (the
counterexample is the worst cell), ``confirmed`` when every answer is proven sound, otherwise
``inconclusive`` (answers inside the certified interval that no refinement separated from the
truth, errors, or a failed reference).

Re-checking (``certify verify FILE --recompute``, :func:`recompute_accountant_problems`): the
peer library is not needed. Every cell's verdict is re-derived from its stored bounds and the
stored tolerance (including the judged value from the reported one); for every ``unsound`` cell
the deciding enclosures (the true epsilon and the delta at the judged epsilon, or the true delta
or RDP) are computed again at the stored refinement level and must overlap the stored ones and
again prove the violation. Sound cells are re-derived from their stored bounds but not recomputed
(they back no failure); ``certify accountant`` recomputes them in full.
"""

from __future__ import annotations

import datetime
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from importlib import metadata
from pathlib import Path
from typing import Any

from certify.accountants.adapters import BUILTIN, available_builtins
from certify.accountants.check import (
    AccountantReport,
    CellResult,
    Checker,
    Tolerance,
    decide_by_delta,
    decide_by_epsilon,
    decide_by_value,
    judged_value,
)
from certify.accountants.reference import References
from certify.claims.model import Certificate, ClaimInfo, Evidence, Verdict
from certify.claims.runner import environment
from certify.errors import Inconclusive, InvalidArgument
from certify.numerics.bound import Bound
from certify.report.certificate import (
    certificate_to_json,
    dumps_pretty,
    loads_strict,
    write_text_atomic,
)
from certify.report.writer import read_index_object

PREFIX = "accountant/"
DEFAULT_OUT = Path("reports") / "accountants"
INDEX_FILE = "index.json"
README_FILE = "README.md"
METHOD = ("per-cell verdicts of the accountant's answers against certified references of the "
          "Poisson-subsampled Gaussian composition under add/remove neighbours (certify."
          "accountants.check: certified eps(delta) interval, then the certified delta at the "
          "judged epsilon; closed forms for q = 1 and T = 1; certified RDP for the RDP form)")


def claim_id(target: str, grid: str) -> str:
    return f"{PREFIX}{target}/{grid}"


def file_name(target: str, grid: str) -> str:
    """``<target>.<grid>.json`` with unsafe characters replaced."""
    def safe(text: str) -> str:
        return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "x"
    return f"{safe(target)}.{safe(grid)}.json"


# -- certificate ---------------------------------------------------------------------------------
def certificate_for(report: AccountantReport) -> Certificate:
    """The certificate of one accountant's run (module docstring)."""
    counts = report.counts()
    n = len(report.results)
    source = (f"{report.library} {report.version}" if report.library
              else "user-supplied accountant")
    info = ClaimInfo(
        id=claim_id(report.target, report.grid),
        title=f"accountant {report.target} on the {report.grid} grid",
        source=source,
        statement=("Every epsilon, delta and RDP value the accountant reports on the grid bounds "
                   "the true value of the Poisson-subsampled Gaussian composition (sensitivity "
                   "1, add/remove neighbours, the larger of both directions) in its claimed "
                   "direction, within the tolerance: " + report.tolerance.describe() + "."),
        domain=f"{n} answers on the {report.grid} grid ({report.description})",
    )
    values: dict[str, Any] = {
        "target": report.target,
        "grid": report.grid,
        "library": report.library,
        "version": report.version,
        "pinned": report.pinned,
        "tolerance": report.tolerance.to_json(),
        "loose_threshold": repr(report.loose_threshold),
        "counts": counts,
        "cells": [r.values() for r in report.results],
    }
    evidence = Evidence("certified", METHOD, values, prec=_prec(report.results),
                        seconds=report.seconds)
    verdict = _verdict(report)
    env = environment()
    if report.library:
        env[report.library] = report.version or "not installed"
    return Certificate(info, (evidence,), verdict, env,
                       datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"))


def _prec(results: Sequence[CellResult]) -> int:
    return max((b.prec for r in results for b in (r.truth, r.delta_at_reported)
                if b is not None), default=0)


def _verdict(report: AccountantReport) -> Verdict:
    counts = report.counts()
    n = len(report.results)
    worst = report.worst_unsound()
    if worst is not None:
        return Verdict("refuted", f"{counts['unsound']} of {n} answers unsound; worst: "
                       f"{worst.name()} reported {worst.reported!r}, certified true value in "
                       f"{worst.truth}", counterexample=worst.values())
    proven = sum(1 for r in report.results if r.proof == "sound")
    undecided = sum(1 for r in report.results if r.proof == "undecided")
    loose = report.looseness()
    shown = "" if loose is None else (f"; excess over the truth: median {loose[0]:.3g}%, "
                                      f"max {loose[1]:.3g}%")
    if proven and proven == n - counts["error"] and not counts["inconclusive"]:
        errors = f" ({counts['error']} errors)" if counts["error"] else ""
        return Verdict("confirmed", f"all {proven} answers proven sound{errors}{shown}")
    reasons = []
    if undecided:
        reasons.append(f"{undecided} answers lie inside the certified interval of the truth "
                       "and could not be separated from it at the grid's refinement level")
    if counts["error"]:
        reasons.append(f"{counts['error']} answers are errors")
    if counts["inconclusive"]:
        reasons.append(f"{counts['inconclusive']} references failed")
    if not proven:
        reasons.append("no answer was proven sound")
    return Verdict("inconclusive", f"no unsound answer; {proven} of {n} proven sound{shown}",
                   reason="; ".join(reasons) or "no answer")


# -- the folder ----------------------------------------------------------------------------------
def index_entry(report: AccountantReport, data: Mapping[str, Any], file: str) -> dict[str, Any]:
    """The ``index.json`` entry of a written certificate."""
    worst = report.worst_unsound()
    loose = report.looseness()
    return {
        "target": report.target, "grid": report.grid, "file": file,
        "sha256": data["sha256"], "verdict": data["verdict"]["status"],
        "builtin": report.target in BUILTIN, "library": report.library,
        "version": report.version, "counts": report.counts(), "answers": len(report.results),
        "worst_unsound": None if worst is None else {
            "cell": worst.name(), "reported": repr(worst.reported),
            "truth": None if worst.truth is None else str(worst.truth),
            "delta_at_reported": None if worst.delta_at_reported is None
            else str(worst.delta_at_reported),
            "excess_percent": None if worst.excess_percent is None
            else [round(worst.excess_percent[0], 6), round(worst.excess_percent[1], 6)]},
        "looseness_percent": None if loose is None else {"median": round(loose[0], 6),
                                                          "max": round(loose[1], 6)},
        "seconds": round(report.seconds, 1),
        "accountant_seconds": round(report.accountant_seconds, 1),
        "certified_seconds": round(report.certified_seconds, 1),
    }


def read_accountant_index(out_dir: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    return read_index_object(Path(out_dir) / INDEX_FILE)


def write_accountant_reports(reports: Sequence[AccountantReport],
                             out_dir: str | os.PathLike[str] = DEFAULT_OUT) -> list[Path]:
    """Write one certificate per report, merge ``index.json``, regenerate ``README.md``.
    Returns the certificate paths."""
    out = Path(out_dir)
    index = read_accountant_index(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for rep in reports:
        data = certificate_to_json(certificate_for(rep))
        name = file_name(rep.target, rep.grid)
        write_text_atomic(out / name, dumps_pretty(data))
        index[name] = index_entry(rep, data, name)
        paths.append(out / name)
    write_text_atomic(out / INDEX_FILE, dumps_pretty(index))
    write_text_atomic(out / README_FILE, render_accountants_readme(index))
    return paths


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def render_accountants_readme(index: Mapping[str, Mapping[str, Any]]) -> str:
    """README.md: the built-in adapters on the default grid, then other runs."""
    tol = Tolerance()
    lines = [
        "# Accountant verification",
        "",
        "Generated by `certify accountant` (and `certify run`) from the certificates in this "
        "folder (`index.json` lists them). Each built-in adapter runs its pinned peer library on "
        "the `default` grid (the grid of issue 5 -- q in {0.001, 0.01, 0.1}, sigma in {0.5, 1, "
        "2}, T in {1, 100, 10^4}, delta = 1e-5 -- plus q = 1 cells) against certified "
        "references of the Poisson-subsampled Gaussian composition under add/remove "
        "neighbours. Re-check an entry with `certify verify <file> --recompute`.",
        "",
        f"Verdicts: **unsound** (provably violates its claim beyond the tolerance), **loose** "
        f"(sound, and above the truth by more than 1% certified), **tight**, **error** (raised "
        f"or returned NaN/inf/negative). Tolerance: {tol.describe()}.",
        "",
        "Looseness: the certified lower end of (reported - true)/true over the non-unsound "
        "epsilon answers (median / max). Run time: wall seconds of the whole check (the "
        "accountant's own share in brackets); certified references are shared between adapters "
        "in one run, so the first adapter on a grid pays for them. Times are those of the "
        "machine that generated this file.",
        "",
    ]
    rows = sorted(index.items(), key=lambda kv: (not kv[1].get("builtin"), kv[0]))
    main = [(k, e) for k, e in rows if e.get("builtin") and e.get("grid") == "default"]
    other = [(k, e) for k, e in rows if (k, e) not in main]
    for title, entries in (("Built-in adapters, default grid", main), ("Other runs", other)):
        if not entries:
            continue
        lines += [f"## {title}", "",
                  "| adapter | library | grid | answers | unsound | loose | tight | errors | "
                  "worst unsound cell | looseness | run time | certificate |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for name, e in entries:
            counts = e.get("counts", {})
            worst = e.get("worst_unsound")
            worst_text = "" if not worst else (
                f"{worst['cell']}: reported {worst['reported']}, true in {worst['truth']}"
                + (f", delta at it in {worst['delta_at_reported']}"
                   if worst.get("delta_at_reported") else ""))
            loose = e.get("looseness_percent")
            loose_text = "" if not loose else f"{loose['median']:.3g}% / {loose['max']:.3g}%"
            lib = f"{e.get('library') or 'user'} {e.get('version') or ''}".strip()
            cells = [e.get("target", name), lib, e.get("grid", ""), str(e.get("answers", "")),
                     f"**{counts.get('unsound', 0)}**", str(counts.get("loose", 0)),
                     str(counts.get("tight", 0)), str(counts.get("error", 0)), worst_text,
                     loose_text,
                     f"{e.get('seconds', 0):.1f} s ({e.get('accountant_seconds', 0):.1f} s)",
                     f"[{name}]({name})"]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        lines.append("")
    if not main and not other:
        lines += ["No accountant has been checked yet.", ""]
    return "\n".join(lines)


def regenerate_accountant_reports(out_dir: str | os.PathLike[str] = DEFAULT_OUT,
                                  grid: str = "default",
                                  progress: Callable[[str], None] | None = None,
                                  names: Sequence[str] | None = None,
                                  force: bool = False) -> str:
    """The hook of ``certify run``: bring ``out_dir`` up to date for every available built-in
    adapter (or ``names``) on ``grid``, sharing the certified references, and re-render
    ``README.md``. An adapter whose certificate is already there, untampered (its sha256 checks)
    and made with the installed version of its library is kept unless ``force``: a full default
    run takes tens of minutes (prv-accountant alone needs minutes at T = 10^4). When no peer
    library is installed it writes nothing and says so. Returns a one-line summary."""
    chosen = list(names) if names is not None else available_builtins()
    if not chosen:
        return ("accountant reports not regenerated: no peer library is installed "
                "(pip install 'certify-dp[accountants]')")
    out = Path(out_dir)
    index = read_accountant_index(out)
    stale = [n for n in chosen if force or not _current(out, index, n, grid)]
    checker = Checker(References())
    reports = []
    start = time.perf_counter()
    for name in stale:
        if progress:
            progress(f"checking accountant {name} on the {grid} grid")
        reports.append(checker.check(name, grid, progress=progress))
    write_accountant_reports(reports, out)  # also re-renders README.md from the merged index
    index = read_accountant_index(out)
    unsound = sorted(e["target"] for e in index.values()
                     if e.get("grid") == grid and e.get("target") in chosen
                     and e.get("counts", {}).get("unsound"))
    return (f"accountant reports: {len(reports)} of {len(chosen)} adapters re-run on the {grid} "
            f"grid in {time.perf_counter() - start:.0f} s (the others were current) -> {out}; "
            f"unsound: {', '.join(unsound) if unsound else 'none'}")


def _current(out: Path, index: Mapping[str, Mapping[str, Any]], name: str, grid: str) -> bool:
    """Is the certificate of ``name`` on ``grid`` present, untampered and made with the
    installed library version?"""
    from certify.report.certificate import check_hash

    file = file_name(name, grid)
    entry = index.get(file)
    if not entry or not (out / file).is_file():
        return False
    try:
        data = loads_strict((out / file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    if not isinstance(data, dict) or not check_hash(data) or data["sha256"] != entry.get("sha256"):
        return False
    library = BUILTIN[name][0]
    try:
        installed = metadata.version(library)
    except metadata.PackageNotFoundError:
        return False
    return bool(data.get("environment", {}).get(library) == installed)


# -- recompute -----------------------------------------------------------------------------------
def is_accountant_certificate(cert: Certificate) -> bool:
    return cert.claim.id.startswith(PREFIX)


def recompute_accountant_problems(cert: Certificate) -> list[str]:
    """Re-check an accountant certificate without the peer library (module docstring)."""
    problems: list[str] = []
    if len(cert.evidence) != 1 or not isinstance(cert.evidence[0].values.get("cells"),
                                                 (list, tuple)):
        return ["recompute: an accountant certificate holds one evidence item with cells"]
    values = cert.evidence[0].values
    try:
        tol_data = values["tolerance"]
        assert isinstance(tol_data, Mapping)
        tol = Tolerance(float(str(tol_data["rel"])), float(str(tol_data["absolute"])),
                        float(str(tol_data["rdp_rel"])))
        threshold = float(str(values["loose_threshold"]))
    except (KeyError, AssertionError, ValueError, InvalidArgument) as exc:
        return [f"recompute: tolerance or loose_threshold unreadable ({exc})"]
    refs = References()
    any_unsound = False
    cells = values["cells"]
    assert isinstance(cells, (list, tuple))
    for i, item in enumerate(cells):
        where = f"cells[{i}]"
        if not isinstance(item, Mapping):
            problems.append(f"recompute: {where} is not an object")
            continue
        try:
            problems += [f"recompute: {where}: {p}"
                         for p in _recheck_cell(item, tol, threshold, refs)]
        except (KeyError, ValueError, TypeError, InvalidArgument) as exc:
            problems.append(f"recompute: {where} is malformed ({exc})")
        except Inconclusive as exc:
            problems.append(f"recompute: {where}: the reference could not be recomputed "
                            f"({exc.reason})")
        any_unsound = any_unsound or item.get("verdict") == "unsound"
    expected = "refuted" if any_unsound else None
    if expected and cert.verdict.status != expected:
        problems.append(f"recompute: verdict {cert.verdict.status!r} stored, but cells are "
                        "unsound (expected 'refuted')")
    if not any_unsound and cert.verdict.status == "refuted":
        problems.append("recompute: verdict 'refuted' stored but no cell is unsound")
    return problems


def _bound(item: Mapping[str, Any], key: str) -> Bound | None:
    value = item.get(key)
    return value if isinstance(value, Bound) else None


def _recheck_cell(item: Mapping[str, Any], tol: Tolerance, threshold: float,
                  refs: References) -> list[str]:
    """Problems with one stored cell (empty when consistent)."""
    verdict = item["verdict"]
    if verdict in ("error", "inconclusive"):
        return []
    form, bound = item["form"], item["bound"]
    reported = float(item["reported"])
    kind = {"epsilon": bound, "delta": "delta", "rdp": "rdp"}[form]
    judged = judged_value(reported, kind, tol)
    stored_judged = Fraction(item["judged_at"])
    out = []
    if judged != stored_judged:
        out.append(f"judged_at={item['judged_at']} but the tolerance gives {judged}")
    truth = _bound(item, "truth")
    if truth is None:
        return [*out, "no stored truth enclosure"]
    sigma, q = Fraction(float(item["noise_multiplier"])), Fraction(float(item["sample_rate"]))
    level = int(item["level"])
    at_judged = _bound(item, "delta_at_reported")
    # 1. the stored verdict follows from the stored bounds
    proof = _proof(form, bound, truth, at_judged, stored_judged, item)
    if (proof == "unsound") != (verdict == "unsound"):
        out.append(f"verdict {verdict!r} does not follow from the stored bounds "
                   f"(they give {proof!r})")
    if verdict == "loose" and not (isinstance(item.get("excess"), Bound)
                                   and item["excess"].gt(Fraction(threshold)) is True):
        out.append("verdict 'loose' but the stored excess does not exceed the threshold")
    if verdict != "unsound":
        return out
    # 2. an unsound cell: recompute what decides it
    if form == "rdp":
        again = refs.rdp(sigma, q, Fraction(float(item["order"])), level)
        return out + _compare("truth", truth, again) + (
            [] if decide_by_value(again, stored_judged) == "unsound"
            else ["the recomputed RDP no longer proves the violation"])
    params = (sigma, q, int(item["steps"]))
    delta = Fraction(float(item["delta"]))
    if form == "delta":
        again = refs.delta(params, Fraction(float(item["epsilon"])), level)
        return out + _compare("truth", truth, again) + (
            [] if decide_by_value(again, stored_judged) == "unsound"
            else ["the recomputed delta no longer proves the violation"])
    upper = bound == "upper"
    again_truth = refs.epsilon(params, delta, level)
    out += _compare("truth", truth, again_truth)
    decided = decide_by_epsilon(again_truth, stored_judged, upper)
    if at_judged is not None:
        d_level = item.get("delta_level")
        again_d = refs.delta(params, stored_judged, int(d_level) if d_level is not None else 0)
        out += _compare("delta_at_reported", at_judged, again_d)
        decided = decided or decide_by_delta(again_d, delta, upper)
    if decided != "unsound":
        out.append("the recomputed enclosures no longer prove the violation")
    return out


def _proof(form: str, bound: str, truth: Bound, at_judged: Bound | None, judged: Fraction,
           item: Mapping[str, Any]) -> str | None:
    if form in ("delta", "rdp"):
        return decide_by_value(truth, judged)
    upper = bound == "upper"
    found = decide_by_epsilon(truth, judged, upper)
    if found is None and at_judged is not None:
        found = decide_by_delta(at_judged, Fraction(float(item["delta"])), upper)
    return found


def _compare(name: str, stored: Bound, again: Bound) -> list[str]:
    if stored.overlaps(again):
        return []
    return [f"{name}: stored {stored} and recomputed {again} are disjoint"]


__all__ = ["DEFAULT_OUT", "INDEX_FILE", "PREFIX", "README_FILE", "certificate_for",
           "claim_id", "file_name", "is_accountant_certificate", "read_accountant_index",
           "recompute_accountant_problems", "regenerate_accountant_reports",
           "render_accountants_readme", "write_accountant_reports"]
