"""The ``certify`` command line (DESIGN.md, "CLI contract").

Exit codes: 0 definite (a refuted claim is a successful certification), 1 a check failed
(tampered or mismatching certificate, unsound accountant), 2 usage or bad input (one readable
line, no traceback), 3 something stayed inconclusive.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from certify._validate import to_exact
from certify.claims.model import Certificate, Claim, Outcome
from certify.errors import CertifyError, Inconclusive, InvalidArgument
from certify.mechanisms.base import build_mechanism, mechanism_names
from certify.numerics.bound import Bound
from certify.numerics.precision import DEFAULT_MAX_PREC, Target

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INCONCLUSIVE = 0, 1, 2, 3

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Certified numerics for differential-privacy claims.",
)
console = Console()
err_console = Console(stderr=True, soft_wrap=True)


def parse_assignments(items: Sequence[str]) -> dict[str, str]:
    """``["sigma=1.0", "epsilon=2"]`` -> ``{"sigma": "1.0", "epsilon": "2"}``; values stay text
    (exact decimals are read from the string itself, never through a float)."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise InvalidArgument(f"parameter={item!r} must be written name=value.")
        if name in out:
            raise InvalidArgument(f"{name}={value} is given twice.")
        out[name] = value
    return out


def _target(rel_width: str | None, abs_width: str | None, max_prec: int | None) -> Target | None:
    if rel_width is None and abs_width is None and max_prec is None:
        return None
    widths: dict[str, float | None] = {}
    for flag, text in (("--rel-width", rel_width), ("--abs-width", abs_width)):
        if text is None:
            widths[flag] = None
            continue
        value = float(to_exact(flag, text))
        if not value > 0:
            raise InvalidArgument(f"{flag}={text} must be positive (and above 1e-308).")
        widths[flag] = value
    if max_prec is not None and max_prec < 64:
        raise InvalidArgument(f"--max-prec={max_prec} must be at least 64.")
    rel, absolute = widths["--rel-width"], widths["--abs-width"]
    if rel is None and absolute is None:
        rel = 1e-10
    return Target(rel=rel, absolute=absolute, max_prec=max_prec or DEFAULT_MAX_PREC)


@app.command()
def profile(
    name: Annotated[str, typer.Argument(help="mechanism, e.g. gaussian")],
    assignments: Annotated[
        list[str] | None,
        typer.Argument(help="name=value parameters, and exactly one of epsilon=E or delta=D"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    rel_width: Annotated[
        str | None, typer.Option("--rel-width", help="requested relative width (default 1e-10)")
    ] = None,
    abs_width: Annotated[
        str | None, typer.Option("--abs-width", help="requested absolute width")
    ] = None,
    max_prec: Annotated[
        int | None, typer.Option("--max-prec", help="precision budget in bits (default 8192)")
    ] = None,
) -> None:
    """Certified privacy profile: delta(epsilon) or epsilon(delta) of a mechanism."""
    params = parse_assignments(assignments or [])
    has_eps, has_delta = "epsilon" in params, "delta" in params
    if has_eps == has_delta:
        raise InvalidArgument(
            "give exactly one of epsilon=E or delta=D "
            f"(got {'both' if has_eps else 'neither'})."
        )
    target = _target(rel_width, abs_width, max_prec)
    given = "epsilon" if has_eps else "delta"
    given_text = params.pop(given)
    mech = build_mechanism(name, params)
    if has_eps:
        eps_bound = _exact_bound("epsilon", given_text)
        delta_bound = mech.delta(given_text, target)
    else:
        delta_bound = _exact_bound("delta", given_text)
        eps_bound = mech.epsilon(given_text, target)
    result = {
        "mechanism": name,
        "params": mech.params(),
        "epsilon": eps_bound.to_json(),
        "delta": delta_bound.to_json(),
        "prec": max(eps_bound.prec, delta_bound.prec),
        "certified": True,
    }
    # mechanisms whose profile is only bracketed (lower and upper methods) say so
    bracket = getattr(mech, "exact_profile", True) is False
    if bracket:
        result["bracket"] = True
    if as_json:
        typer.echo(json.dumps(result, sort_keys=True))
        return
    title = f"{name} " + " ".join(f"{k}={v}" for k, v in mech.params().items())
    if bracket:
        title += " (certified bracket: lower and upper methods, not numerical width)"
    table = Table(title=title)
    table.add_column("quantity")
    table.add_column("lower", justify="right")
    table.add_column("upper", justify="right")
    for key in ("epsilon", "delta"):
        b = result[key]
        assert isinstance(b, dict)
        table.add_row(key, b["lower"], b["upper"])
    console.print(table)


def _exact_bound(name: str, text: str) -> Bound:
    return Bound.exact(to_exact(name, text))


@app.command(name="rdp")
def rdp_command(
    name: Annotated[str, typer.Argument(help="mechanism: subsampled-gaussian")],
    assignments: Annotated[
        list[str] | None,
        typer.Argument(help="name=value parameters and orders=A1,A2,... (each > 1)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    rel_width: Annotated[
        str | None, typer.Option("--rel-width", help="requested relative width (default 1e-10)")
    ] = None,
) -> None:
    """Certified Renyi DP of a mechanism at the given orders (both add/remove directions)."""
    from certify.accounting.rdp import rdp
    from certify.mechanisms.subsampled import SubsampledGaussian

    params = parse_assignments(assignments or [])
    if "orders" not in params:
        raise InvalidArgument("orders is required, e.g. orders=1.5,2,32.")
    order_texts = [o.strip() for o in params.pop("orders").split(",") if o.strip()]
    if not order_texts:
        raise InvalidArgument("orders= must list at least one order.")
    mech = build_mechanism(name, params)
    if not isinstance(mech, SubsampledGaussian):
        raise InvalidArgument(f"mechanism={name!r}: certify rdp supports subsampled-gaussian.")
    values = rdp(mech, order_texts, _target(rel_width, None, None))
    result = {
        "mechanism": name,
        "params": mech.params(),
        "orders": order_texts,
        "rdp": [v.to_json() for v in values],
        "certified": True,
    }
    if as_json:
        typer.echo(json.dumps(result, sort_keys=True))
        return
    shown = " ".join(f"{k}={v}" for k, v in mech.params().items())
    table = Table(title=f"Renyi DP of {name} {shown}")
    for col in ("order", "lower", "upper"):
        table.add_column(col, justify="right")
    for order, v in zip(order_texts, values, strict=True):
        table.add_row(order, str(v.to_json()["lower"]), str(v.to_json()["upper"]))
    console.print(table)


@app.command()
def proofs(
    as_json: Annotated[bool, typer.Option("--json", help="print the records as JSON")] = False,
) -> None:
    """Run every symbolic derivation (sympy) and print a table; exit 1 if a step fails."""
    import time

    from proofs.registry import ALL_PROOFS

    records = []
    seconds = []
    with Progress(TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                  console=err_console, transient=True) as progress:
        task = progress.add_task("deriving", total=len(ALL_PROOFS))
        for proof in ALL_PROOFS:
            progress.update(task, description=f"deriving {proof.__name__}")
            start = time.perf_counter()
            records.append(proof())
            seconds.append(time.perf_counter() - start)
            progress.advance(task)
    if as_json:
        typer.echo(json.dumps([r.to_json() for r in records], sort_keys=True))
    else:
        table = Table(title="certify proofs (sympy)")
        for col in ("derivation", "checked steps", "result", "seconds"):
            table.add_column(col)
        for r, sec in zip(records, seconds, strict=True):
            ok_steps = sum(s.ok for s in r.steps)
            table.add_row(r.name, f"{ok_steps}/{len(r.steps)}",
                          "[green]ok[/]" if r.ok else "[red]FAILED[/]", f"{sec:.1f}")
        console.print(table)
    if not all(r.ok for r in records):
        raise typer.Exit(EXIT_FAILED)


@app.command()
def mechanisms() -> None:
    """List the mechanisms that ``certify profile`` knows."""
    for n in mechanism_names():
        typer.echo(n)


@app.command()
def run(
    claims: Annotated[
        str | None, typer.Option("--claims", help="glob(s) of claim IDs, comma-separated")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="report folder")] = Path("reports"),
) -> None:
    """Certify the registered claims and write certificates and reports."""
    from certify.claims.registry import select
    from certify.claims.runner import certify_claim
    from certify.report import write_reports

    chosen = select(claims)
    certificates = []
    figures = {}
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(), console=err_console, transient=False,
    ) as progress:
        task = progress.add_task("certifying", total=len(chosen))
        for claim in chosen:
            progress.update(task, description=f"certifying {claim.id}")
            cert = certify_claim(claim)
            certificates.append(cert)
            if claim.figure is not None and cert.verdict.status != "inconclusive":
                figures[claim.id] = _figure_writer(claim, cert)
            progress.advance(task)
    if figures and importlib.util.find_spec("matplotlib") is None:
        err_console.print("note: matplotlib is not installed (pip install 'certify-dp[report]'): "
                          "figures skipped", markup=False)
        figures = {}
    write_reports(certificates, out, figures)
    if claims is None:
        # the whole catalogue also refreshes reports/accountants/ (issue 6): adapters whose
        # certificate is current for the installed peer-library version are kept as they are
        from certify.report.accountants import regenerate_accountant_reports

        summary = regenerate_accountant_reports(
            out / "accountants", progress=lambda text: err_console.print(text, markup=False)
        )
        err_console.print(summary, markup=False)
    table = Table(title=f"certify run -> {out}")
    for col in ("claim", "verdict", "summary"):
        table.add_column(col)
    for cert in certificates:
        colour = {"confirmed": "green", "refuted": "yellow", "inconclusive": "red"}
        status = cert.verdict.status
        table.add_row(cert.claim.id, f"[{colour[status]}]{status}[/]", escape(cert.verdict.summary))
    console.print(table)
    if any(c.verdict.status == "inconclusive" for c in certificates):
        raise typer.Exit(EXIT_INCONCLUSIVE)


def _figure_writer(claim: Claim, cert: Certificate) -> Callable[[str], None]:
    outcome = Outcome(evidence=cert.evidence, verdict=cert.verdict)

    def draw(path: str) -> None:
        assert claim.figure is not None
        claim.figure(outcome, path)

    return draw


@app.command()
def verify(
    files: Annotated[list[Path], typer.Argument(help="certificate JSON files")],
    recompute: Annotated[
        bool, typer.Option("--recompute", help="re-run the evidence and compare")
    ] = False,
) -> None:
    """Re-check certificates: the hash (tampering) and, with --recompute, the evidence."""
    from certify.report import verify_file

    # `certify verify reports/*.json` also matches the report index, which is no certificate
    skipped = [f for f in files if f.name == "index.json"]
    for f in skipped:
        err_console.print(f"note: {f} is a report index, not a certificate: skipped", markup=False)
    results = [verify_file(f, recompute=recompute) for f in files if f not in skipped]
    table = Table(title="certify verify" + (" --recompute" if recompute else ""))
    for col in ("file", "claim", "result", "problems"):
        table.add_column(col)
    for r in results:
        table.add_row(str(r.path), r.claim_id or "?", "[green]ok[/]" if r.ok else "[red]FAILED[/]",
                      "; ".join(r.problems))
    console.print(table)
    if not all(r.ok for r in results):
        raise typer.Exit(EXIT_FAILED)


@app.command(name="audit")
def audit_command(
    scores: Annotated[Path, typer.Argument(help="CSV with a header naming score and member (1/0)")],
    delta: Annotated[str, typer.Option("--delta", help="delta of the eps lower bound, in [0, 1)")],
    confidence: Annotated[
        str, typer.Option("--confidence", help="confidence of each interval (default 0.95)")
    ] = "0.95",
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Audit membership-inference scores: AUC, TPR at fixed FPRs, balanced accuracy (exact or
    conservative intervals) and the certified empirical eps lower bound at delta."""
    from certify.audit import audit_scores, read_scores_csv

    members, nonmembers = read_scores_csv(scores)
    summary = audit_scores(members, nonmembers, delta, confidence=confidence)
    data = summary.to_json()
    if as_json:
        typer.echo(json.dumps(data, sort_keys=True))
        return
    table = Table(title=f"certify audit {scores} ({summary.members} members, "
                        f"{summary.nonmembers} non-members, confidence {confidence})")
    for col in ("quantity", "estimate", "lower", "upper"):
        table.add_column(col, justify="right" if col != "quantity" else "left")
    rows = [("AUC", summary.auc)]
    rows += [(f"TPR at FPR {t.to_json()['fpr']}", t.tpr) for t in summary.tpr_at_fpr]
    rows.append(("balanced accuracy (best threshold)", summary.accuracy.balanced))
    for label, ci in rows:
        table.add_row(label, f"{float(ci.estimate):.6g}", _directed(ci.lower, up=False),
                      _directed(ci.upper, up=True))
    table.add_row(f"eps lower bound at delta={delta}", "",
                  _directed(summary.epsilon.epsilon, up=False), "")
    console.print(table)


def _directed(value: Decimal, *, up: bool) -> str:
    """10 significant digits rounded outward (a shortened lower limit must stay a lower limit)."""
    with localcontext() as c:
        c.prec = 10
        c.rounding = ROUND_CEILING if up else ROUND_FLOOR
        return str(+value)


@app.command(name="accountant")
def accountant_command(
    target: Annotated[
        str | None,
        typer.Argument(help="built-in adapter (see --list), 'all', or module:function"),
    ] = None,
    grid: Annotated[
        str, typer.Option("--grid", help="quick | default | full | a JSON grid file")
    ] = "quick",
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    junit: Annotated[
        Path | None, typer.Option("--junit", help="write JUnit XML (one testcase per cell)")
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="certificate folder")
    ] = Path("reports") / "accountants",
    no_certificate: Annotated[
        bool, typer.Option("--no-certificate", help="do not write certificates")
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="exit 1 also when an answer is an error")
    ] = False,
    list_adapters: Annotated[
        bool, typer.Option("--list", help="list the built-in adapters and exit")
    ] = False,
) -> None:
    """Check a DP accountant against certified references; exit 1 when an answer is unsound."""
    from certify.report.accountant_cli import list_adapters as show_adapters
    from certify.report.accountant_cli import run_accountant

    if list_adapters:
        show_adapters(console)
        return
    if target is None:
        raise InvalidArgument("target is required (a built-in adapter, 'all' or module:function).")
    code = run_accountant(target, grid, as_json=as_json, junit=junit, out=out,
                          write=not no_certificate, strict=strict, console=console,
                          err_console=err_console)
    if code:
        raise typer.Exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: maps errors to exit codes with one readable line and no traceback.

    Usage errors (unknown option, missing argument) are reported by typer itself with exit 2.
    """
    try:
        app(args=list(argv) if argv is not None else None, prog_name="certify")
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_USAGE)
    except InvalidArgument as exc:
        err_console.print(f"error: {exc}", markup=False, highlight=False)
        return EXIT_USAGE
    except Inconclusive as exc:
        err_console.print(f"inconclusive: {exc.reason}", markup=False, highlight=False)
        if exc.best is not None:
            err_console.print(f"best enclosure reached: {exc.best}", markup=False)
        return EXIT_INCONCLUSIVE
    except CertifyError as exc:
        err_console.print(f"error: {exc}", markup=False, highlight=False)
        return EXIT_FAILED
    return EXIT_OK


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    entry()
