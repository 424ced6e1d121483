"""``certify audit SCORES.csv --delta D [--confidence C] [--json]``: output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from certify.audit import audit_scores
from certify.cli import main


def _write(path: Path, members: np.ndarray, nonmembers: np.ndarray) -> Path:
    rows = ["score,member"] + [f"{float(v)!r},1" for v in members]
    rows += [f"{float(v)!r},0" for v in nonmembers]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture
def scores_csv(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x, y = rng.normal(1, 1, 300), rng.normal(0, 1, 300)
    return _write(tmp_path / "scores.csv", x, y), x, y


def test_audit_json_matches_the_library(
    capsys: pytest.CaptureFixture[str], scores_csv: tuple[Path, np.ndarray, np.ndarray]
) -> None:
    path, x, y = scores_csv
    code = main(["audit", str(path), "--delta", "1e-5", "--confidence", "0.9", "--json"])
    out, _ = capsys.readouterr()
    assert code == 0
    data = json.loads(out)
    assert {"auc", "tpr_at_fpr", "accuracy", "epsilon", "members", "nonmembers"} <= set(data)
    assert data["members"] == 300 and data["confidence"] == "0.9"
    ref = audit_scores(x, y, "1e-5", confidence="0.9").to_json()
    assert data == json.loads(json.dumps(ref, sort_keys=True))
    assert [t["fpr"] for t in data["tpr_at_fpr"]] == ["0.001", "0.01", "0.1"]
    assert data["epsilon"]["delta"] == "0.00001"


def test_audit_table(
    capsys: pytest.CaptureFixture[str], scores_csv: tuple[Path, np.ndarray, np.ndarray]
) -> None:
    code = main(["audit", str(scores_csv[0]), "--delta", "0.01"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert "AUC" in out and "eps lower bound" in out and "TPR at FPR 0.001" in out


@pytest.mark.parametrize(
    ("extra", "text", "fragment"),
    [
        (["--delta", "1"], None, "delta=1 must be in"),
        (["--delta", "abc"], None, "delta='abc'"),
        (["--delta", "0.1", "--confidence", "0"], None, "confidence=0"),
        (["--delta", "0.1"], "score,member\n1,1\n", "at least one member and one non-member"),
        (["--delta", "0.1"], "score,label\nx,1\n0,0\n", "score='x' is not a number"),
        (["--delta", "0.1"], "value,member\n1,1\n", "no 'score' column"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path,
    scores_csv: tuple[Path, np.ndarray, np.ndarray], extra: list[str], text: str | None,
    fragment: str,
) -> None:
    path = scores_csv[0]
    if text is not None:
        path = tmp_path / "bad.csv"
        path.write_text(text)
    code = main(["audit", str(path), *extra])
    _, err = capsys.readouterr()
    assert code == 2
    assert fragment in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_missing_file_and_missing_delta(capsys: pytest.CaptureFixture[str], tmp_path: Path
                                        ) -> None:
    assert main(["audit", str(tmp_path / "none.csv"), "--delta", "0.1"]) == 2
    _, err = capsys.readouterr()
    assert "not a readable file" in err
    assert main(["audit", str(tmp_path / "none.csv")]) == 2  # typer usage error
