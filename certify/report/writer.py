"""Write a reports folder: one certificate per claim, an index, a README table and figures.

Layout (DESIGN.md, "The way a request travels")::

    <out>/<ID>.json          the certificate (certify.report.certificate)
    <out>/index.json         claim ID -> {verdict, file, sha256, title,
                                          summary, evidence_kinds, figure}
    <out>/README.md          a human-readable table generated from index.json
    <out>/figures/<ID>.svg   drawn by the figure callables, when given

Writing merges: a run over some claims (``certify run --claims 'LDP-*'``) replaces their index
entries and keeps those of other claims already in ``index.json``; README.md is regenerated
from the merged index. Output is deterministic for given certificates: sorted keys, stable
(natural) order of claims, ``\\n`` line ends and a trailing newline; no timestamps outside the
certificates' unhashed ``run`` part.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from certify.claims.model import EVIDENCE_KINDS, STATUSES, Certificate
from certify.errors import InvalidArgument
from certify.report.certificate import (
    certificate_to_json,
    dumps_pretty,
    loads_strict,
    write_text_atomic,
)

INDEX_FILE = "index.json"
README_FILE = "README.md"
FIGURES_DIR = "figures"
#: claim IDs become file names, so they are restricted to a safe alphabet
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_ENTRY_KEYS = ("verdict", "file", "sha256", "title")


def write_reports(
    certificates: Sequence[Certificate],
    out_dir: str | os.PathLike[str],
    figures: Mapping[str, Callable[[str], None]] | None = None,
) -> None:
    """Write the certificates, merge them into ``index.json`` and regenerate ``README.md``.

    ``figures`` maps a claim ID (one of ``certificates``) to a callable that draws its figure
    into the SVG path it is given (``<out>/figures/<ID>.svg``). Exceptions raised by a figure
    callable propagate, after the certificates have been written and before the index is.
    """
    figures = {} if figures is None else figures
    out = Path(out_dir)
    ids = [cert.claim.id for cert in certificates]
    for cid in ids:
        if not _SAFE_ID.fullmatch(cid):
            raise InvalidArgument(f"claim id={cid!r} is not a safe file name ([A-Za-z0-9._-]).")
    duplicates = sorted({cid for cid in ids if ids.count(cid) > 1})
    if duplicates:
        raise InvalidArgument(f"certificates: claim ids {', '.join(duplicates)} appear twice.")
    unknown = sorted(set(figures) - set(ids))
    if unknown:
        raise InvalidArgument(f"figures: {', '.join(unknown)} are not among the certificates.")

    index = read_index(out)  # before writing anything: a broken index stops the run early
    out.mkdir(parents=True, exist_ok=True)
    entries: dict[str, dict[str, Any]] = {}
    for cert in certificates:
        data = certificate_to_json(cert)
        file_name = f"{cert.claim.id}.json"
        write_text_atomic(out / file_name, dumps_pretty(data))
        entries[cert.claim.id] = {
            "verdict": cert.verdict.status,
            "file": file_name,
            "sha256": data["sha256"],
            "title": cert.claim.title,
            "summary": _one_line(cert.verdict.summary),
            "evidence_kinds": [k for k in EVIDENCE_KINDS if k in {e.kind for e in cert.evidence}],
            "figure": None,
        }
    for cid in sorted(figures, key=natural_key):
        svg = out / FIGURES_DIR / f"{cid}.svg"
        svg.parent.mkdir(parents=True, exist_ok=True)
        figures[cid](str(svg))
        if svg.is_file():
            entries[cid]["figure"] = f"{FIGURES_DIR}/{cid}.svg"

    index.update(entries)
    write_text_atomic(out / INDEX_FILE, dumps_pretty(index))
    write_text_atomic(out / README_FILE, render_readme(index))


def read_index_object(path: Path) -> dict[str, Any]:
    """The JSON object of an index file ({} when there is none yet); a present but unreadable
    or non-object file raises :class:`InvalidArgument` naming it (never silently replaced)."""
    if not path.exists():
        return {}
    try:
        data = loads_strict(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidArgument(f"index={str(path)!r} cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidArgument(f"index={str(path)!r} must hold a JSON object.")
    return data


def read_index(out_dir: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """The claim entries of ``<out_dir>/index.json`` ({} when there is none yet).

    A present but unreadable or malformed index raises :class:`InvalidArgument` rather than
    being silently replaced (that would drop the other claims' entries).
    """
    path = Path(out_dir) / INDEX_FILE
    data = read_index_object(path)
    for cid, entry in data.items():
        if not isinstance(entry, dict) or any(k not in entry for k in _ENTRY_KEYS):
            raise InvalidArgument(
                f"index={str(path)!r}: entry {cid!r} must be an object with "
                f"{', '.join(_ENTRY_KEYS)}."
            )
    return data


def render_readme(index: Mapping[str, Mapping[str, Any]]) -> str:
    """The README.md text for an index: counts per verdict, then one table row per claim."""
    counts = {s: sum(1 for e in index.values() if e.get("verdict") == s) for s in STATUSES}
    lines = [
        "# certify-dp reports",
        "",
        "Generated by `certify run` from the certificates in this folder "
        "(`index.json` lists them). Check one with `certify verify <ID>.json --recompute`.",
        "",
        f"{len(index)} claim{'s' if len(index) != 1 else ''}: "
        + ", ".join(f"{counts[s]} {s}" for s in STATUSES)
        + ".",
        "",
        "| ID | Title | Verdict | Summary | Evidence | Certificate | Figure |",
        "|---|---|---|---|---|---|---|",
    ]
    for cid in sorted(index, key=natural_key):
        e = index[cid]
        kinds = ", ".join(e.get("evidence_kinds") or []) or "none"
        figure = f"[svg]({e['figure']})" if e.get("figure") else ""
        cells = [
            cid,
            str(e.get("title", "")),
            f"**{e.get('verdict', '')}**",
            str(e.get("summary", "")),
            kinds,
            f"[{e.get('file', '')}]({e.get('file', '')})",
            figure,
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def natural_key(claim_id: str) -> list[Any]:
    """Sort key that puts LDP-2 before LDP-10 (numbers compared as numbers)."""
    return [(0, int(t)) if t.isdigit() else (1, t) for t in re.split(r"(\d+)", claim_id)]


def _one_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines()]
    return lines[0] if lines else ""


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


__all__ = ["FIGURES_DIR", "INDEX_FILE", "README_FILE", "natural_key", "read_index",
           "render_readme", "write_reports"]
