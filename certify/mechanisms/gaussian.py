"""The Gaussian mechanism and its exact privacy profile (claim ACC-1).

Release ``f(D) + N(0, sigma^2 I)``, ``k`` times (independent noise each time). ``sensitivity`` is
the L2 bound on one record's contribution (its clipping norm ``C``): under add/remove neighbours
the query moves by at most ``C``; under replace-one by at most ``2C``. The k-fold composition of
the worst-case pair is the pair ``N(mu, 1)`` vs ``N(0, 1)`` with

    mu = Delta * sqrt(k) / sigma,      Delta = C (add/remove) or 2C (replace-one)

(the sum of k independent privacy losses ``mu_1 x - mu_1^2/2`` is again of that form;
derivation checked in ``proofs/gaussian.py``). Its privacy profile is Balle and Wang 2018,
"Improving the Gaussian mechanism for differential privacy", Theorem 8:

    delta(eps) = Phi(mu/2 - eps/mu) - e^eps Phi(-mu/2 - eps/mu),

which is the same in both directions (the pair is symmetric), and
``d delta / d eps = -e^eps Phi(-mu/2 - eps/mu)`` (the derivative of a hockey-stick divergence is
``-e^eps Q[L > eps]``), used for the Newton guess of ``epsilon(delta)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from flint import arb, ctx

from certify._validate import (
    check_choice,
    check_nonnegative,
    check_positive,
    check_positive_int,
    check_probability,
)
from certify.errors import InvalidArgument
from certify.mechanisms._common import DELTA_TARGET, EPSILON_TARGET, ball, brief, exact_text
from certify.mechanisms.base import MechanismEntry, register_mechanism
from certify.numerics.bound import Bound
from certify.numerics.precision import Target, escalate
from certify.numerics.roots import certified_root
from certify.numerics.special import normal_cdf

NEIGHBOURS = ("add-remove", "replace-one")









def gaussian_delta_ball(mu: arb, eps: arb) -> arb:
    """Balle–Wang (2018) Thm 8 at the ambient precision:
    Phi(mu/2 - eps/mu) - e^eps Phi(-mu/2 - eps/mu).

    Near 1 the complement form 1 - [Phi(eps/mu - mu/2) + e^eps Phi(-mu/2 - eps/mu)] has no
    cancellation. (A hockey-stick divergence lies in [0, 1]; callers intersect with that range.)
    """
    a = mu / 2 - eps / mu
    b = -mu / 2 - eps / mu
    tail = eps.exp() * normal_cdf(b)
    if a > 0:
        return 1 - (normal_cdf(-a) + tail)
    return normal_cdf(a) - tail


@dataclass(frozen=True)
class GaussianMechanism:
    """Gaussian mechanism: noise sd ``sigma``, per-record L2 bound ``sensitivity``, ``compositions``
    independent releases, neighbours ``add-remove`` or ``replace-one``.

    Parameters are exact rationals (a float means its exact binary value; a str its decimal value).
    """

    sigma: Fraction
    sensitivity: Fraction = Fraction(1)
    compositions: int = 1
    neighbours: str = "add-remove"
    name: str = "gaussian"

    def __init__(
        self,
        sigma: object,
        sensitivity: object = 1,
        compositions: object = 1,
        neighbours: object = "add-remove",
    ) -> None:
        object.__setattr__(self, "sigma", check_positive("sigma", sigma))
        object.__setattr__(self, "sensitivity", check_positive("sensitivity", sensitivity))
        object.__setattr__(self, "compositions", check_positive_int("compositions", compositions))
        object.__setattr__(self, "neighbours", check_choice("neighbours", neighbours, NEIGHBOURS))
        object.__setattr__(self, "name", "gaussian")

    # -- parameters ---------------------------------------------------------------------
    @property
    def delta_query(self) -> Fraction:
        """Delta: the L2 distance between neighbouring query values (C or 2C)."""
        return self.sensitivity * (2 if self.neighbours == "replace-one" else 1)

    def mu_ball(self) -> arb:
        """mu = Delta sqrt(k) / sigma as a ball at the ambient precision."""
        return ball(self.delta_query / self.sigma) * arb(self.compositions).sqrt()

    def params(self) -> dict[str, str]:
        return {
            "sigma": exact_text(self.sigma),
            "sensitivity": exact_text(self.sensitivity),
            "compositions": str(self.compositions),
            "neighbours": self.neighbours,
        }

    # -- privacy profile ---------------------------------------------------------------
    def delta(self, epsilon: object, target: Target | None = None) -> Bound:
        """Certified delta(eps) (Balle–Wang Thm 8), escalating precision to ``target``."""
        eps = check_nonnegative("epsilon", epsilon)
        return escalate(
            lambda _prec: gaussian_delta_ball(self.mu_ball(), ball(eps)),
            target or DELTA_TARGET,
            what=f"gaussian delta(epsilon={brief(eps)})",
            within=(0, 1),
        )

    def epsilon(self, delta: object, target: Target | None = None) -> Bound:
        """Certified eps(delta) = min{eps >= 0 : delta(eps) <= delta}, for delta in (0, 1].

        delta(eps) is continuous and strictly decreasing, so this is the root of
        log delta(eps) - log delta; brackets are certified sign changes (certify.numerics.roots).
        """
        dlt = check_probability("delta", delta, open_low=True)
        goal = target or EPSILON_TARGET

        def f(eps: arb) -> arb:  # evaluated at the ambient precision of each attempt
            value = gaussian_delta_ball(self.mu_ball(), eps)
            if not value > 0:
                return arb.nan()
            return value.log() - ball(dlt).log()

        if _certainly_le(self, dlt):
            return Bound.exact(0)
        guess = self._newton_guess(dlt)
        hi = Fraction(guess) * 2 + 1
        for _ in range(64):
            with ctx.workprec(128):
                val = f(ball(hi))
            if val < 0:
                break
            hi *= 2
        else:  # pragma: no cover - delta(eps) -> 0 as eps -> inf, so this cannot happen
            raise InvalidArgument(f"delta={delta} could not be bracketed.")
        return certified_root(
            f, Fraction(0), hi, target=goal, guess=guess,
            what=f"gaussian epsilon(delta={brief(dlt)})",
        )

    def _newton_guess(self, dlt: Fraction) -> float:
        """A non-rigorous float guess of eps(delta): Newton on log delta(eps) (only chooses
        where the certified bracketing looks first). Floats where they suffice, Arb midpoints
        beyond float range."""
        mu_f = float(self.delta_query / self.sigma) * math.sqrt(self.compositions)
        if dlt > Fraction(1, 10**250) and 1e-4 < mu_f < 1e4:
            guess = _float_newton(mu_f, float(dlt))
            if guess is not None:
                return guess
        with ctx.workprec(128):
            mu = self.mu_ball()
            log_t = ball(dlt).log()
            # start from the dominant term: Phi(mu/2 - eps/mu) = delta
            z = _normal_quantile_guess(dlt)
            eps = max(0.0, float((mu * (mu / 2 - arb(z))).mid()))
            for _ in range(60):
                e = arb(eps)
                d = gaussian_delta_ball(mu, e)
                if not d.mid() > 0:
                    eps *= 0.5
                    continue
                h = d.mid().log() - log_t.mid()
                slope = -(e.exp() * normal_cdf(-mu / 2 - e / mu)).mid() / d.mid()
                if not slope < 0:
                    break
                step = float((h / slope).mid())
                new = eps - step
                if new < 0:
                    new = eps / 2
                if abs(new - eps) <= 1e-14 * max(1.0, abs(new)):
                    eps = new
                    break
                eps = new
        return eps

    # -- sampling -----------------------------------------------------------------------
    def sample(self, n: int, rng: np.random.Generator, neighbour: int = 0) -> np.ndarray:
        """``n`` draws of the k released values (shape (n, k)) for the worst-case pair in one
        dimension: query value 0 (``neighbour=0``) or Delta (``neighbour=1``)."""
        check_positive_int("n", n)
        if neighbour not in (0, 1):
            raise InvalidArgument(f"neighbour={neighbour!r} must be 0 or 1.")
        shift = float(self.delta_query) * neighbour
        return rng.normal(shift, float(self.sigma), size=(n, self.compositions))


def _float_newton(mu: float, delta: float) -> float | None:
    """Newton on log delta(eps) - log delta in floats (log-space Balle-Wang, as in
    dp-accounting's ``_get_log_delta``); None when it does not converge."""
    from scipy.special import log_ndtr

    log_t = math.log(delta)

    def log_delta(eps: float) -> tuple[float, float]:
        a, b = mu / 2 - eps / mu, -mu / 2 - eps / mu
        x, y = float(log_ndtr(a)), eps + float(log_ndtr(b))
        if y >= x:
            return -math.inf, 0.0
        ld = x + math.log1p(-math.exp(y - x))
        return ld, -math.exp(y - ld)  # (log delta, d log delta / d eps)

    eps = max(0.0, mu * (mu / 2 - _normal_quantile_guess(Fraction(delta))))
    for _ in range(50):
        ld, slope = log_delta(eps)
        if not math.isfinite(ld) or slope >= 0:
            eps /= 2
            continue
        new = max(eps - (ld - log_t) / slope, eps / 2)
        if abs(new - eps) <= 1e-13 * max(1.0, new):
            return new
        eps = new
    return None


def _certainly_le(mech: GaussianMechanism, dlt: Fraction) -> bool:
    """Is delta(0) <= dlt certainly? (then eps(dlt) = 0). Escalates until decided or 1024 bits;
    if still undecided, answer False and let the bracketing enclose a root near 0."""
    for prec in (64, 256, 1024):
        with ctx.workprec(prec):
            value = gaussian_delta_ball(mech.mu_ball(), arb(0))
            if value <= ball(dlt):
                return True
            if value > ball(dlt):
                return False
    return False


def _normal_quantile_guess(p: Fraction) -> float:
    """Float guess of Phi^{-1}(p), valid far below float range (asymptotic for tiny p)."""
    if p >= Fraction(1, 2):
        return 0.0
    with ctx.workprec(64):
        log_p = float(ball(p).log().mid())
    t = -2 * log_p
    return -math.sqrt(max(t - math.log(max(t, 1.0)) - math.log(2 * math.pi), 0.0))


def _build(params: Mapping[str, str]) -> GaussianMechanism:
    if "sigma" not in params:
        raise InvalidArgument("sigma is required for gaussian (e.g. sigma=1.0).")
    return GaussianMechanism(
        sigma=params["sigma"],
        sensitivity=params.get("sensitivity", "1"),
        compositions=params.get("compositions", "1"),
        neighbours=params.get("neighbours", "add-remove"),
    )


register_mechanism(
    MechanismEntry(
        name="gaussian",
        build=_build,
        parameters=("sigma", "sensitivity", "compositions", "neighbours"),
        summary="Gaussian mechanism, k-fold composition (Balle-Wang 2018 Thm 8)",
    )
)
