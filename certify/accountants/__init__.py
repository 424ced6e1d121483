"""certify.accountants: verification of DP accountants against certified references (issue 6).

``adapters``: the accountant under test (:class:`Adapter`: epsilon, delta and RDP forms), the
built-in adapters to pinned peer libraries, ``module:function`` targets. ``grid``: the quick,
default and full grids and JSON grid files. ``reference``: the certified references (closed
forms, PLD composition, RDP), cached within a run. ``check``: per-cell verdicts (unsound, loose,
tight, error) and the tolerance policy. ``junit``: JUnit XML. Certificates and the
``reports/accountants`` folder are written by :mod:`certify.report.accountants`; the pytest
plugin is :mod:`certify.testing`.
"""

from certify.accountants.adapters import Adapter, available_builtins, builtin, load_target
from certify.accountants.check import (
    LOOSE_THRESHOLD,
    TOLERANCE,
    AccountantReport,
    CellResult,
    Checker,
    Tolerance,
    check_accountant,
)
from certify.accountants.grid import GRIDS, Cell, Grid, cell, load_grid
from certify.accountants.junit import to_junit, write_junit
from certify.accountants.reference import References

__all__ = [
    "GRIDS",
    "LOOSE_THRESHOLD",
    "TOLERANCE",
    "AccountantReport",
    "Adapter",
    "Cell",
    "CellResult",
    "Checker",
    "Grid",
    "References",
    "Tolerance",
    "available_builtins",
    "builtin",
    "cell",
    "check_accountant",
    "load_grid",
    "load_target",
    "to_junit",
    "write_junit",
]
