"""Certified eps(delta) of DP-SGD compositions vs dp-accounting, prv-accountant and opacus.

The grid of issue 5: q in {1e-3, 1e-2, 1e-1}, sigma in {0.5, 1, 2}, T in {1, 100, 10^4},
delta = 1e-5, Poisson-subsampled Gaussian, add/remove neighbours. Per cell: our certified
interval (relative width target 1e-3, :func:`certify.accounting.pld.composed_epsilon`; T = 1 is
answered by the one-step closed forms, ``method="auto"``) and its width; dp-accounting's PLD
accountant (default discretisation, pessimistic); prv-accountant's (eps_lower, eps_estimate,
eps_upper) with eps_error = 0.01; opacus's PRVAccountant (its default eps_error = 0.01); wall
times (and our CPU time) and the ratio ours / theirs.

Each peer answer is checked against our enclosure by
:func:`certify.accounting.peers.peer_findings` (decided exactly on the floats' binary values):
a peer *lower* bound above our certified upper bound (``lower-above-upper``: it is not a lower
bound -- the recorded prv-accountant 0.2.0 finding at q = 0.1, sigma = 1, T = 1e4,
:data:`certify.accounting.peers.PRV_LOWER_ABOVE_UPPER`), a peer *upper* bound or pessimistic
answer (dp-accounting, prv's eps_upper, opacus) below our certified lower bound
(``upper-below-lower``: unsound there), and a peer *estimate* below our certified lower bound
(``estimate-below-lower``: it understates the privacy loss). For flagged cells our
remove-direction interval is printed too (a peer that accounts for one direction only may
legitimately lie below the add/remove maximum).

    python benchmarks/bench_pld.py [--repeat 1] [--json results.json] [--quick] [--no-peers]

Peers are imported lazily; a missing one is skipped with a note. Runs the whole grid once:
heavy (the two cores are shared), do not loop it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

from certify.accounting.peers import peer_findings
from certify.accounting.pld import composed_epsilon
from certify.errors import Inconclusive
from certify.numerics.bound import Bound
from certify.numerics.precision import Target

QS = ("0.001", "0.01", "0.1")
SIGMAS = ("0.5", "1", "2")
STEPS = (1, 100, 10_000)
DELTA = "1e-5"
TARGET = Target(rel=1e-3)
EPS_ERROR = 0.01


#: each peer answer's role for :func:`certify.accounting.peers.peer_findings`
ROLES = {"dp-accounting": {"eps": "upper"},
         "prv-accountant": {"lower": "lower", "estimate": "estimate", "upper": "upper"},
         "opacus": {"eps": "upper"}}


def timed(fn: Callable[[], Any], repeat: int) -> tuple[Any, float, float]:
    """(result of the last call, best wall time, best CPU time over ``repeat`` calls)."""
    best, cpu, out = float("inf"), float("inf"), None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        out = fn()
        best = min(best, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return out, best, cpu


def _peers() -> dict[str, Callable[[float, float, int, float], dict[str, float]]]:
    """The available peers (lazy imports), each (sigma, q, T, delta) -> named answers."""
    peers: dict[str, Callable[[float, float, int, float], dict[str, float]]] = {}
    try:
        import dp_accounting
        from dp_accounting.pld import pld_privacy_accountant

        def dpa(sigma: float, q: float, steps: int, delta: float) -> dict[str, float]:
            event = dp_accounting.SelfComposedDpEvent(
                dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(sigma)),
                steps)
            acc = pld_privacy_accountant.PLDAccountant().compose(event)
            return {"eps": float(acc.get_epsilon(delta))}

        peers["dp-accounting"] = dpa
    except ImportError:
        print("note: dp-accounting not installed; skipped", file=sys.stderr)
    try:
        from prv_accountant import Accountant

        def prv(sigma: float, q: float, steps: int, delta: float) -> dict[str, float]:
            acc = Accountant(noise_multiplier=sigma, sampling_probability=q, delta=delta,
                             eps_error=EPS_ERROR, max_compositions=steps)
            lo, est, up = acc.compute_epsilon(num_compositions=steps)
            return {"lower": float(lo), "estimate": float(est), "upper": float(up)}

        peers["prv-accountant"] = prv
    except ImportError:
        print("note: prv-accountant not installed; skipped", file=sys.stderr)
    try:
        from opacus.accountants import PRVAccountant

        def opacus(sigma: float, q: float, steps: int, delta: float) -> dict[str, float]:
            acc = PRVAccountant()
            acc.history = [(sigma, q, steps)]
            return {"eps": float(acc.get_epsilon(delta))}

        peers["opacus"] = opacus
    except ImportError:
        print("note: opacus not installed; skipped", file=sys.stderr)
    return peers


def _ours(sigma: str, q: str, steps: int) -> tuple[Bound | None, str]:
    try:
        return composed_epsilon([(sigma, q, steps)], DELTA, target=TARGET), ""
    except Inconclusive as err:
        return err.best, f"inconclusive: {err.reason}"


def _flags(ours: Bound, answers: dict[str, float], peer: str) -> list[str]:
    return [f"{f.peer}.{f.name} {f.kind}"
            for f in peer_findings(ours, answers, ROLES[peer], peer)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", dest="json_out", default=None)
    parser.add_argument("--quick", action="store_true", help="T in {1, 100} only")
    parser.add_argument("--no-peers", action="store_true", help="time our accountant only")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    peers = {} if args.no_peers else _peers()
    rows: list[dict[str, Any]] = []
    print(f"{'q':>6} {'sigma':>5} {'T':>6} {'certified eps interval':>44} {'rel.w':>8} "
          f"{'ours s':>7} {'cpu s':>6}  peers (answer, seconds, ratio ours/theirs)")
    for q in QS:
        for sigma in SIGMAS:
            for steps in STEPS:
                if args.quick and steps > 100:
                    continue
                (bound, note), ours_t, ours_cpu = timed(partial(_ours, sigma, q, steps),
                                                        args.repeat)
                row: dict[str, Any] = {"q": q, "sigma": sigma, "steps": steps, "delta": DELTA,
                                       "certified": bound.to_json() if bound else None,
                                       "rel_width": bound.rel_width if bound else None,
                                       "ours_s": ours_t, "ours_cpu_s": ours_cpu, "note": note,
                                       "peers": {}, "flags": []}
                parts = []
                for name, fn in peers.items():
                    try:
                        answers, t, _ = timed(
                            partial(fn, float(sigma), float(q), steps, float(DELTA)), args.repeat)
                    except Exception as err:  # a peer failing on a cell is reported, not fatal
                        row["peers"][name] = {"error": f"{type(err).__name__}: {err}"}
                        parts.append(f"{name}: error ({type(err).__name__})")
                        continue
                    row["peers"][name] = {"answers": answers, "seconds": t,
                                          "ratio": ours_t / t if t > 0 else None}
                    shown = "/".join(f"{v:.6g}" for v in answers.values())
                    parts.append(f"{name}: {shown} ({t:.2f}s, x{ours_t / t:.2f})")
                    if bound is not None:
                        row["flags"] += _flags(bound, answers, name)
                if row["flags"] and bound is not None:
                    remove, _ = _remove_only(sigma, q, steps)
                    row["remove_only"] = remove.to_json() if remove else None
                rows.append(row)
                interval = (f"[{float(bound.lower):.10g}, {float(bound.upper):.10g}]"
                            if bound else "none")
                width = f"{bound.rel_width:.2e}" if bound else "-"
                print(f"{q:>6} {sigma:>5} {steps:>6} {interval:>44} {width:>8} {ours_t:>7.2f} "
                      f"{ours_cpu:>6.2f}  "
                      + "; ".join(parts) + (f"  !! {', '.join(row['flags'])}" if row["flags"]
                                            else "") + (f"  ({note})" if note else ""))
                if row.get("remove_only"):
                    print(f"{'':>22} remove direction only: {row['remove_only']}")
                sys.stdout.flush()
    _summary(rows, peers)
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=2, sort_keys=True)
    return 0


def _remove_only(sigma: str, q: str, steps: int) -> tuple[Bound | None, str]:
    try:
        return composed_epsilon([(sigma, q, steps)], DELTA, neighbours="remove",
                                target=TARGET), ""
    except Inconclusive as err:
        return err.best, err.reason


def _summary(rows: list[dict[str, Any]], peers: dict[str, Any]) -> None:
    print()
    ours = [r["ours_s"] for r in rows]
    cpu = [r["ours_cpu_s"] for r in rows]
    print(f"ours: CPU total {sum(cpu):.2f}s, median {statistics.median(cpu):.2f}s, max "
          f"{max(cpu):.2f}s")
    print(f"ours: median {statistics.median(ours):.2f}s, max {max(ours):.2f}s over "
          f"{len(rows)} cells; width target met in "
          f"{sum(1 for r in rows if r['rel_width'] is not None and r['rel_width'] <= 1e-3)}")
    for name in peers:
        ratios = [r["peers"][name]["ratio"] for r in rows
                  if name in r["peers"] and r["peers"][name].get("ratio")]
        if ratios:
            slower = sum(1 for r in ratios if r > 1)
            print(f"{name}: time ratio ours/theirs median {statistics.median(ratios):.2f}, "
                  f"max {max(ratios):.2f}, min {min(ratios):.2f}; ours slower on {slower}/"
                  f"{len(ratios)} cells")
    flagged = [(r["q"], r["sigma"], r["steps"], r["flags"]) for r in rows if r["flags"]]
    print(f"flags: {flagged if flagged else 'none'}")


if __name__ == "__main__":
    sys.exit(main())
