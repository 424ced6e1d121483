"""The privacy of one LoRA update with A frozen at its random initialisation (claim LDP-8).

**The mechanism.** With B initialised at zero and A (r x m, iid N(0, 1/r)) frozen, one step of
LoRA changes the adapter by ``-eta G A^T A`` (seed 001, eq. 2 with T = 1 / eq. 27), where G is
the (n x m) batch gradient, here the sum of the per-example clipped gradients. The only
randomness is A, so the released quantity is ``M(D) = G(D) A^T A``.

**LDP-8 is false: the exact answer is delta = 1.** Take neighbouring datasets (add/remove one
example) whose aggregated gradients are G, with two equal rows l1 and l2, and G' = G + E, with E
zero except in row l2 (``y := E_l2 != 0``). In a linear layer the per-example W-gradient is
``g x^T`` (output gradient times input), so rows l1, l2 are equal whenever g_l1 = g_l2, and the
added example with output gradient along e_l2 is such an E. Let S be the event "rows l1 and l2
of the output are equal". Under D, ``O_l1 - O_l2 = (G_l1 - G_l2) A^T A = 0``: P_D(S) = 1.
Under D', ``O_l1 - O_l2 = -y A^T A``, and ``y A^T A = 0`` implies ``||A y^T||^2 = y A^T A y^T
= 0``, i.e. ``A y^T = 0``; the r entries of A y^T are iid N(0, ||y||^2 / r) (a fixed non-zero
combination of independent Gaussians), so P(A y^T = 0) = 0 and P_D'(S) = 0. The hockey-stick
divergence is then ``sup_S P_D(S) - e^eps P_D'(S) = 1`` for every eps: the mechanism is not
(eps, delta)-DP for any eps and any delta < 1 (the matrix case of the Wishart mechanism, WPM-5,
seed 000, Theorem 2). Clipping the rows of the B-gradient (section 5) does not change this:
the event compares directions, not norms.

**What the paper implies instead.** Section 5.1 reads LoRA with that clipping as DP-SGD with
noise multiplier ``z >= (1 - D)/(1 + D) sqrt(b / (n r))`` (c cancels). One step of the Gaussian
mechanism with noise multiplier z (sensitivity c, noise sd c z, add/remove; mu = 1/z) has
delta(eps) = Phi(mu/2 - eps/mu) - e^eps Phi(-mu/2 - eps/mu) < 1 for every eps >= 0 (Balle and
Wang 2018, Thm 8; ``certify.mechanisms.gaussian``), contradicting the exact delta = 1. (Poisson
subsampling of the batch would only lower the implied delta, so the contradiction stands a
fortiori.) For typical sizes the implied z is tiny anyway: n = 768, r = 8, b = 64 gives
z = (1 - D)/(1 + D) / sqrt(96), about 0.034 at D = 1/2 and 0.084 at D = 0.1.

``lora_step_event_test`` samples the mechanism on such a pair and turns the event counts into
Clopper-Pearson bounds and a statistical lower bound on delta(eps). In floating point the event
is ``||O_l1 - O_l2|| <= tau (||O_l1|| + ||O_l2||)`` with tau = 1e-9 (rounding is ~1e-16
relative; under D' the ratio is ~ ||y|| / ||G_l1||, of order one).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from fractions import Fraction
from typing import Any

import numpy as np
from flint import arb

from certify._validate import (
    check_choice,
    check_nonnegative,
    check_positive,
    check_positive_int,
    check_probability,
    to_exact,
)
from certify.errors import InvalidArgument
from certify.mechanisms.gaussian import gaussian_delta_ball
from certify.numerics.bound import Bound
from certify.numerics.precision import Target, escalate
from certify.numerics.roots import exact_ball
from certify.numerics.special import normal_cdf
from certify.stats.binomial import clopper_pearson_lower, clopper_pearson_upper

BACKENDS = ("numpy", "torch")
#: relative tolerance of the floating-point "rows are equal" test
EVENT_TOLERANCE = 1e-9
DEFAULT_EPSILONS: tuple[str, ...] = ("0", "1", "2", "5", "10")
DELTA_TARGET = Target(rel=1e-10, absolute=1e-30)

__all__ = [
    "BACKENDS",
    "DEFAULT_EPSILONS",
    "EVENT_TOLERANCE",
    "claimed_dpsgd_delta",
    "claimed_noise_multiplier",
    "lora_step_event_test",
    "neighbouring_gradients",
]


# -- the neighbouring pair ---------------------------------------------------------------------


def neighbouring_gradients(
    n: int, m: int, batch: int = 4, l1: int = 0, l2: int = 1, clip: float = 1.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Aggregated clipped gradients (G, G') of a linear layer for D and D' = D + one example.

    Each example's W-gradient is g x^T (g: output gradient, x: input), clipped to Frobenius
    norm ``clip``. The ``batch`` examples of D have g_l1 = g_l2, so G's rows l1, l2 are equal;
    the added example has g = e_l2, so E = G' - G is non-zero in row l2 only.
    """
    nn, mm = check_positive_int("n", n), check_positive_int("m", m)
    bb = check_positive_int("batch", batch)
    if nn < 2:
        raise InvalidArgument(f"n={n} must be at least 2 (two rows are compared).")
    for name, v in (("l1", l1), ("l2", l2)):
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < nn:
            raise InvalidArgument(f"{name}={v!r} must be a row index in [0, {nn}).")
    if l1 == l2:
        raise InvalidArgument(f"l1={l1} and l2={l2} must differ.")
    if not (isinstance(clip, (int, float)) and math.isfinite(clip) and clip > 0):
        raise InvalidArgument(f"clip={clip!r} must be a positive finite number.")
    rng = np.random.default_rng(seed)

    def clipped(g: np.ndarray, x: np.ndarray) -> np.ndarray:
        w = np.outer(g, x)
        norm = float(np.linalg.norm(w))
        return w * min(1.0, clip / norm)

    total = np.zeros((nn, mm))
    for _ in range(bb):
        g = rng.standard_normal(nn)
        g[l2] = g[l1]
        total += clipped(g, rng.standard_normal(mm))
    e_g = np.zeros(nn)
    e_g[l2] = 1.0
    extra = clipped(e_g, rng.standard_normal(mm))
    return total, total + extra


# -- sampling the mechanism --------------------------------------------------------------------


def _event_counts_numpy(g: np.ndarray, g2: np.ndarray, r: int, trials: int, seed: int,
                        l1: int, l2: int, chunk: int) -> tuple[int, int]:
    rng = np.random.default_rng(seed)
    counts = [0, 0]
    done = 0
    while done < trials:
        k = min(chunk, trials - done)
        for idx, grad in enumerate((g, g2)):
            a = rng.standard_normal((k, r, grad.shape[1])) / math.sqrt(r)
            out = (grad @ a.transpose(0, 2, 1)) @ a          # (k, n, m): G A^T A per trial
            diff = np.linalg.norm(out[:, l1] - out[:, l2], axis=1)
            scale = np.linalg.norm(out[:, l1], axis=1) + np.linalg.norm(out[:, l2], axis=1)
            counts[idx] += int(np.sum(diff <= EVENT_TOLERANCE * scale))
        done += k
    return counts[0], counts[1]


def _event_counts_torch(g: np.ndarray, g2: np.ndarray, r: int, trials: int, seed: int,
                        l1: int, l2: int, chunk: int) -> tuple[int, int]:
    try:
        import torch
    except ImportError:  # pragma: no cover - depends on the environment
        raise InvalidArgument("backend='torch' needs torch, which is not installed.") from None
    device = "cuda" if torch.cuda.is_available() else "cpu"
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    grads = [torch.as_tensor(x, dtype=torch.float64, device=device) for x in (g, g2)]
    counts = [0, 0]
    done = 0
    while done < trials:
        k = min(chunk, trials - done)
        for idx, grad in enumerate(grads):
            a = torch.randn((k, r, grad.shape[1]), generator=gen, dtype=torch.float64,
                            device=device) / math.sqrt(r)
            out = (grad @ a.transpose(1, 2)) @ a
            diff = torch.linalg.norm(out[:, l1] - out[:, l2], dim=1)
            scale = torch.linalg.norm(out[:, l1], dim=1) + torch.linalg.norm(out[:, l2], dim=1)
            counts[idx] += int((diff <= EVENT_TOLERANCE * scale).sum().item())
        done += k
    return counts[0], counts[1]


def _delta_lower(p_d: Bound, q_d: Bound, eps: Fraction) -> Bound:
    """Enclose P_D(S)_lower - e^eps P_D'(S)_upper (exact CP endpoints in, ball arithmetic)."""
    return escalate(lambda _p: p_d.to_arb() - exact_ball(eps).exp() * q_d.to_arb(),
                    Target(rel=1e-9, absolute=1e-15), what="delta lower bound")


def lora_step_event_test(
    n: int,
    m: int,
    r: int,
    trials: int,
    seed: int,
    backend: str = "numpy",
    confidence: object = "0.999",
    epsilons: Iterable[object] = DEFAULT_EPSILONS,
    batch: int = 4,
    chunk: int = 256,
) -> dict[str, Any]:
    """Sample M(D) = G A^T A and M(D') = G' A^T A ``trials`` times each (fresh A each time) and
    count the event S = {rows l1 = 0 and l2 = 1 of the output are equal}.

    Returns the counts, the one-sided Clopper-Pearson lower limit on P_D(S) and upper limit on
    P_D'(S), each at level alpha/2 with alpha = 1 - ``confidence`` (so both hold together with
    probability >= confidence), and for each eps the enclosed value of
    ``P_D_lower - e^eps P_D'_upper``: a lower confidence bound on delta(eps) (report its
    ``.lower``). The exact answer is delta(eps) = 1 for every eps (module docstring).
    """
    nn, mm, rr = (check_positive_int(k, v) for k, v in (("n", n), ("m", m), ("r", r)))
    n_trials = check_positive_int("trials", trials)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidArgument(f"seed={seed!r} must be a non-negative integer.")
    be = check_choice("backend", backend, BACKENDS)
    gamma = check_probability("confidence", confidence, open_low=True, open_high=True)
    eps_list = [check_nonnegative("epsilon", e) for e in epsilons]
    ch = check_positive_int("chunk", chunk)
    g, g2 = neighbouring_gradients(nn, mm, batch=batch, seed=seed)
    start = time.perf_counter()
    sampler = _event_counts_numpy if be == "numpy" else _event_counts_torch
    count_d, count_d2 = sampler(g, g2, rr, n_trials, seed + 1, 0, 1, ch)
    seconds = time.perf_counter() - start
    half = (1 - gamma) / 2
    p_d = clopper_pearson_lower(count_d, n_trials, half)
    q_d = clopper_pearson_upper(count_d2, n_trials, half)
    return {
        "n": nn, "m": mm, "r": rr, "trials": n_trials, "backend": be, "confidence": gamma,
        "count_D": count_d, "count_D_prime": count_d2,
        "p_D_lower": p_d, "p_D_prime_upper": q_d,
        "delta_lower": {e: _delta_lower(p_d, q_d, e) for e in eps_list},
        "exact_delta": Bound.exact(1), "seconds": seconds,
    }


# -- the paper's implied DP-SGD guarantee ------------------------------------------------------


def _check_distortion(delta: object) -> Fraction:
    d = to_exact("delta", delta)
    if not 0 < d < 1:
        raise InvalidArgument(f"delta={delta} must be in (0, 1).")
    return d


def _mu_ball(d: Fraction, n: int, r: int, b: int) -> arb:
    """mu = 1/z = (1 + D)/(1 - D) sqrt(n r / b)."""
    return exact_ball((1 + d) / (1 - d)) * exact_ball(Fraction(n * r, b)).sqrt()


def claimed_noise_multiplier(delta: object, n: object, r: object, b: object,
                             target: Target | None = None) -> Bound:
    """The paper's z = (1 - D)/(1 + D) sqrt(b / (n r)) (section 5.1), enclosed."""
    d = _check_distortion(delta)
    nn, rr, bb = (check_positive_int(k, v) for k, v in (("n", n), ("r", r), ("b", b)))
    return escalate(lambda _p: 1 / _mu_ball(d, nn, rr, bb), target or DELTA_TARGET,
                    what="noise multiplier z")


def claimed_dpsgd_delta(
    delta: object, n: object, r: object, b: object, epsilon: object,
    clip_norm: object = 1, target: Target | None = None,
) -> dict[str, Any]:
    """The guarantee section 5.1 implies, against the exact one, at one eps.

    z = (1 - D)/(1 + D) sqrt(b/(n r)); one step of the Gaussian mechanism with sensitivity
    ``clip_norm`` and noise sd ``clip_norm * z`` (add/remove): mu = 1/z and delta(eps) by
    Balle-Wang Thm 8 (``gaussian_delta_ball``, the formula of ``GaussianMechanism``), evaluated
    on the ball for mu (z is irrational in general). ``implied_gap`` encloses 1 - delta(eps)
    with *relative* accuracy (delta is often 1 - 1e-50: the Bound of delta alone cannot show it
    is below 1); ``contradiction`` is True when that gap is certainly positive, i.e. the implied
    delta is certainly below the exact delta = 1.
    """
    d = _check_distortion(delta)
    nn, rr, bb = (check_positive_int(k, v) for k, v in (("n", n), ("r", r), ("b", b)))
    eps = check_nonnegative("epsilon", epsilon)
    c = check_positive("clip_norm", clip_norm)
    goal = target or DELTA_TARGET
    z = claimed_noise_multiplier(d, nn, rr, bb, goal)
    sigma_dp = escalate(lambda _p: exact_ball(c) / _mu_ball(d, nn, rr, bb), goal,
                        what="sigma_DP = c z")
    mu = escalate(lambda _p: _mu_ball(d, nn, rr, bb), goal, what="mu = 1/z")
    implied = escalate(lambda _p: gaussian_delta_ball(_mu_ball(d, nn, rr, bb), exact_ball(eps)),
                       goal, what=f"implied delta(epsilon={epsilon})", within=(0, 1))

    def gap() -> arb:  # 1 - delta(eps) = Phi(eps/mu - mu/2) + e^eps Phi(-mu/2 - eps/mu) > 0
        m_ball, e_ball = _mu_ball(d, nn, rr, bb), exact_ball(eps)
        return (normal_cdf(e_ball / m_ball - m_ball / 2)
                + e_ball.exp() * normal_cdf(-m_ball / 2 - e_ball / m_ball))

    implied_gap = escalate(lambda _p: gap(), goal, what=f"1 - implied delta(epsilon={epsilon})",
                           within=(0, 1))
    return {"delta": d, "n": nn, "r": rr, "b": bb, "epsilon": eps, "clip_norm": c,
            "z": z, "sigma_dp": sigma_dp, "mu": mu, "implied_delta": implied,
            "implied_gap": implied_gap, "exact_delta": Bound.exact(1),
            "contradiction": implied_gap.gt(0) is True}
