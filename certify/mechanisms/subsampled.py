"""The Poisson-subsampled Gaussian mechanism (DP-SGD's step, and ``steps`` of them; claim ACC-2).

Each record enters the batch independently with probability ``q``; the release is the sum of the
batch's clipped contributions (each of L2 norm at most ``sensitivity`` = C) plus N(0, sigma^2 I),
``steps`` times with fresh batches and noise. For one step the profile is the closed form below;
for ``steps`` > 1 it is the certified PLD composition of :mod:`certify.accounting.pld` (a
two-sided enclosure, by default to 1e-3 relative width: the T-fold convolution has no closed
form). In units of C, with ``s = sigma / C``, the one-dimensional pairs certified here are

* ``add-remove`` (the record is present in one dataset and absent in the other):
  remove direction ``P = (1-q) N(0, s^2) + q N(1, s^2)`` against ``Q = N(0, s^2)``, add direction
  the reverse pair (Q, P). This is the dominating pair of Poisson subsampling under add/remove
  (Zhu, Dong, Wang 2022, "Optimal accounting of differential privacy via characteristic
  function", on Poisson subsampling; Balle, Barthe, Gaboardi 2018 "Privacy amplification
  by subsampling: tight analyses via couplings and divergences", for the remove direction). The
  profile is the maximum of both directions;
* ``replace-one`` (one record's contribution v is replaced by v'): the pair of the antipodal
  records v' = -v, |v| = C, i.e. ``P = (1-q) N(0, s^2) + q N(1, s^2)`` against
  ``P' = (1-q) N(0, s^2) + q N(-1, s^2)``. The pair is symmetric (x -> -x swaps P and P'), so
  both directions agree. Why this pair: under substitution the batch sum moves from S + v to
  S + v' when the record is sampled, so each step is the mixture pair (1-q) N(0) + q N(v) vs
  (1-q) N(0) + q N(v'); the antipodal choice v' = -v, |v| = C is the largest displacement
  |v - v'| = 2C, and for q = 1 it is exactly the Gaussian mechanism with sensitivity 2C (Balle
  and Wang 2018), the worst case there. It is the pair used for substitution under Poisson
  subsampling in the literature (Lebeda, Regehr, Kamath, Steinke 2024, "Avoiding pitfalls for
  privacy accounting of subsampled mechanisms under composition"; dp-accounting 0.6's PLD
  accountant does not offer this relation). What is certified is the profile of this pair and of
  its T-fold composition (:mod:`certify.accounting.pld`); that it dominates every pair of
  records of norm <= C in every dimension is taken from that literature, not certified here.
* ``remove`` or ``add``: one direction of add/remove only (the record is removed, or added).

Closed forms (our derivation, in the style of Koskela, Jälkö, Honkela 2020 "Computing tight
differential privacy guarantees using FFT" and of Zhu–Dong–Wang 2022). The privacy
loss of each pair is monotone in x, so ``delta(eps) = P(L > eps) - e^eps Q(L > eps)`` is a
difference of normal tails evaluated at the unique solution x* of ``L(x) = eps``:

* remove: ``L(x) = log(1 - q + q e^{(2x-1)/(2s^2)})``, increasing; for eps >= 0 (so
  e^eps > 1 - q) ``x* = s^2 log((e^eps - 1 + q)/q) + 1/2`` and
  ``delta_R = q Phi((1 - x*)/s) - (e^eps - 1 + q) Phi(-x*/s)``;
* add: ``L(x) = -log(1 - q + q e^{(2x-1)/(2s^2)})``, decreasing and bounded by -log(1-q); if
  e^{-eps} <= 1 - q then delta_A = 0, else with ``c = e^{-eps} - (1 - q)``,
  ``x' = s^2 log(c/q) + 1/2`` and ``delta_A = e^eps (c Phi(x'/s) - q Phi((x'-1)/s))``;
* replace: with ``u = e^{x/s^2}`` and ``k = e^{-1/(2s^2)}``, ``L = eps`` is the quadratic
  ``q k u^2 - (1-q)(e^eps - 1) u - e^eps q k = 0``, whose positive root gives ``x* = s^2 log u``;
  ``delta = q (Phi((1 - x*)/s) - e^eps Phi(-(x* + 1)/s)) - (e^eps - 1)(1 - q) Phi(-x*/s)``.

For q = 1 each reduces to Balle and Wang 2018 Thm 8 with mu = 1/s (add-remove) or 2/s (replace),
i.e. to :mod:`certify.mechanisms.gaussian`; for q = 0 the pair is equal and delta = 0 for eps >= 0.

Layering note: ``steps`` > 1 is answered by :mod:`certify.accounting.pld`, which sits above this
layer (DESIGN.md); it is imported lazily inside the two methods that need it, so that
``certify profile subsampled-gaussian ... steps=T`` keeps the mechanism contract (one value,
``delta``/``epsilon`` -> Bound) while the mechanism module itself stays free of the accounting
layer at import time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import cast

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
from certify.mechanisms.base import Mechanism, MechanismEntry, register_mechanism
from certify.numerics.bound import Bound
from certify.numerics.precision import Target, escalate
from certify.numerics.roots import certified_root
from certify.numerics.special import normal_cdf

NEIGHBOURS = ("add-remove", "replace-one", "remove", "add")
#: the directions whose maximum is the add-remove profile, and the replace-one pair
DIRECTIONS = ("remove", "add", "replace")


# -- the closed forms, as Arb balls at the ambient precision ----------------------------------
def remove_delta_ball(s: arb, q: arb, eps: arb) -> arb:
    """delta_R(eps) for P = (1-q)N(0,s^2) + qN(1,s^2) vs Q = N(0,s^2), eps >= 0, 0 < q <= 1.

    x* = s^2 log((e^eps - 1 + q)/q) + 1/2 solves L(x) = eps (module docstring); then
    delta_R = P(x > x*) - e^eps Q(x > x*) = q Phi((1-x*)/s) - (e^eps - 1 + q) Phi(-x*/s).
    """
    a = eps.expm1() + q  # e^eps - (1 - q) > 0 for eps >= 0, q > 0
    x_star = s * s * (a.log() - q.log()) + arb(0.5)
    value = q * normal_cdf((1 - x_star) / s) - a * normal_cdf(-x_star / s)
    return value


def add_delta_ball(s: arb, q: arb, eps: arb) -> arb:
    """delta_A(eps) for Q = N(0,s^2) vs P = (1-q)N(0,s^2) + qN(1,s^2), eps >= 0, 0 < q <= 1.

    The loss -log(1 - q + q e^{(2x-1)/(2s^2)}) is decreasing and < -log(1-q); with
    c = e^{-eps} - (1-q): if c <= 0, delta_A = 0; else L > eps iff x < x' = s^2 log(c/q) + 1/2,
    and delta_A = Q(x < x') - e^eps P(x < x') = e^eps (c Phi(x'/s) - q Phi((x'-1)/s)).
    An undecided sign of c returns NaN (the caller escalates precision).
    """
    c = (-eps).exp() - (1 - q)
    if c <= 0:
        return arb(0)
    if not c > 0:
        return arb.nan()
    x_prime = s * s * (c.log() - q.log()) + arb(0.5)
    value = eps.exp() * (c * normal_cdf(x_prime / s) - q * normal_cdf((x_prime - 1) / s))
    return value


def replace_delta_ball(s: arb, q: arb, eps: arb) -> arb:
    """delta(eps) for P = (1-q)N(0,s^2) + qN(1,s^2) vs P' = (1-q)N(0,s^2) + qN(-1,s^2), eps >= 0.

    With u = e^{x/s^2}, k = e^{-1/(2s^2)}, L(x) = eps is q k u^2 - (1-q)(e^eps-1) u - e^eps q k = 0
    (module docstring); its positive root u* = (b + sqrt(b^2 + 4 q^2 k^2 e^eps)) / (2 q k),
    b = (1-q)(e^eps - 1) >= 0 (no cancellation), gives x* = s^2 log u* and
    delta = q (Phi((1-x*)/s) - e^eps Phi(-(x*+1)/s)) - (e^eps - 1)(1-q) Phi(-x*/s).
    """
    em1 = eps.expm1()
    e = em1 + 1
    k = (-1 / (2 * s * s)).exp()
    b = (1 - q) * em1
    root = (b * b + 4 * q * q * k * k * e).sqrt()
    log_u = (b + root).log() - (2 * q * k).log()
    x_star = s * s * log_u
    value = q * (normal_cdf((1 - x_star) / s) - e * normal_cdf(-(x_star + 1) / s)) - em1 * (
        1 - q
    ) * normal_cdf(-x_star / s)
    return value


_DIRECTION_BALLS = {
    "remove": remove_delta_ball,
    "add": add_delta_ball,
    "replace": replace_delta_ball,
}


def _loss_tail_ball(direction: str, s: arb, q: arb, eps: arb) -> arb:
    """Q(L > eps) for the direction's pair (the derivative is d delta/d eps = -e^eps Q(L > eps));
    used only for the non-rigorous Newton guess of eps(delta)."""
    if direction == "remove":
        x_star = s * s * ((eps.expm1() + q).log() - q.log()) + arb(0.5)
        return normal_cdf(-x_star / s)
    if direction == "add":
        c = (-eps).exp() - (1 - q)
        if not c > 0:
            return arb(0)
        x_prime = s * s * (c.log() - q.log()) + arb(0.5)
        return (1 - q) * normal_cdf(x_prime / s) + q * normal_cdf((x_prime - 1) / s)
    em1 = eps.expm1()
    k = (-1 / (2 * s * s)).exp()
    b = (1 - q) * em1
    root = (b * b + 4 * q * q * k * k * (em1 + 1)).sqrt()
    x_star = s * s * ((b + root).log() - (2 * q * k).log())
    return (1 - q) * normal_cdf(-x_star / s) + q * normal_cdf(-(x_star + 1) / s)


@dataclass(frozen=True)
class SubsampledGaussian:
    """The Poisson-subsampled Gaussian mechanism, ``steps`` times (DP-SGD).

    ``sigma``: noise standard deviation; ``q``: sampling probability; ``sensitivity``: the
    per-record L2 bound C (clipping norm); ``neighbours``: ``add-remove``, ``replace-one``, or one
    direction ``remove`` / ``add`` (module docstring for the exact pairs); ``steps``: how many
    steps are composed (1: the closed forms; more: the certified PLD composition). Parameters are
    exact rationals (a float means its exact binary value, a str its decimal value).
    """

    sigma: Fraction
    q: Fraction
    sensitivity: Fraction = Fraction(1)
    neighbours: str = "add-remove"
    steps: int = 1
    name: str = "subsampled-gaussian"

    def __init__(
        self,
        sigma: object,
        q: object,
        sensitivity: object = 1,
        neighbours: object = "add-remove",
        steps: object = 1,
    ) -> None:
        object.__setattr__(self, "sigma", check_positive("sigma", sigma))
        object.__setattr__(self, "q", check_probability("q", q))
        object.__setattr__(self, "sensitivity", check_positive("sensitivity", sensitivity))
        object.__setattr__(self, "neighbours", check_choice("neighbours", neighbours, NEIGHBOURS))
        object.__setattr__(self, "steps", check_positive_int("steps", steps))
        object.__setattr__(self, "name", "subsampled-gaussian")

    # -- parameters ---------------------------------------------------------------------
    @property
    def noise_ratio(self) -> Fraction:
        """s = sigma / sensitivity: the noise in units of one record's contribution."""
        return self.sigma / self.sensitivity

    @property
    def directions(self) -> tuple[str, ...]:
        """The pairs whose profiles are maximised: (remove, add), (replace,), (remove,) or
        (add,)."""
        if self.neighbours == "add-remove":
            return ("remove", "add")
        return ("replace",) if self.neighbours == "replace-one" else (self.neighbours,)

    def one_step(self) -> SubsampledGaussian:
        """The same mechanism with ``steps`` = 1."""
        if self.steps == 1:
            return self
        return SubsampledGaussian(self.sigma, self.q, self.sensitivity, self.neighbours)

    def params(self) -> dict[str, str]:
        out = {
            "sigma": exact_text(self.sigma),
            "q": exact_text(self.q),
            "sensitivity": exact_text(self.sensitivity),
            "neighbours": self.neighbours,
        }
        if self.steps != 1:
            out["steps"] = str(self.steps)
        return out

    # -- privacy profile ---------------------------------------------------------------
    def delta_ball(self, eps: arb, directions: tuple[str, ...] | None = None) -> arb:
        """A ball containing delta(eps) (the max over ``directions``) at the ambient precision."""
        if self.q == 0:
            return arb(0)  # P = Q: delta(eps) = max(0, 1 - e^eps) = 0 for eps >= 0
        s, q = ball(self.noise_ratio), ball(self.q)
        value: arb | None = None
        for d in directions or self.directions:
            v = _DIRECTION_BALLS[d](s, q, eps)
            value = v if value is None else value.max(v)
        assert value is not None
        return value

    def delta(self, epsilon: object, target: Target | None = None) -> Bound:
        """Certified delta(eps) for eps >= 0: for one step the closed forms of the module
        docstring, escalating precision until ``target`` (default relative width 1e-10) is met;
        for ``steps`` > 1 :func:`certify.accounting.pld.composed_delta` (default target
        ``PLD_DELTA_TARGET``, relative width 1e-3)."""
        eps = check_nonnegative("epsilon", epsilon)
        if self.steps > 1:
            from certify.accounting.pld import composed_delta

            return composed_delta(self._phase(), eps, neighbours=self.neighbours,
                                  target=target)
        return escalate(
            lambda _prec: self.delta_ball(ball(eps)),
            target or DELTA_TARGET,
            what=f"subsampled-gaussian delta(epsilon={brief(eps)})",
            within=(0, 1),
        )

    def direction_delta(
        self, epsilon: object, direction: object, target: Target | None = None
    ) -> Bound:
        """Certified hockey-stick divergence of one direction: ``remove`` (P || Q), ``add``
        (Q || P) or ``replace`` (the replace-one pair), whatever ``neighbours`` is."""
        eps = check_nonnegative("epsilon", epsilon)
        d = check_choice("direction", direction, DIRECTIONS)
        return escalate(
            lambda _prec: self.delta_ball(ball(eps), (d,)),
            target or DELTA_TARGET,
            what=f"subsampled-gaussian {d} delta(epsilon={brief(eps)})",
            within=(0, 1),
        )

    def epsilon(self, delta: object, target: Target | None = None) -> Bound:
        """Certified eps(delta) = min{eps >= 0 : delta(eps) <= delta}, for delta in (0, 1].

        For ``steps`` > 1: :func:`certify.accounting.pld.composed_epsilon` (default target
        ``PLD_EPSILON_TARGET``, relative width 1e-3). For one step and q > 0, delta(eps) is
        continuous and decreasing; where it is positive (the remove and replace profiles are,
        for every eps) eps(delta) is the root of log delta(eps) - log delta, bracketed by
        certified sign changes (certify.numerics.roots).
        """
        dlt = check_probability("delta", delta, open_low=True)
        if self.steps > 1:
            from certify.accounting.pld import composed_epsilon

            return composed_epsilon(self._phase(), dlt, neighbours=self.neighbours,
                                    target=target)
        goal = target or EPSILON_TARGET
        if self.q == 0 or self._delta_at_zero_le(dlt):
            return Bound.exact(0)

        def f(eps: arb) -> arb:
            value = self.delta_ball(eps)
            if value == 0:  # exactly 0 (the add direction beyond its bounded loss): below delta
                return arb(-1)
            if not value > 0:
                return arb.nan()
            return value.log() - ball(dlt).log()

        guess = self._newton_guess(dlt)
        hi = Fraction(guess).limit_denominator(2**40) * 2 + 1
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
            what=f"subsampled-gaussian epsilon(delta={brief(dlt)})",
        )

    def _phase(self) -> tuple[Fraction, Fraction, int, Fraction]:
        return (self.sigma, self.q, self.steps, self.sensitivity)

    def _delta_at_zero_le(self, dlt: Fraction) -> bool:
        """Is delta(0) <= dlt certainly? (then eps(dlt) = 0). If undecided up to 1024 bits, answer
        False and let the bracketing enclose a root near 0."""
        for prec in (64, 256, 1024):
            with ctx.workprec(prec):
                value = self.delta_ball(arb(0))
                if value <= ball(dlt):
                    return True
                if value > ball(dlt):
                    return False
        return False

    def _newton_guess(self, dlt: Fraction) -> float:
        """A non-rigorous float guess of eps(delta): safeguarded Newton on log delta(eps) with
        d delta/d eps = -e^eps Q(L > eps) of the dominant direction (it only chooses where the
        certified bracketing looks first). Logs are taken on Arb midpoints, so deltas far below
        float range (1e-10000) are handled."""
        with ctx.workprec(96):
            s, q = ball(self.noise_ratio), ball(self.q)
            log_t = ball(dlt).log().mid()
            lo, hi = 0.0, math.inf
            eps = 1.0
            for _ in range(100):
                e = arb(eps)
                best, best_dir = arb(-1), self.directions[0]
                for d in self.directions:
                    v = _DIRECTION_BALLS[d](s, q, e).mid()
                    if v > best:
                        best, best_dir = v, d
                if not best > 0:
                    hi = eps
                    eps = (lo + eps) / 2
                    continue
                h = float(best.log() - log_t)
                if h > 0:
                    lo = eps
                else:
                    hi = eps
                slope = float((e.exp() * _loss_tail_ball(best_dir, s, q, e)).mid() / best)
                new = eps + h / slope if slope > 0 and math.isfinite(slope) else math.nan
                if not (lo < new < hi):
                    new = (lo + hi) / 2 if math.isfinite(hi) else max(2 * eps, 1.0)
                if abs(new - eps) <= 1e-15 * max(1.0, abs(new)):
                    return new
                eps = new
        return eps

    # -- sampling -----------------------------------------------------------------------
    def sample(
        self, n: int, rng: np.random.Generator, neighbour: int = 0, backend: str = "numpy"
    ) -> np.ndarray:
        """``n`` draws of the release in one dimension, in the mechanism's own units
        (sensitivity C, noise sd sigma): shape (n,) for one step, (n, steps) for several
        (independent batches and noise per step).

        add-remove (and its single directions): ``neighbour=0`` is the dataset without the
        record (N(0, sigma^2)), ``neighbour=1`` the one with it (C * Bernoulli(q) + N(0, sigma^2)).
        replace-one: ``neighbour=0`` has the record at -C, ``neighbour=1`` at +C.
        """
        check_positive_int("n", n)
        if neighbour not in (0, 1):
            raise InvalidArgument(f"neighbour={neighbour!r} must be 0 or 1.")
        check_choice("backend", backend, ("numpy",))
        c, sd = float(self.sensitivity), float(self.sigma)
        shape = (n,) if self.steps == 1 else (n, self.steps)
        noise = rng.normal(0.0, sd, size=shape)
        included = rng.random(shape) < float(self.q)
        # add-remove: the record is present in neighbour 1 only; replace-one: at -C or +C
        shift = c * neighbour if self.neighbours != "replace-one" else (2 * neighbour - 1) * c
        return noise + np.where(included, shift, 0.0)


def _build(params: Mapping[str, str]) -> Mechanism:
    for required in ("sigma", "q"):
        if required not in params:
            raise InvalidArgument(
                f"{required} is required for subsampled-gaussian (e.g. sigma=1.0 q=0.01)."
            )
    mech = SubsampledGaussian(
        sigma=params["sigma"],
        q=params["q"],
        sensitivity=params.get("sensitivity", "1"),
        neighbours=params.get("neighbours", "add-remove"),
        steps=params.get("steps", "1"),
    )
    # cast: a frozen dataclass's read-only ``name`` does not match the Protocol's settable
    # ``name: str`` for mypy, although it satisfies the protocol at run time
    return cast(Mechanism, mech)


register_mechanism(
    MechanismEntry(
        name="subsampled-gaussian",
        build=_build,
        parameters=("sigma", "q", "sensitivity", "neighbours", "steps"),
        summary="Poisson-subsampled Gaussian, steps-fold (default 1), both add/remove directions "
        "or replace-one (one step: closed-form hockey-stick, Zhu-Dong-Wang 2022; several: "
        "certified PLD composition)",
    )
)
