"""The Johnson-Lindenstrauss step of seed 001 (Theorem 5.1, eqs. 7-11): claims LDP-6, LDP-7.

**The map.** T(x)_i = r^(-1/2) sum_j R_ij x_j with R_ij iid N(0, 1) (eq. 7); in LoRA,
T(x) = x A^T with A (r x m) iid N(0, 1/r). For a fixed x != 0 the r entries of T(x) are iid
N(0, ||x||^2 / r), so ``||T(x)||^2 = ||x||^2 chi2_r / r`` *exactly*, and the event of eq. 8

    (1 - D) ||x|| <= ||T(x)|| <= (1 + D) ||x||   <=>   (1 - D)^2 r <= chi2_r <= (1 + D)^2 r

has a probability that depends on (D, r) only. Its failure probability is

    F(D, r) = P(chi2_r < (1 - D)^2 r) + P(chi2_r > (1 + D)^2 r)        (``jl_failure_probability``).

**LDP-6 (Theorem 5.1 as used).** The paper sets r = D^-2 log(2/p) (printed ``log(p/2)``, a sign
slip: that is negative) and claims F <= p for D in (0, 1/2], p in (0, 1). A rank is an integer;
we read r as the smallest admissible integer, ``r = ceil(D^-2 log(2/p))`` (any larger r has a
smaller F, so this is the reading the claim needs). The ceiling is certified with Arb: the ball
for D^-2 log(2/p) is narrowed until its ends have the same ceiling (the value is irrational for
rational D, p: log of a rational != 1 is transcendental, Lindemann, so this terminates).
Matousek (2008), Theorem 3.1 -- the result the paper cites -- carries an unspecified absolute
constant C in ``k = C eps^-2 log(2/delta)``; the paper's statement takes C = 1, which fails for
small p: F decays like exp(-r (D^2 - D^3/3 + ...)) while p = 2 exp(-r D^2).

**The p-axis in steps.** ``ceil(D^-2 log(2/p)) = r`` exactly for p in the *step*
``[2 e^(-r D^2), 2 e^(-(r-1) D^2))``; on a step F is constant, so the claim holds on the whole
step iff F(r) <= 2 e^(-r D^2) and fails on the whole step iff F(r) >= 2 e^(-(r-1) D^2); otherwise
it fails exactly for p in [2 e^(-r D^2), F(r)). ``jl_step`` decides a step, ``jl_boundary``
bisects over steps (equivalently over log p) for the first failing step and the first step that
fails entirely, ``jl_scan`` certifies every step of a range.

**LDP-6.c (corrected statement).** Chernoff for chi-square (moment generating function
(1 - 2t)^(-r/2), optimised over t: t = b / (2 (1 + b)) above, t = a / (2 (1 - a)) below; the
same exponents as Dasgupta and Gupta 2003, "An elementary proof of a theorem of Johnson and
Lindenstrauss", Lemma 2.2; re-derived numerically in tests/test_lora_jl.py):

    P(chi2_r >= r (1 + b)) <= exp(-r/2 (b - log(1 + b))),          b > 0,
    P(chi2_r <= r (1 - a)) <= exp(-r/2 (-a - log(1 - a))),         0 < a < 1.

With 1 + b = (1 + D)^2 and 1 - a = (1 - D)^2 the exponents are
``u(D) = 2D + D^2 - 2 log(1 + D)`` (upper) and ``l(D) = -2D + D^2 - 2 log(1 - D)`` (lower), and
``l - u = 4 (artanh D - D) > 0`` on (0, 1): the lower tail bound is the smaller. So
``F(D, r) <= 2 exp(-r u(D) / 2) <= p`` as soon as

    r >= r_c := ceil(2 log(2/p) / (2D + D^2 - 2 log(1 + D)))           (``jl_rank_corrected``),

a theorem for every D in (0, 1), p in (0, 1); u(D) = 2 D^2 - 2 D^3/3 + O(D^4), so r_c is about
D^-2 log(2/p) (1 + D/3): the constant C = 2 D^2 / u(D) increases from 1 to 1.1388 on (0, 1/2]
(numerically monotone).

**LDP-7 (eqs. 10-11).** Clipping (the paper's "=": rescaling) the B-gradient row T(x) to norm
``(1 - D) sqrt(r) c`` corresponds, by linearity, to the W-gradient row x' = s x with
s = (1 - D) sqrt(r) c / ||T(x)||, and

    (1 - D)/(1 + D) sqrt(r) c <= ||x'|| <= sqrt(r) c   <=>   1 - D <= ||T(x)|| / ||x|| <= 1 + D,

i.e. exactly the JL event for x. The per-row failure probability is therefore exactly
F(D, r); a union bound over n rows and b examples gives ``P(all rows bounded) >= 1 - n b F``,
which implies the paper's ``1 - n b p`` only where F <= p. At n = b = 1 the probability is
exactly 1 - F, so F > p is a counterexample to eq. 10 itself (``clipping_implication``;
``simulate_clipping`` samples the implication with a real A).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
from flint import arb, ctx

from certify._validate import check_positive_int, check_probability, to_exact
from certify.errors import Inconclusive, InvalidArgument
from certify.numerics.bound import Bound
from certify.numerics.precision import DEFAULT_MAX_PREC, Target, escalate, precisions
from certify.numerics.roots import exact_ball
from certify.numerics.special import chi2_cdf, chi2_sf
from certify.stats.binomial import clopper_pearson

#: the grid searched by default (D in (0, 1/2], p in (0, 1)), as exact decimal strings
DEFAULT_DELTAS: tuple[str, ...] = ("0.5", "0.45", "0.4", "0.3", "0.2", "0.1", "0.05", "0.02")
DEFAULT_PS: tuple[str, ...] = (
    "0.9", "0.5", "0.1", "1e-2", "1e-4", "1e-6", "1e-10", "1e-15", "1e-20", "1e-30", "1e-50",
)
#: width asked of a failure probability (relative): decisions then escalate on their own
FAILURE_TARGET = Target(rel=1e-12)

HOLDS, FAILS, UNDECIDED = "holds", "fails", "undecided"
STEP_HOLDS, STEP_FAILS_PART, STEP_FAILS_ALL = "holds", "fails-partly", "fails-entirely"

__all__ = [
    "DEFAULT_DELTAS",
    "DEFAULT_PS",
    "FAILURE_TARGET",
    "clipping_implication",
    "jl_boundary",
    "jl_check",
    "jl_check_corrected",
    "jl_failure_probability",
    "jl_grid",
    "jl_rank",
    "jl_rank_corrected",
    "jl_scan",
    "jl_step",
    "simulate_clipping",
]


# -- validation -------------------------------------------------------------------------------


def _check_distortion(delta: object) -> Fraction:
    """D in (0, 1): the JL distortion (the theorem's domain is (0, 1/2]; the probability and
    the corrected rank make sense on all of (0, 1))."""
    d = to_exact("delta", delta)
    if not 0 < d < 1:
        raise InvalidArgument(f"delta={delta} must be in (0, 1).")
    return d


def _check_p(p: object) -> Fraction:
    return check_probability("p", p, open_low=True, open_high=True)


def _check_target(target: Target | None) -> Target:
    if target is None:
        return FAILURE_TARGET
    if not isinstance(target, Target):
        raise InvalidArgument(f"target={target!r} must be a Target.")
    return target


# -- certified integer parts and signs --------------------------------------------------------


def _certified_ceil(compute: Callable[[], arb], what: str) -> int:
    """ceil(x) for an x > 0 known only as balls at rising precision; exact once the ball's two
    ends have the same ceiling (never decided from a float)."""
    for prec in precisions(64, DEFAULT_MAX_PREC):
        with ctx.workprec(prec):
            x = compute()
            if not x.is_finite():
                continue
            lo_c = x.lower().ceil().unique_fmpz()
            hi_c = x.upper().ceil().unique_fmpz()
        if lo_c is not None and hi_c is not None and lo_c == hi_c:
            return int(lo_c)
    raise Inconclusive(f"{what}: the ceiling stayed undecided up to {DEFAULT_MAX_PREC} bits")


def _certified_sign(compute: Callable[[], arb]) -> int | None:
    """The sign of a quantity given as balls at rising precision; None if never decided."""
    for prec in precisions(64, DEFAULT_MAX_PREC):
        with ctx.workprec(prec):
            v = compute()
            if not v.is_finite():
                continue
            if v > 0:
                return 1
            if v < 0:
                return -1
    return None


# -- the exact failure probability ------------------------------------------------------------


def _failure_ball(d: Fraction, r: int) -> arb:
    """F(D, r) = P(chi2_r < (1-D)^2 r) + P(chi2_r > (1+D)^2 r) at the ambient precision."""
    return chi2_cdf(exact_ball((1 - d) ** 2 * r), r) + chi2_sf(exact_ball((1 + d) ** 2 * r), r)


def _step_edge(d: Fraction, r: int) -> arb:
    """2 exp(-r D^2): the smallest p whose paper rank is r (the step's closed end)."""
    return 2 * exact_ball(-(d * d) * r).exp()


def jl_failure_probability(delta: object, r: object, target: Target | None = None) -> Bound:
    """F(D, r) = 1 - P[(1-D)^2 r <= chi2_r <= (1+D)^2 r], the exact probability that eq. 8
    fails for any fixed x != 0 (the law of ||T(x)||^2 / ||x||^2 is chi2_r / r), certified to
    ``target`` (relative width 1e-12 by default) with the chi-square tails of
    :mod:`certify.numerics.special` (lower tail by its series, upper tail by Q(r/2, x/2))."""
    d = _check_distortion(delta)
    rr = check_positive_int("r", r)
    return escalate(lambda _p: _failure_ball(d, rr), _check_target(target),
                    what=f"JL failure probability (delta={delta}, r={rr})", within=(0, 1))


# -- LDP-6: the paper's rank and the claim at a point -----------------------------------------


def jl_rank(delta: object, p: object) -> int:
    """The paper's rank r = D^-2 log(2/p) read as the smallest integer >= it (certified)."""
    d, q = _check_distortion(delta), _check_p(p)
    return _certified_ceil(lambda: (2 / exact_ball(q)).log() / exact_ball(d * d),
                           f"ceil(delta^-2 log(2/p)) at delta={delta}, p={p}")


def _decide(compute_diff: Callable[[], arb]) -> str:
    """'holds' if (value - threshold) < 0 certainly, 'fails' if > 0 certainly, from balls of
    the difference at rising precision; 'undecided' if the budget runs out (equality)."""
    sign = _certified_sign(compute_diff)
    if sign is None:
        return UNDECIDED
    return FAILS if sign > 0 else HOLDS


def jl_check(delta: object, p: object, target: Target | None = None) -> dict[str, Any]:
    """LDP-6 at one point: r = ``jl_rank(delta, p)``, the certified F(D, r), the ratio F/p and
    the decision ``holds`` (F <= p certainly), ``fails`` (F > p certainly) or ``undecided``."""
    d, q = _check_distortion(delta), _check_p(p)
    goal = _check_target(target)
    r = jl_rank(d, q)
    failure = jl_failure_probability(d, r, goal)
    ratio = escalate(lambda _p: _failure_ball(d, r) / exact_ball(q), goal,
                     what=f"F/p (delta={delta}, p={p})")
    decision = _decide(lambda: _failure_ball(d, r) - exact_ball(q))
    return {"delta": d, "p": q, "r": r, "failure": failure, "ratio": ratio,
            "decision": decision}


def jl_grid(
    deltas: Iterable[object] = DEFAULT_DELTAS,
    ps: Iterable[object] = DEFAULT_PS,
    target: Target | None = None,
) -> list[dict[str, Any]]:
    """``jl_check`` on the product grid, one row per (delta, p), in the given order."""
    p_list = list(ps)
    return [jl_check(d, p, target) for d in deltas for p in p_list]


# -- LDP-6 on the p-axis: steps, scan, boundary -----------------------------------------------


def _step_min_rank(d: Fraction) -> int:
    """The smallest r whose step meets p < 1: r > log 2 / D^2 (irrational, so its ceiling c
    satisfies 2 e^(-c D^2) < 1 <= 2 e^(-(c-1) D^2))."""
    return _certified_ceil(lambda: arb(2).log() / exact_ball(d * d), f"log 2 / delta^2 at {d}")


def jl_step(delta: object, r: object, target: Target | None = None) -> dict[str, Any]:
    """Decide the claim on the whole step of p whose paper rank is r.

    The step is ``[p_low, p_high)`` with p_low = 2 e^(-r D^2) and p_high = min(1, 2 e^(-(r-1) D^2)).
    ``decision``: ``holds`` (F(r) <= p_low: the claim holds for every p of the step),
    ``fails-entirely`` (F(r) >= p_high), ``fails-partly`` (it fails exactly for p in
    [p_low, F(r))), or ``undecided``.
    """
    d = _check_distortion(delta)
    rr = check_positive_int("r", r)
    first = _step_min_rank(d)
    if rr < first:
        raise InvalidArgument(f"r={rr} must be at least {first}: smaller ranks need p >= 1 "
                              f"at delta={delta}.")
    goal = _check_target(target)
    failure = jl_failure_probability(d, rr, goal)
    p_low = escalate(lambda _p: _step_edge(d, rr), goal, what="2 exp(-r delta^2)")
    upper_is_one = rr - 1 < first  # 2 e^(-(r-1) D^2) >= 1: the step runs up to p = 1
    p_high = Bound.exact(1) if upper_is_one else escalate(
        lambda _p: _step_edge(d, rr - 1), goal, what="2 exp(-(r-1) delta^2)")
    low_sign = _certified_sign(lambda: _failure_ball(d, rr) - _step_edge(d, rr))
    if low_sign is None:
        decision = UNDECIDED
    elif low_sign < 0:
        decision = STEP_HOLDS
    else:
        high_sign = _certified_sign(
            lambda: _failure_ball(d, rr) - (arb(1) if upper_is_one else _step_edge(d, rr - 1)))
        if high_sign is None:
            decision = UNDECIDED
        else:
            decision = STEP_FAILS_ALL if high_sign > 0 else STEP_FAILS_PART
    return {"delta": d, "r": rr, "p_low": p_low, "p_high": p_high, "failure": failure,
            "decision": decision}


def jl_scan(delta: object, r_from: object, r_to: object) -> dict[str, Any]:
    """Certify every step r_from <= r <= r_to (cheap decisions only: no Bounds kept).

    Returns the ranks in each class; together with the monotone tail (``jl_boundary``) a
    scan from the smallest rank certifies "the claim holds for every p >= p*"."""
    d = _check_distortion(delta)
    lo, hi = check_positive_int("r_from", r_from), check_positive_int("r_to", r_to)
    first = _step_min_rank(d)
    if lo < first:
        raise InvalidArgument(f"r_from={lo} must be at least {first} at delta={delta}.")
    if hi < lo:
        raise InvalidArgument(f"r_to={hi} must be at least r_from={lo}.")
    classes: dict[str, list[int]] = {STEP_HOLDS: [], STEP_FAILS_PART: [], STEP_FAILS_ALL: [],
                                      UNDECIDED: []}
    for r in range(lo, hi + 1):
        classes[_step_class(d, r, first)].append(r)
    return {"delta": d, "r_from": lo, "r_to": hi, "min_rank": first, **classes}


def _step_class(d: Fraction, r: int, first: int) -> str:
    s = _certified_sign(lambda: _failure_ball(d, r) - _step_edge(d, r))
    if s is None:
        return UNDECIDED
    if s < 0:
        return STEP_HOLDS
    if r - 1 < first:
        s2 = _certified_sign(lambda: _failure_ball(d, r) - 1)
    else:
        s2 = _certified_sign(lambda: _failure_ball(d, r) - _step_edge(d, r - 1))
    if s2 is None:
        return UNDECIDED
    return STEP_FAILS_ALL if s2 > 0 else STEP_FAILS_PART


def _bisect_ranks(pred: Callable[[int], bool | None], lo: int, hi: int) -> tuple[int, int]:
    """Certified bisection: pred(lo) is False and pred(hi) True; returns adjacent (r, r + 1)
    with pred(r) False and pred(r + 1) True (a certified crossing)."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        v = pred(mid)
        if v is None:
            raise Inconclusive(f"a step decision stayed undecided at r={mid}")
        if v:
            hi = mid
        else:
            lo = mid
    return lo, hi


def jl_boundary(delta: object, r_start: object | None = None,
                target: Target | None = None) -> dict[str, Any]:
    """Locate, by certified bisection over the steps of log p, where LDP-6 starts to fail.

    Two crossings are found, each as an adjacent pair of steps with certified decisions:
    ``first_failing``: step r1 - 1 holds entirely, step r1 fails for p in [2 e^(-r1 D^2), p*)
    with p* = min(F(r1), step end) -- so p* is the largest failing p *if* no earlier step fails
    (certify that with ``jl_scan`` from the smallest rank); ``entire``: step r2 - 1 does not fail
    entirely, step r2 does (every p of it fails). The search starts at ``r_start`` (default:
    the rank at p = 1e-2, whose step must hold) and doubles r until a failing step is found.
    Monotonicity of F(r) e^(r D^2) past its minimum is what makes these *the* crossings; it is
    what the numbers show (the ratio grows like exp(r D^3/3) / sqrt(r)), not a proven fact here:
    the certified content is the decisions at the reported steps.
    """
    d = _check_distortion(delta)
    goal = _check_target(target)
    first = _step_min_rank(d)
    r0 = jl_rank(d, "1e-2") if r_start is None else check_positive_int("r_start", r_start)
    if r0 < first:
        raise InvalidArgument(f"r_start={r0} must be at least {first} at delta={delta}.")

    def fails_somewhere(r: int) -> bool | None:
        s = _certified_sign(lambda: _failure_ball(d, r) - _step_edge(d, r))
        return None if s is None else s > 0

    def fails_entirely(r: int) -> bool | None:
        if r - 1 < first:
            s = _certified_sign(lambda: _failure_ball(d, r) - 1)
        else:
            s = _certified_sign(lambda: _failure_ball(d, r) - _step_edge(d, r - 1))
        return None if s is None else s > 0

    if fails_somewhere(r0) is not False:
        raise InvalidArgument(f"r_start={r0} must be a rank whose step certainly holds "
                              f"at delta={delta}.")
    lo1, hi1 = _expand(fails_somewhere, r0)
    r_hold, r1 = _bisect_ranks(fails_somewhere, lo1, hi1)
    lo2, hi2 = _expand(fails_entirely, r_hold)
    r_part, r2 = _bisect_ranks(fails_entirely, lo2, hi2)
    step_r1 = jl_step(d, r1, goal)
    p_star = step_r1["failure"] if step_r1["decision"] == STEP_FAILS_PART else step_r1["p_high"]
    return {
        "delta": d,
        "first_failing": {"last_holding_step": jl_step(d, r_hold, goal), "step": step_r1,
                          "p_star": p_star},
        "entire": {"last_not_entire_step": jl_step(d, r_part, goal),
                   "step": jl_step(d, r2, goal)},
    }


def _expand(pred: Callable[[int], bool | None], lo: int) -> tuple[int, int]:
    """Double the rank from lo (pred False) until pred is True: returns (last False, True)."""
    hi = lo
    for _ in range(64):
        hi = 2 * hi
        v = pred(hi)
        if v is None:
            raise Inconclusive(f"a step decision stayed undecided at r={hi}")
        if v:
            return lo, hi
        lo = hi
    raise Inconclusive("no failing step found below r = 2^64 r_start")  # pragma: no cover


# -- LDP-6.c: the corrected rank ---------------------------------------------------------------


def _upper_exponent(d: arb) -> arb:
    """u(D) = 2D + D^2 - 2 log(1 + D) > 0, the Chernoff exponent of the upper tail at
    1 + b = (1 + D)^2 (cancels about log2(1/D) bits for small D: escalation covers it)."""
    return 2 * d + d * d - 2 * d.log1p()


def jl_rank_corrected(delta: object, p: object) -> int:
    """r_c = ceil(2 log(2/p) / (2D + D^2 - 2 log(1 + D))): F(D, r) <= p for every r >= r_c
    (Chernoff, module docstring), certified ceiling."""
    d, q = _check_distortion(delta), _check_p(p)
    return _certified_ceil(
        lambda: 2 * (2 / exact_ball(q)).log() / _upper_exponent(exact_ball(d)),
        f"corrected JL rank at delta={delta}, p={p}")


def jl_check_corrected(delta: object, p: object, target: Target | None = None) -> dict[str, Any]:
    """LDP-6.c at one point: r_c, the certified F(D, r_c), the Chernoff bound
    2 exp(-r_c u(D) / 2) (certified), and the decisions F <= Chernoff and Chernoff <= p
    (both must hold: the first is the numeric check of the tail bounds, the second of r_c)."""
    d, q = _check_distortion(delta), _check_p(p)
    goal = _check_target(target)
    r = jl_rank_corrected(d, q)
    failure = jl_failure_probability(d, r, goal)

    def chernoff() -> arb:
        return 2 * (-arb(r) * _upper_exponent(exact_ball(d)) / 2).exp()

    bound = escalate(lambda _p: chernoff(), goal, what="Chernoff bound")
    f_vs_c = _decide(lambda: _failure_ball(d, r) - chernoff())
    c_vs_p = _decide(lambda: chernoff() - exact_ball(q))
    f_vs_p = _decide(lambda: _failure_ball(d, r) - exact_ball(q))
    return {"delta": d, "p": q, "r": r, "paper_r": jl_rank(d, q), "failure": failure,
            "chernoff": bound, "failure_le_chernoff": f_vs_c, "chernoff_le_p": c_vs_p,
            "decision": f_vs_p}


# -- LDP-7: the clipping implication -----------------------------------------------------------


def clipping_implication(delta: object, p: object, n: object, b: object,
                         target: Target | None = None) -> dict[str, Any]:
    """Eqs. 10-11 at (D, p) for an n-row adapter and batch size b.

    Returns r (the paper's rank), the exact per-row failure probability F(D, r) (the clipping
    implication fails for a row exactly when the JL event fails for it), the paper's
    probability ``1 - n b p``, the certified union bound ``1 - n b F`` (a valid lower bound on
    P(every row of every example bounded)), and ``eq10``: ``holds``/``fails``/``undecided`` for
    F <= p. At n = b = 1 the probability is exactly 1 - F, so ``fails`` refutes eq. 10.
    """
    d, q = _check_distortion(delta), _check_p(p)
    nn, bb = check_positive_int("n", n), check_positive_int("b", b)
    goal = _check_target(target)
    r = jl_rank(d, q)
    failure = jl_failure_probability(d, r, goal)
    k = nn * bb
    union = Bound.from_fractions(1 - k * Fraction(failure.upper), 1 - k * Fraction(failure.lower),
                                 failure.prec)
    return {
        "delta": d, "p": q, "n": nn, "b": bb, "r": r, "row_failure": failure,
        "claimed_probability": 1 - k * q, "certified_lower_bound": union,
        "eq10": _decide(lambda: _failure_ball(d, r) - exact_ball(q)),
        "exact": k == 1,
    }


def simulate_clipping(
    delta: object,
    r: object,
    x: Sequence[float] | np.ndarray,
    trials: object,
    seed: int,
    c: float = 1.0,
    confidence: object = "0.999",
    chunk: int = 4096,
) -> dict[str, Any]:
    """Sample the clipping implication of eq. 10 with real matrices A (r x m, iid N(0, 1/r)).

    For each trial: T = A x (the B-gradient row x A^T); clip (rescale) it to norm
    (1 - D) sqrt(r) c; the W-gradient row it corresponds to is x' = x (1 - D) sqrt(r) c / ||T||;
    record whether (1 - D)/(1 + D) sqrt(r) c <= ||x'|| <= sqrt(r) c fails, and whether the JL
    event fails for x. Returns the counts, how often the two disagree (0 in exact arithmetic),
    the two-sided Clopper-Pearson interval on the implication's failure probability and the
    certified F(D, r) it should contain (with probability >= ``confidence``).
    """
    d = _check_distortion(delta)
    rr = check_positive_int("r", r)
    n_trials = check_positive_int("trials", trials)
    xv = np.asarray(x, dtype=np.float64)
    if xv.ndim != 1 or xv.size == 0 or not np.all(np.isfinite(xv)) or not np.any(xv):
        raise InvalidArgument(f"x={x!r} must be a non-zero finite vector.")
    if not (isinstance(c, (int, float)) and math.isfinite(c) and c > 0):
        raise InvalidArgument(f"c={c!r} must be a positive finite number.")
    check_probability("confidence", confidence, open_low=True, open_high=True)
    df = float(d)
    rng = np.random.default_rng(seed)
    norm_x = float(np.linalg.norm(xv))
    lo_w, hi_w = (1 - df) / (1 + df) * math.sqrt(rr) * c, math.sqrt(rr) * c
    fails_impl = fails_jl = disagree = 0
    done = 0
    while done < n_trials:
        k = min(chunk, n_trials - done)
        a = rng.standard_normal((k, rr, xv.size)) / math.sqrt(rr)
        t = a @ xv                                   # (k, r): the B-gradient rows
        norm_t = np.linalg.norm(t, axis=1)
        scale = (1 - df) * math.sqrt(rr) * c / norm_t  # clipping factor (paper's "=")
        norm_w = scale * norm_x                        # ||x'|| with x' = scale * x
        bad_impl = (norm_w < lo_w) | (norm_w > hi_w)
        bad_jl = (norm_t < (1 - df) * norm_x) | (norm_t > (1 + df) * norm_x)
        fails_impl += int(bad_impl.sum())
        fails_jl += int(bad_jl.sum())
        disagree += int((bad_impl != bad_jl).sum())
        done += k
    interval = clopper_pearson(fails_impl, n_trials, confidence)
    return {"delta": d, "r": rr, "trials": n_trials, "implication_failures": fails_impl,
            "jl_failures": fails_jl, "disagreements": disagree, "interval": interval,
            "exact": jl_failure_probability(d, rr)}
