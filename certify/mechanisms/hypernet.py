"""One noisy release of a dataset embedding (claims HYP-1, HYP-2; seed 003, arXiv 2606.26772).

Each example is embedded in R^k, the embeddings are clipped to L2 norm ``clip`` C, aggregated,
and Gaussian noise N(0, sigma^2 I_k) is added once to the aggregate; a public hypernetwork maps the
noisy embedding to model parameters (post-processing). The release is a Gaussian mechanism whose
L2 sensitivity Delta depends on the aggregation and the neighbouring relation
(``proofs/hypernet.py``, ``proof_hyp_mean_sensitivity``):

==========================  ===================  =============================================
aggregation                 add/remove           replace-one (n records on both sides)
==========================  ===================  =============================================
sum                         C                    2C
mean, private count         2C/(n + 1)           2C/n
mean, fixed denominator n   C/n                  2C/n
==========================  ===================  =============================================

(``n``: the smallest dataset size admitted, for the private count; the public constant, for the
fixed denominator. The naive ``C/n`` for a mean whose denominator is the private count is wrong:
``(S + e)/(n + 1) - S/n = (n e - S)/(n (n + 1))`` reaches ``2C/(n + 1)``.) ``sigma`` is the noise
standard deviation on the released aggregate itself (on the mean, for a mean).

Exact calibration (Balle and Wang 2018, "Improving the Gaussian mechanism for differential
privacy", Theorem 8 and their Algorithm 1): the release is (eps, delta)-DP iff
``Phi(mu/2 - eps/mu) - e^eps Phi(-mu/2 - eps/mu) <= delta`` with ``mu = Delta / sigma``; the
left side increases with mu, so the smallest sigma is ``Delta / mu*`` where mu* is the root.
:func:`calibrate_sigma` encloses it with certified signs; the enclosure's upper end is a sigma that
guarantees (eps, delta). :func:`classical_sigma` is the textbook ``Delta sqrt(2 log(1.25/delta))
/ eps`` (Dwork and Roth 2014, Theorem A.1, stated for eps < 1).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from flint import arb, ctx

from certify._validate import (
    check_choice,
    check_nonnegative,
    check_positive,
    check_positive_int,
    check_probability,
    to_exact,
)
from certify.errors import InvalidArgument
from certify.mechanisms._common import EPSILON_TARGET, ball, brief, exact_text
from certify.mechanisms.base import MechanismEntry, register_mechanism
from certify.mechanisms.gaussian import GaussianMechanism, gaussian_delta_ball
from certify.numerics.bound import Bound
from certify.numerics.precision import Target, escalate
from certify.numerics.roots import certified_root

__all__ = [
    "AGGREGATIONS",
    "DENOMINATORS",
    "NEIGHBOURS",
    "EmbeddingRelease",
    "analytic_mu",
    "calibrate_sigma",
    "classical_sigma",
    "embedding_sensitivity",
]

AGGREGATIONS = ("sum", "mean")
NEIGHBOURS = ("add-remove", "replace-one")
#: for a mean: ``actual`` = divide by the (private) number of records, ``fixed`` = by a public n
DENOMINATORS = ("actual", "fixed")
#: default width of a calibrated sigma (relative)
SIGMA_TARGET = Target(rel=1e-10)


def embedding_sensitivity(clip: object, aggregation: object = "sum",
                          neighbours: object = "add-remove", n: object = None,
                          denominator: object = "actual") -> Fraction:
    """The exact L2 sensitivity Delta of the aggregate (module table; tight)."""
    c = check_positive("clip", clip)
    agg = check_choice("aggregation", aggregation, AGGREGATIONS)
    nb = check_choice("neighbours", neighbours, NEIGHBOURS)
    den = check_choice("denominator", denominator, DENOMINATORS)
    if agg == "sum":
        return 2 * c if nb == "replace-one" else c
    if n is None:
        raise InvalidArgument("n=None: a mean needs n (the smallest dataset size, or the fixed "
                              "public denominator).")
    count = check_positive_int("n", n)
    if nb == "replace-one":
        return 2 * c / count
    return c / count if den == "fixed" else 2 * c / (count + 1)


def analytic_mu(epsilon: object, delta: object, target: Target | None = None) -> Bound:
    """Enclosure of mu* with ``Phi(mu/2 - eps/mu) - e^eps Phi(-mu/2 - eps/mu) = delta``
    (Balle-Wang Thm 8), eps >= 0, delta in (0, 1). delta(mu) is continuous and strictly
    increasing from 0 (mu -> 0) to 1 (mu -> infinity), so the root is unique; it is bracketed
    and narrowed with certified signs of ``log delta(mu) - log delta``."""
    eps = check_nonnegative("epsilon", epsilon)
    dlt = check_probability("delta", delta, open_low=True, open_high=True)
    goal = target or SIGMA_TARGET

    def f(mu: arb) -> arb:
        value = gaussian_delta_ball(mu, ball(eps))
        if not value > 0:  # delta(mu) may be too small for a log ball: compare directly
            return arb(-1) if value < ball(dlt) else arb.nan()
        return value.log() - ball(dlt).log()

    guess = _float_mu_guess(float(eps), math.log(dlt.numerator) - math.log(dlt.denominator))
    lo, hi = Fraction(guess / 2) if guess > 0 else Fraction(1, 2**20), Fraction(2 * guess + 1)
    for _ in range(200):
        if _certain_sign(f, lo) < 0:
            break
        lo /= 2
    for _ in range(200):
        if _certain_sign(f, hi) > 0:
            break
        hi *= 2
    return certified_root(f, lo, hi, target=goal, guess=guess if lo < guess < hi else None,
                          what=f"analytic Gaussian mu(epsilon={brief(eps)}, delta={brief(dlt)})")


def _certain_sign(f: Callable[[arb], arb], x: Fraction) -> int:
    """The certified sign of f(x) at rising precision (0 when undecided)."""
    for prec in (64, 256, 1024):
        with ctx.workprec(prec):
            v = f(ball(x))
        if v > 0:
            return 1
        if v < 0:
            return -1
    return 0


def _float_mu_guess(eps: float, log_t: float) -> float:
    """Bisection in floats on the log-space Balle-Wang delta(mu) = exp(log_t) (only seeds the
    search)."""
    from scipy.special import log_ndtr

    def log_delta(mu: float) -> float:
        x = float(log_ndtr(mu / 2 - eps / mu))
        y = eps + float(log_ndtr(-mu / 2 - eps / mu))
        return -math.inf if y >= x else x + math.log1p(-math.exp(y - x))

    lo, hi = 1e-12, 1.0
    while log_delta(hi) < log_t and hi < 1e12:
        lo, hi = hi, hi * 2
    for _ in range(200):
        mid = math.sqrt(lo * hi) if lo > 0 else hi / 2
        if log_delta(mid) < log_t:
            lo = mid
        else:
            hi = mid
    return math.sqrt(lo * hi)


def calibrate_sigma(epsilon: object, delta: object, sensitivity: object,
                    target: Target | None = None) -> Bound:
    """Enclosure of the smallest sigma for which the Gaussian release with L2 sensitivity
    Delta is (eps, delta)-DP: ``sigma* = Delta / mu*`` (:func:`analytic_mu`). Any sigma at or
    above the returned ``upper`` guarantees (eps, delta); any sigma below ``lower`` violates it."""
    sens = check_positive("sensitivity", sensitivity)
    mu = analytic_mu(epsilon, delta, target)
    lo_mu, hi_mu = Fraction(mu.lower), Fraction(mu.upper)
    if lo_mu <= 0:  # pragma: no cover - mu* > 0 always and the bracket starts above 0
        raise InvalidArgument("the mu enclosure reached 0")
    return Bound.from_fractions(sens / hi_mu, sens / lo_mu, mu.prec)


def classical_sigma(epsilon: object, delta: object, sensitivity: object,
                    target: Target | None = None) -> Bound:
    """``Delta sqrt(2 log(1.25 / delta)) / eps`` (Dwork and Roth 2014, Thm A.1; proved there only
    for eps < 1), enclosed."""
    eps = check_positive("epsilon", epsilon)
    dlt = check_probability("delta", delta, open_low=True, open_high=True)
    sens = check_positive("sensitivity", sensitivity)
    return escalate(
        lambda _p: ball(sens) * (2 * (ball(Fraction(5, 4) / dlt)).log()).sqrt() / ball(eps),
        target or SIGMA_TARGET, what="classical Gaussian sigma")


@dataclass(frozen=True)
class EmbeddingRelease:
    """The one-shot release ``aggregate(clip_C(e_i)) + N(0, sigma^2 I_k)`` (module docstring).
    Its profile is the Gaussian mechanism's with the sensitivity of
    :func:`embedding_sensitivity` (independent of the embedding dimension k)."""

    sigma: Fraction
    clip: Fraction
    aggregation: str = "sum"
    neighbours: str = "add-remove"
    n: int | None = None
    denominator: str = "actual"
    name: str = "embedding-release"

    def __init__(self, sigma: object, clip: object = 1, aggregation: object = "sum",
                 neighbours: object = "add-remove", n: object = None,
                 denominator: object = "actual") -> None:
        object.__setattr__(self, "sigma", check_positive("sigma", sigma))
        object.__setattr__(self, "clip", check_positive("clip", clip))
        object.__setattr__(self, "aggregation",
                           check_choice("aggregation", aggregation, AGGREGATIONS))
        object.__setattr__(self, "neighbours", check_choice("neighbours", neighbours, NEIGHBOURS))
        object.__setattr__(self, "denominator",
                           check_choice("denominator", denominator, DENOMINATORS))
        object.__setattr__(self, "n", None if n is None else check_positive_int("n", n))
        object.__setattr__(self, "name", "embedding-release")
        embedding_sensitivity(clip, aggregation, neighbours, n, denominator)  # validates n

    @property
    def sensitivity(self) -> Fraction:
        return embedding_sensitivity(self.clip, self.aggregation, self.neighbours, self.n,
                                     self.denominator)

    def gaussian(self) -> GaussianMechanism:
        """The equivalent Gaussian mechanism (sensitivity Delta; one shift of Delta)."""
        return GaussianMechanism(self.sigma, self.sensitivity, 1, "add-remove")

    def params(self) -> dict[str, str]:
        out = {"sigma": exact_text(self.sigma), "clip": exact_text(self.clip),
               "aggregation": self.aggregation, "neighbours": self.neighbours,
               "sensitivity": exact_text(self.sensitivity)}
        if self.aggregation == "mean":
            out["n"] = str(self.n)
            out["denominator"] = self.denominator
        return out

    def delta(self, epsilon: object, target: Target | None = None) -> Bound:
        return self.gaussian().delta(epsilon, target)

    def epsilon(self, delta: object, target: Target | None = None) -> Bound:
        return self.gaussian().epsilon(delta, target or EPSILON_TARGET)


def _build(params: Mapping[str, str]) -> EmbeddingRelease:
    if "sigma" not in params:
        raise InvalidArgument("sigma is required for embedding-release (e.g. sigma=4 clip=1).")
    mech = EmbeddingRelease(
        sigma=params["sigma"], clip=params.get("clip", "1"),
        aggregation=params.get("aggregation", "sum"),
        neighbours=params.get("neighbours", "add-remove"), n=params.get("n"),
        denominator=params.get("denominator", "actual"),
    )
    # params() lists the derived sensitivity: accepted back when it is the derived one, so a
    # profile's JSON "params" rebuild the mechanism
    if "sensitivity" in params:
        given = to_exact("sensitivity", params["sensitivity"])
        if given != mech.sensitivity:
            raise InvalidArgument(
                f"sensitivity={params['sensitivity']!r} is derived from clip, aggregation, "
                f"neighbours and n (here {exact_text(mech.sensitivity)}); leave it out.")
    return mech


register_mechanism(
    MechanismEntry(
        name="embedding-release",
        build=_build,
        parameters=("sigma", "clip", "aggregation", "neighbours", "n", "denominator",
                    "sensitivity"),
        summary="one Gaussian release of a clipped-embedding sum or mean (sensitivity C, 2C, "
        "2C/(n+1), C/n or 2C/n; Balle-Wang 2018)",
    )
)
