"""The CLI contract: JSON keys, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mpmath
import pytest

from certify.cli import main, parse_assignments
from certify.errors import InvalidArgument


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_profile_delta_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "profile", "gaussian", "sigma=1.0", "epsilon=1.0", "--json")
    assert code == 0
    data = json.loads(out)
    assert {"mechanism", "params", "epsilon", "delta"} <= set(data)
    assert data["epsilon"] == {"lower": "1", "upper": "1"}
    with mpmath.workdps(40):
        truth = mpmath.ncdf(mpmath.mpf(-0.5)) - mpmath.e * mpmath.ncdf(mpmath.mpf(-1.5))
        assert mpmath.mpf(data["delta"]["lower"]) <= truth <= mpmath.mpf(data["delta"]["upper"])


def test_profile_epsilon_json_reads_decimals_exactly(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "profile", "gaussian", "sigma=0.1", "delta=1e-5", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["params"]["sigma"] == "0.1"
    assert data["delta"] == {"lower": "0.00001", "upper": "0.00001"}
    lo, hi = float(data["epsilon"]["lower"]), float(data["epsilon"]["upper"])
    assert 0 < lo <= hi


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("profile", "gaussian", "sigma=-1", "delta=1e-5"), "sigma=-1 must be positive"),
        (("profile", "gaussian", "sigma=1", "delta=2"), "delta=2 must be in"),
        (("profile", "gaussian", "sigma=nan", "delta=0.1"), "sigma=nan"),
        (("profile", "gaussian", "sigma=1", "epsilon=1", "delta=0.1"), "exactly one"),
        (("profile", "gaussian", "sigma=1"), "exactly one"),
        (("profile", "gaussian", "sigma=1", "bogus=3", "delta=0.1"), "bogus=3"),
        (("profile", "nosuch", "sigma=1", "delta=0.1"), "mechanism='nosuch'"),
        (("profile", "gaussian", "sigma", "delta=0.1"), "name=value"),
        (("profile", "gaussian", "sigma=1", "delta=0.1", "--rel-width=-1"), "--rel-width=-1"),
        (("run", "--claims", "NOPE-*"), "NOPE-*"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], fragment: str
) -> None:
    code, _, err = run_cli(capsys, *args)
    assert code == 2
    assert fragment in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_inconclusive_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    # a width that 128 bits cannot show is unreachable: inconclusive, with the best bracket
    code, _, err = run_cli(capsys, "profile", "gaussian", "sigma=1", "epsilon=1",
                           "--rel-width=1e-60", "--max-prec=128")
    assert code == 3
    assert "inconclusive" in err


def test_parse_assignments() -> None:
    assert parse_assignments(["a=1", " b = 2 "]) == {"a": "1", "b": "2"}
    with pytest.raises(InvalidArgument):
        parse_assignments(["a=1", "a=2"])


def test_console_script_runs_without_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "certify.cli", "profile", "gaussian", "sigma=0", "delta=0.1"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 2
    assert "sigma=0 must be positive" in proc.stderr and "Traceback" not in proc.stderr


def test_rdp_json_matches_the_exact_integer_order_sum(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "rdp", "subsampled-gaussian", "sigma=1", "q=0.01",
                           "orders=2,32", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["orders"] == ["2", "32"]
    with mpmath.workdps(60):
        q, s = mpmath.mpf("0.01"), mpmath.mpf(1)
        for alpha, bound in zip((2, 32), data["rdp"], strict=True):
            # Mironov-Talwar-Zhang 2019, Sec 3.3: the remove direction dominates at integer orders
            a = mpmath.fsum(mpmath.binomial(alpha, k) * (1 - q) ** (alpha - k) * q**k
                            * mpmath.exp((k * k - k) / (2 * s * s)) for k in range(alpha + 1))
            value = mpmath.log(a) / (alpha - 1)
            assert mpmath.mpf(bound["lower"]) <= value <= mpmath.mpf(bound["upper"])


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("rdp", "subsampled-gaussian", "sigma=1", "q=0.01"), "orders is required"),
        (("rdp", "subsampled-gaussian", "sigma=1", "q=0.01", "orders=0.5"), "0.5"),
        (("rdp", "subsampled-gaussian", "sigma=1", "q=2", "orders=2"), "q=2"),
        (("rdp", "gaussian", "sigma=1", "orders=2"), "subsampled-gaussian"),
    ],
)
def test_rdp_bad_input(capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
                       fragment: str) -> None:
    code, _, err = run_cli(capsys, *args)
    assert code == 2 and fragment in err and "Traceback" not in err


def test_proofs_command_runs_every_derivation(capsys: pytest.CaptureFixture[str]) -> None:
    from proofs.registry import ALL_PROOFS

    code, out, _ = run_cli(capsys, "proofs", "--json")
    assert code == 0
    records = json.loads(out)
    assert len(records) == len(ALL_PROOFS)
    assert all(r["ok"] and r["steps"] for r in records)


def test_verify_skips_the_report_index(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = tmp_path / "index.json"
    index.write_text("{}")
    missing = tmp_path / "nope.json"
    assert main(["verify", str(index), str(missing)]) == 1  # the missing file still fails
    assert "report index" in capsys.readouterr().err
