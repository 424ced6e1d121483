"""Reading attack scores from a CSV file (the input of ``certify audit``).

Format: a header row naming at least a ``score`` column and a ``member`` column (``label`` is
accepted for ``member``; names are case-insensitive, other columns are ignored), then one row
per trial. ``member`` is ``1``/``0`` (also ``true``/``false``, ``yes``/``no``); ``score`` is a
finite real number, higher meaning "member". Blank lines and lines starting with ``#`` are
skipped. Scores are read as IEEE doubles (the comparisons are exact on those).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from certify.audit._scores import FloatArray
from certify.errors import InvalidArgument

__all__ = ["read_scores_csv"]

_TRUE = {"1", "true", "yes", "member", "in"}
_FALSE = {"0", "false", "no", "nonmember", "non-member", "out"}


def read_scores_csv(path: str | Path) -> tuple[FloatArray, FloatArray]:
    """``(member scores, non-member scores)`` from a CSV file; any problem is an
    :class:`~certify.errors.InvalidArgument` naming the file, the line and the value."""
    p = Path(path)
    if not p.is_file():
        raise InvalidArgument(f"scores={str(path)!r} is not a readable file.")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"scores={str(path)!r} could not be read ({exc}).") from None
    lines = [(i + 1, line) for i, line in enumerate(text.splitlines())
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise InvalidArgument(f"scores={str(path)!r} is empty (a header row with 'score' and "
                              "'member' columns is required).")
    rows = list(csv.reader([line for _, line in lines]))
    header = [h.strip().lower() for h in rows[0]]
    if "score" not in header:
        raise InvalidArgument(f"scores={str(path)!r}: the header {rows[0]!r} has no 'score' "
                              "column.")
    label = "member" if "member" in header else "label" if "label" in header else None
    if label is None:
        raise InvalidArgument(f"scores={str(path)!r}: the header {rows[0]!r} has no 'member' "
                              "(or 'label') column.")
    i_score, i_label = header.index("score"), header.index(label)
    members: list[float] = []
    nonmembers: list[float] = []
    for (lineno, _), row in zip(lines[1:], rows[1:], strict=True):
        where = f"scores={str(path)!r} line {lineno}"
        if len(row) <= max(i_score, i_label):
            raise InvalidArgument(f"{where}: expected {len(header)} columns, got {len(row)}.")
        raw_score, raw_label = row[i_score].strip(), row[i_label].strip().lower()
        try:
            value = float(raw_score)
        except ValueError:
            raise InvalidArgument(f"{where}: score={raw_score!r} is not a number.") from None
        if not math.isfinite(value):
            raise InvalidArgument(f"{where}: score={raw_score!r} must be finite.")
        if raw_label in _TRUE:
            members.append(value)
        elif raw_label in _FALSE:
            nonmembers.append(value)
        else:
            raise InvalidArgument(f"{where}: {label}={row[i_label].strip()!r} must be 1 or 0 "
                                  "(true/false).")
    if not members or not nonmembers:
        raise InvalidArgument(f"scores={str(path)!r} must hold at least one member and one "
                              f"non-member (got {len(members)} and {len(nonmembers)}).")
    return np.asarray(members, dtype=np.float64), np.asarray(nonmembers, dtype=np.float64)
