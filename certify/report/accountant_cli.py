"""``certify accountant TARGET [--grid quick|default|full|FILE] [--json] [--junit FILE]``: the
command behind :func:`certify.cli.accountant` (DESIGN.md, "CLI contract").

TARGET is a built-in adapter (``--list`` shows them), ``all`` (every built-in whose library is
installed, sharing the certified references; with the default grid this regenerates
``reports/accountants/README.md``), or ``module:function`` for any callable
``f(*, noise_multiplier, sample_rate, steps, delta) -> epsilon`` (see
:mod:`certify.accountants.adapters` for the optional delta and RDP forms). Output: a table per
target (or one JSON object with ``--json``), a certificate per target into ``--out``
(default ``reports/accountants``; ``--no-certificate`` skips it), JUnit XML with ``--junit``.
Exit code 1 when any answer is unsound (with ``--strict`` also when an answer is an error), 0
otherwise; bad input 2.
"""

from __future__ import annotations

import json
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from pathlib import Path

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from certify.accountants.adapters import BUILTIN, available_builtins, builtin
from certify.accountants.check import TOLERANCE, AccountantReport, Checker
from certify.accountants.junit import write_junit
from certify.accountants.reference import References
from certify.errors import InvalidArgument
from certify.numerics.bound import Bound
from certify.report.accountants import write_accountant_reports

_COLOURS = {"unsound": "red", "error": "magenta", "inconclusive": "yellow", "loose": "cyan",
            "tight": "green"}


def list_adapters(console: Console) -> None:
    """Print the built-in adapters, their pinned library and whether it is installed here."""
    table = Table(title="built-in accountant adapters")
    for col in ("adapter", "library (pinned)", "installed", "forms", "what"):
        table.add_column(col)
    for name, (library, pinned, _) in BUILTIN.items():
        try:
            a = builtin(name)
        except InvalidArgument:
            table.add_row(name, f"{library}=={pinned}", "no", "", "")
            continue
        forms = ", ".join(a.forms()) + (" (lower bound)" if a.bound == "lower" else "")
        table.add_row(name, f"{library}=={pinned}", a.version or "?", forms, a.description)
    console.print(table)


def _short(b: Bound) -> str:
    """An enclosure shown to 12 significant digits, still outward-rounded."""
    def ends(x: Decimal, rounding: str) -> str:
        if not x.is_finite():
            return str(x)
        with localcontext() as c:
            c.prec = 12
            c.rounding = rounding
            return str(+x)
    return f"[{ends(b.lower, ROUND_FLOOR)}, {ends(b.upper, ROUND_CEILING)}]"


def _table(rep: AccountantReport) -> Table:
    shown = f"{rep.library} {rep.version}" if rep.library else "user accountant"
    table = Table(title=f"certify accountant {rep.target} ({shown}) on the {rep.grid} grid")
    for col in ("answer", "reported", "certified true value", "verdict", "excess %", "note"):
        table.add_column(col, overflow="fold")
    for r in rep.results:
        ex = r.excess_percent
        table.add_row(r.name(), "" if r.reported is None else f"{r.reported:.10g}",
                      "" if r.truth is None else _short(r.truth),
                      f"[{_COLOURS[r.verdict]}]{r.verdict}[/]",
                      "" if ex is None else f"[{ex[0]:.4g}, {ex[1]:.4g}]", r.note)
    return table


def run_accountant(target: str, grid: str, *, as_json: bool, junit: Path | None, out: Path,
                   write: bool, strict: bool, console: Console, err_console: Console) -> int:
    """Run the command; returns the exit code (module docstring)."""
    if target == "all":
        names = available_builtins()
        if not names:
            raise InvalidArgument("target='all': no peer library is installed "
                                  "(pip install 'certify-dp[accountants]').")
    else:
        names = [target]
    checker = Checker(References())
    reports: list[AccountantReport] = []
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=err_console, transient=True) as progress:
        task = progress.add_task("checking", total=None)

        def show(text: str) -> None:
            progress.update(task, description=text)

        for name in names:
            reports.append(checker.check(name, grid, progress=show))
    paths = write_accountant_reports(reports, out) if write else []
    if junit is not None:
        write_junit(reports, junit)
    unsound = sum(len(r.unsound) for r in reports)
    errors = sum(r.counts()["error"] for r in reports)
    code = 1 if unsound or (strict and errors) else 0
    if as_json:
        print(json.dumps({
            "reports": [r.to_json() for r in reports], "unsound": unsound, "errors": errors,
            "ok": code == 0, "tolerance": TOLERANCE.to_json(),
            "certificates": [str(p) for p in paths]}, sort_keys=True), file=console.file)
        return code
    for rep in reports:
        console.print(_table(rep))
        counts = rep.counts()
        loose = rep.looseness()
        console.print(
            f"{rep.target}: " + ", ".join(f"{n} {v}" for v, n in counts.items() if n)
            + ("" if loose is None else
               f"; excess over the truth median {loose[0]:.3g}%, max {loose[1]:.3g}%")
            + f"; {rep.seconds:.1f} s ({rep.accountant_seconds:.1f} s in the accountant)",
            markup=False, highlight=False)
    console.print(f"tolerance: {TOLERANCE.describe()}", markup=False, highlight=False)
    for p in paths:
        console.print(f"certificate: {p}", markup=False, highlight=False)
    if junit is not None:
        console.print(f"junit: {junit}", markup=False, highlight=False)
    return code


__all__ = ["list_adapters", "run_accountant"]
