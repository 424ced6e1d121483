"""The pytest plugin (entry point ``pytest11: certify = certify.testing``): a downstream test
file uses the ``certify_accountant`` fixture and ``assert_sound``; a broken accountant fails with
the table of unsound cells, a correct one passes, and ``--certify-grid`` picks the grid."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from certify.accountants.grid import cell

pytest_plugins = ["pytester"]

ACCOUNTANTS = '''
import math
from scipy import optimize, stats

def _log_delta(s, eps):
    a = stats.norm.logcdf(1 / (2 * s) - eps * s)
    b = eps + stats.norm.logcdf(-1 / (2 * s) - eps * s)
    return a + math.log1p(-math.exp(b - a))

def analytic(*, noise_multiplier, sample_rate, steps, delta):
    s = noise_multiplier / math.sqrt(steps)
    return optimize.brentq(lambda e: _log_delta(s, e) - math.log(delta), 0.0, 200.0, xtol=1e-12)

def too_small(**kw):
    return 0.995 * analytic(**kw)
'''


@pytest.fixture
def grid_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny_grid.json"
    cells = [cell(1.0, 1.0, 10, 1e-6), cell(2.0, 1.0, 1, 1e-5)]
    path.write_text(json.dumps([{**c.to_json(), "steps": c.steps} for c in cells]))
    return path


def test_fixture_and_assert_sound(pytester: pytest.Pytester, grid_file: Path) -> None:
    pytester.makepyfile(accts=ACCOUNTANTS)
    pytester.makepyfile(test_downstream='''
from certify.testing import assert_sound
import accts

def test_correct(certify_accountant):
    report = certify_accountant.assert_sound(accts.analytic)
    assert report.grid == "tiny_grid"

def test_broken(certify_accountant):
    certify_accountant.assert_sound(accts.too_small)

def test_direct(certify_accountant):
    assert_sound(accts.too_small, certify_accountant.grid)
''')
    result = pytester.runpytest("-p", "no:cacheprovider", f"--certify-grid={grid_file}")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["*AccountantUnsound*accountant too_small on the tiny_grid grid: "
                                 "2 unsound*",
                                 "*unsound  epsilon sigma=1 q=1 T=10 delta=1e-06*"])
