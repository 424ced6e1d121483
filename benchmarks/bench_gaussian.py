"""Certified eps(delta) for the Gaussian mechanism vs dp-accounting's ``get_epsilon_gaussian``.

Same inputs, one run, best-of-N wall time per cell; prints each cell's certified interval, the
peer's float answer (and whether it lies inside the certified interval, i.e. agrees with the
truth to its own tolerance) and the time ratio ours / theirs. The target (issue #2): a certified
answer no slower than their uncertified one (ratio <= 1).

    python benchmarks/bench_gaussian.py [--repeat 20] [--json results.json]

Needs the ``accountants`` extra (dp-accounting).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable

from certify import GaussianMechanism, Target

SIGMAS = ("0.5", "1", "2", "5", "20")
DELTAS = ("1e-3", "1e-5", "1e-8", "1e-12")


def best_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", dest="json_out", default=None)
    args = parser.parse_args(argv)
    try:
        from dp_accounting import get_epsilon_gaussian
    except ImportError:
        print("dp-accounting is not installed: pip install -e '.[accountants]'", file=sys.stderr)
        return 2

    # our default for eps is relative width 1e-10; dp-accounting's default is absolute 1e-12
    target = Target(rel=1e-12, absolute=1e-12)
    rows = []
    header = f"{'sigma':>6} {'delta':>7} {'certified eps interval':>44} {'dp-accounting':>20} " \
             f"{'inside':>6} {'ours ms':>8} {'theirs ms':>9} {'ratio':>6}"
    print(header)
    for sigma in SIGMAS:
        for delta in DELTAS:
            mech = GaussianMechanism(sigma)
            bound = mech.epsilon(delta, target)
            theirs = get_epsilon_gaussian(float(sigma), float(delta))
            ours_t = best_time(lambda m=mech, d=delta: m.epsilon(d, target), args.repeat)
            theirs_t = best_time(
                lambda s=float(sigma), d=float(delta): get_epsilon_gaussian(s, d), args.repeat
            )
            # their float is within tol=1e-12 of the truth: check against our interval widened by it
            inside = bound.lower - _dec(1e-12) <= _dec(theirs) <= bound.upper + _dec(1e-12)
            ratio = ours_t / theirs_t
            rows.append({"sigma": sigma, "delta": delta, "certified": bound.to_json(),
                         "dp_accounting": theirs, "agrees": inside,
                         "ours_s": ours_t, "theirs_s": theirs_t, "ratio": ratio})
            interval = f"[{float(bound.lower):.15g}, {float(bound.upper):.15g}]"
            print(f"{sigma:>6} {delta:>7} {interval:>44} {theirs:>20.15g} {str(inside):>6} "
                  f"{ours_t * 1e3:>8.3f} {theirs_t * 1e3:>9.3f} {ratio:>6.2f}")
    ratios = [r["ratio"] for r in rows]
    print(f"\ntime ratio ours/theirs: median {statistics.median(ratios):.2f}, "  # type: ignore[type-var]
          f"max {max(ratios):.2f} over {len(rows)} cells")  # type: ignore[type-var]
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=2, sort_keys=True)
    return 0


def _dec(x: float):  # type: ignore[no-untyped-def]
    from decimal import Decimal

    return Decimal(x)


if __name__ == "__main__":
    sys.exit(main())
