"""Certified delta(eps) of the Wishart vector mechanism V -> MV vs plain Monte Carlo.

For each (d, r, rho, eps): the wall time of the certified delta(eps) (certify.wishart.profile,
relative width 1e-6 by default), and the time plain Monte Carlo of MV would need to reach the
same width: the sample size for a 95% normal-approximation interval as wide as the certified one,
``n = (2 * 1.96 * sd / width)^2`` (sd from a pilot run), divided by the measured sampling rate.
Two Monte Carlo samplers are timed: the O(d)-per-sample law sampler of MV with the
density-based privacy loss (certify.mechanisms.wishart.sample_vector_output), and the O(1)
reduced sampler of (s, z_1, c) that a specialist would write. The issue's points are
(d=1024, r=64) and (d=4096, r=512).

    python benchmarks/bench_wishart.py [--rel 1e-6] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np

from certify import Target
from certify.mechanisms.wishart import WishartVectorMechanism
from certify.wishart.law import privacy_loss
from certify.wishart.profile import wishart_delta

POINTS: tuple[tuple[int, int, str, str], ...] = (
    (1024, 64, "0.99", "1"),
    (1024, 64, "0.99", "4"),
    (4096, 512, "0.999", "1"),
    (4096, 512, "0.999", "4"),
)
Z95 = 1.959964


def _hockey(loss: np.ndarray, eps: float) -> np.ndarray:
    finite = np.minimum(loss, 1e300)
    return np.where(np.isinf(loss), 1.0, np.maximum(0.0, -np.expm1(eps - finite)))


def mc_law(d: int, r: int, rho: str, eps: float, n: int, seed: int) -> tuple[float, float, float]:
    """(mean, sd, samples per second) with the O(d) law sampler of MV."""
    mech = WishartVectorMechanism(d, r, rho)
    v, w = mech.pair()
    start = time.perf_counter()
    y = mech.sample(n, seed=seed)
    vals = _hockey(privacy_loss(y, v, w, r), eps)
    rate = n / (time.perf_counter() - start)
    return float(vals.mean()), float(vals.std(ddof=1)), rate


def mc_reduced(d: int, r: int, rho: float, eps: float, n: int,
               seed: int) -> tuple[float, float, float]:
    """(mean, sd, samples per second) with the O(1) representation a = s,
    a' = rho s + sqrt(1-rho^2) sqrt(s/r) z_1, |y|^2 = s^2 + (s/r)(z_1^2 + c)."""
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    s = rng.chisquare(r, n) / r
    z1 = rng.standard_normal(n)
    c = rng.chisquare(d - 2, n) if d > 2 else np.zeros(n)
    a2 = rho * s + math.sqrt(1 - rho * rho) * np.sqrt(s / r) * z1
    norm2 = s * s + (s / r) * (z1 * z1 + c)
    with np.errstate(all="ignore"):
        loss = np.where(a2 > 0, (r - d - 1) / 2 * np.log(s / a2)
                        - r * norm2 / 2 * (1 / s - 1 / a2), np.inf)
    vals = _hockey(loss, eps)
    rate = n / (time.perf_counter() - start)
    return float(vals.mean()), float(vals.std(ddof=1)), rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rel", type=float, default=1e-6, help="certified relative width")
    parser.add_argument("--json", dest="json_out", default=None)
    parser.add_argument("--pilot", type=int, default=4000, help="law-sampler pilot size")
    args = parser.parse_args(argv)
    rows = []
    print(f"{'d':>5} {'r':>4} {'rho':>6} {'eps':>4} {'certified delta':>40} {'s/point':>8} "
          f"{'MC law: n, hours':>22} {'MC reduced: n, s':>22} {'MC mean (pilot)':>16}")
    for d, r, rho, eps in POINTS:
        start = time.perf_counter()
        bound = wishart_delta(d, r, rho, eps, Target(rel=args.rel))
        seconds = time.perf_counter() - start
        width = float(bound.width)
        m_law, sd_law, rate_law = mc_law(d, r, rho, float(eps), args.pilot, 1)
        m_red, sd_red, rate_red = mc_reduced(d, r, float(rho), float(eps), 2_000_000, 2)
        n_law = (2 * Z95 * sd_law / width) ** 2
        n_red = (2 * Z95 * sd_red / width) ** 2
        t_law, t_red = n_law / rate_law, n_red / rate_red
        inside = abs(m_red - bound.mid) <= 5 * sd_red / math.sqrt(2_000_000)
        rows.append({"d": d, "r": r, "rho": rho, "epsilon": eps, "certified": bound.to_json(),
                     "certified_seconds": seconds, "width": width,
                     "mc_law_samples_needed": n_law, "mc_law_seconds_needed": t_law,
                     "mc_law_rate_per_s": rate_law, "mc_reduced_samples_needed": n_red,
                     "mc_reduced_seconds_needed": t_red, "mc_reduced_rate_per_s": rate_red,
                     "mc_reduced_mean_2e6": m_red, "mc_agrees_5sigma": inside})
        interval = f"[{float(bound.lower):.10g}, {float(bound.upper):.10g}]"
        print(f"{d:>5} {r:>4} {rho:>6} {eps:>4} {interval:>40} {seconds:>8.2f} "
              f"{n_law:>10.2e}, {t_law / 3600:>9.1f} {n_red:>10.2e}, {t_red:>9.0f} "
              f"{m_red:>12.6f} {'ok' if inside else 'FAR'}")
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=2, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
