"""End to end: `certify run` writes certificates that `certify verify --recompute` accepts, and a
tampered certificate is rejected (exit 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from certify.cli import main


def test_run_then_verify_then_tamper(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "reports"
    assert main(["run", "--claims", "ACC-1", "--out", str(out)]) == 0
    index = json.loads((out / "index.json").read_text())
    assert index["ACC-1"]["verdict"] == "confirmed"
    cert_path = out / "ACC-1.json"
    assert (out / "README.md").read_text().count("ACC-1") >= 1
    assert (out / "figures" / "ACC-1.svg").exists()
    assert main(["verify", str(cert_path), "--recompute"]) == 0

    data = json.loads(cert_path.read_text())
    # flip one digit of a certified bound: the hash no longer matches
    curve = data["evidence"][1]["values"]["delta_of_epsilon"]
    first = next(iter(curve.values()))
    bound = first["1"]
    bound["upper"] = bound["upper"][:-1] + ("1" if bound["upper"][-1] != "1" else "2")
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(data))
    capsys.readouterr()
    assert main(["verify", str(tampered)]) == 1
