"""ACC: reference privacy curves for accountant code.

ACC-1 (Gaussian mechanism, sensitivity s, noise sd sigma, k-fold composition: exact delta(eps)
and eps(delta)). The evidence:

- symbolic: ``proofs.gaussian`` re-derives Balle–Wang Thm 8 from the hockey-stick integral;
- certified: the reference curve itself (delta(eps) on a grid of mu = s sqrt(k)/sigma and eps;
  eps(delta) on a grid of delta), each a Bound that downstream libraries can pin;
- cross-check: (a) the hockey-stick divergence integral ``int (p - e^eps q)_+`` computed by
  certified integration, which must overlap the closed form (two valid enclosures of one number
  overlap; disjoint ones would refute the formula); (b) mpmath at 60 digits inside every Bound.
"""

from __future__ import annotations

import time
from fractions import Fraction
from typing import cast

import mpmath
from flint import acb, arb, fmpq

from certify.claims._figures import pyplot
from certify.claims.model import Claim, ClaimInfo, Evidence, Outcome, Value, Verdict
from certify.claims.registry import register
from certify.mechanisms.gaussian import GaussianMechanism
from certify.numerics.bound import Bound
from certify.numerics.integrate import integrate, positive_part
from certify.numerics.precision import Target
from certify.numerics.special import normal_cdf, normal_sf

#: (sigma, sensitivity, compositions): mu = sensitivity * sqrt(k) / sigma spans 0.01 .. 20
GRID_MECHANISMS: tuple[tuple[str, str, int], ...] = (
    ("100", "1", 1),
    ("4", "1", 1),
    ("1", "1", 1),
    ("0.5", "1", 1),
    ("2", "1", 16),
    ("1.5", "0.75", 100),
    ("0.05", "1", 1),
)
GRID_EPSILONS: tuple[str, ...] = ("0", "0.1", "0.5", "1", "2", "4", "8", "16", "64")
GRID_DELTAS: tuple[str, ...] = ("0.1", "1e-3", "1e-5", "1e-10", "1e-50", "1e-300")
CROSS_CHECK_EPSILONS: tuple[str, ...] = ("0", "0.5", "2", "8")

INFO = ClaimInfo(
    id="ACC-1",
    title="Gaussian mechanism: exact delta(eps) and eps(delta), k-fold composition",
    source="CLAIMS.md ACC; Balle & Wang 2018, 'Improving the Gaussian mechanism', Thm 8",
    statement=(
        "For the Gaussian mechanism with L2 sensitivity s, noise sd sigma and k-fold composition, "
        "delta(eps) = Phi(mu/2 - eps/mu) - e^eps Phi(-mu/2 - eps/mu) with mu = s sqrt(k)/sigma, "
        "and eps(delta) is its inverse."
    ),
    domain="sigma > 0, s > 0, k >= 1, eps >= 0, delta in (0, 1]",
)


def _mech_label(sigma: str, sens: str, k: int) -> str:
    return f"sigma={sigma},sensitivity={sens},compositions={k}"


def _hockey_stick_integral(mu: Fraction, eps: Fraction) -> Bound:
    """int (phi(x - mu) - e^eps phi(x))_+ dx over R, by certified integration (independent of the
    closed form: the kink is handled by the analytic-aware positive part, no breakpoint given).
    Tails: the integrand is at most phi(x - mu), so |int_T^inf| <= Phi(mu - T) and
    |int_-inf^T| <= Phi(T - mu)."""
    mu_q = fmpq(mu.numerator, mu.denominator)
    eps_q = fmpq(eps.numerator, eps.denominator)

    def integrand(x: acb, analytic: bool) -> acb:
        m = acb(arb(mu_q))
        density_p = (-(x - m) ** 2 / 2).exp() / acb(2 * arb.pi()).sqrt()
        density_q = (-(x**2) / 2).exp() / acb(2 * arb.pi()).sqrt()
        return positive_part(density_p - acb(arb(eps_q)).exp() * density_q, analytic)

    return integrate(
        integrand,
        "-inf",
        "inf",
        lower_tail=lambda t: normal_cdf(t - arb(mu_q)),
        upper_tail=lambda t: normal_sf(t - arb(mu_q)),
        target=Target(rel=1e-8, absolute=1e-12),
        what=f"hockey-stick integral (mu={float(mu):g}, eps={float(eps):g})",
    )


def _mpmath_delta(sigma: str, sens: str, k: int, eps: str) -> mpmath.mpf:
    with mpmath.workdps(60):
        mu = mpmath.mpf(sens) * mpmath.sqrt(k) / mpmath.mpf(sigma)
        e = mpmath.mpf(eps)
        return +(mpmath.ncdf(mu / 2 - e / mu) - mpmath.exp(e) * mpmath.ncdf(-mu / 2 - e / mu))


def check_acc1() -> Outcome:
    evidence: list[Evidence] = []
    problems: list[str] = []

    # symbolic ------------------------------------------------------------------------
    start = time.perf_counter()
    from proofs.gaussian import (
        proof_gaussian_composition,
        proof_gaussian_hockey_stick,
        proof_gaussian_privacy_loss,
        proof_gaussian_scaling,
    )

    records = [proof() for proof in (proof_gaussian_privacy_loss, proof_gaussian_hockey_stick,
                                      proof_gaussian_composition, proof_gaussian_scaling)]
    evidence.append(Evidence(
        "symbolic",
        "sympy re-derivation (proofs/gaussian.py): privacy loss, hockey-stick integral = "
        "Balle-Wang Thm 8, k-fold composition -> mu sqrt(k), dependence on s/sigma only",
        {"proofs": [cast(Value, r.to_json()) for r in records]},
        0,
        time.perf_counter() - start,
    ))
    problems.extend(f"symbolic step failed in {r.name}" for r in records if not r.ok)

    # certified reference curve --------------------------------------------------------
    start = time.perf_counter()
    curve: dict[str, dict[str, Bound]] = {}
    inverse: dict[str, dict[str, Bound]] = {}
    max_prec = 0
    for sigma, sens, k in GRID_MECHANISMS:
        mech = GaussianMechanism(sigma, sens, k)
        label = _mech_label(sigma, sens, k)
        row = {eps: mech.delta(eps) for eps in GRID_EPSILONS}
        inv = {dlt: mech.epsilon(dlt) for dlt in GRID_DELTAS}
        max_prec = max([max_prec] + [b.prec for b in (*row.values(), *inv.values())])
        curve[label] = row
        inverse[label] = inv
    evidence.append(Evidence(
        "certified",
        "Balle-Wang Thm 8 in Arb ball arithmetic with precision escalation to relative width "
        "1e-10; eps(delta) by sign-certified root bracketing",
        {"delta_of_epsilon": cast(Value, curve), "epsilon_of_delta": cast(Value, inverse)},
        max_prec,
        time.perf_counter() - start,
    ))

    # cross-check (a): certified integration of the hockey-stick integrand ----------------
    start = time.perf_counter()
    integrals: dict[str, dict[str, Value]] = {}
    disjoint: list[dict[str, Value]] = []
    for sigma, sens, k in GRID_MECHANISMS[1:5]:
        mech = GaussianMechanism(sigma, sens, k)
        mu = mech.delta_query / mech.sigma
        if k != 1:
            continue  # the integral of the 1-D pair needs a rational mu
        label = _mech_label(sigma, sens, k)
        integrals[label] = {}
        for eps in CROSS_CHECK_EPSILONS:
            integral = _hockey_stick_integral(mu, Fraction(eps))
            closed = curve[label][eps]
            integrals[label][eps] = {"integral": integral, "closed_form": closed}
            if not integral.overlaps(closed):
                disjoint.append({"mechanism": label, "epsilon": eps,
                                 "integral": integral, "closed_form": closed})
    evidence.append(Evidence(
        "cross-check",
        "hockey-stick divergence integral of the dominating pair N(mu,1) vs N(0,1) by certified "
        "integration (acb.integral with analytic-aware positive part and Gaussian tail bounds); "
        "must overlap the closed form",
        {"points": cast(Value, integrals)},
        0,
        time.perf_counter() - start,
    ))

    # cross-check (b): mpmath at 60 digits ------------------------------------------------
    start = time.perf_counter()
    outside: list[str] = []
    for sigma, sens, k in GRID_MECHANISMS:
        label = _mech_label(sigma, sens, k)
        for eps in GRID_EPSILONS:
            b = curve[label][eps]
            if not b.contains(_mpmath_delta(sigma, sens, k, eps)):
                outside.append(f"{label}, eps={eps}")
    evidence.append(Evidence(
        "cross-check",
        "mpmath (60 digits) evaluation of the closed form lies inside every certified Bound",
        {"points_checked": len(GRID_MECHANISMS) * len(GRID_EPSILONS), "outside": outside},
        0,
        time.perf_counter() - start,
    ))

    if disjoint:
        return Outcome(tuple(evidence), Verdict(
            "refuted",
            "certified integration disagrees with the closed form",
            counterexample=disjoint[0],
        ))
    if problems or outside:
        return Outcome(tuple(evidence), Verdict(
            "inconclusive", "the cross-checks did not all agree",
            reason="; ".join(problems + [f"mpmath value outside {o}" for o in outside]),
        ))
    return Outcome(tuple(evidence), Verdict(
        "confirmed",
        "closed form derived symbolically, certified on the grid, and matched by certified "
        "integration and mpmath",
    ))


def figure_acc1(outcome: Outcome, path: str) -> None:
    """delta(eps) reference curves (certified bounds; the width is far below the line width)."""
    plt = pyplot()

    curve = outcome.evidence[1].values["delta_of_epsilon"]
    assert isinstance(curve, dict)
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for label, row in curve.items():
        eps = [float(e) for e in row]
        upper = [max(float(b.upper), 1e-300) for b in row.values()]
        lower = [max(float(b.lower), 1e-300) for b in row.values()]
        mech = dict(part.split("=") for part in label.split(","))
        mu = float(mech["sensitivity"]) * float(mech["compositions"]) ** 0.5 / float(mech["sigma"])
        (line,) = ax.plot(eps, upper, marker="o", ms=3, label=f"mu={mu:g} ({label})")
        ax.fill_between(eps, lower, upper, color=line.get_color(), alpha=0.3)
    ax.set_xscale("symlog", linthresh=0.1)
    ax.set_yscale("log")
    ax.set_ylim(1e-30, 2)
    ax.set_xlabel("epsilon")
    ax.set_ylabel("delta(epsilon) (certified)")
    ax.set_title("ACC-1: Gaussian mechanism, certified delta(eps) (bands = enclosures)")
    ax.legend(fontsize=6, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, format="svg")
    plt.close(fig)


ACC1 = register(Claim(INFO, check_acc1, figure_acc1))
