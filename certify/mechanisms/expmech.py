"""The exponential mechanism with a quadratic utility and its closed-form normal sampler
(claims QEM-1 .. QEM-5; seed 002, arXiv 2605.20521, of which only the abstract is available).

The construction certified here (the mechanism as it must be for the abstract's description to
hold; derivations in ``proofs/expmech.py``):

* pretrained parameters ``theta0`` in R^p and ``H``, the positive definite Hessian of the
  pretrained loss at ``theta0`` (its local quadratic approximation);
* the data enter through ``g(D) = sum_i clip_C(grad l(theta0; x_i))``, the sum of per-example
  gradients of the fine-tuning loss clipped to L2 norm ``C`` (its first-order approximation);
* the utility ``u(theta; D) = -(1/2)(theta - theta0)^T H (theta - theta0) - <g(D), theta - theta0>``
  and the exponential mechanism's density ``proportional to exp(lambda u(theta; D))`` with
  ``lambda = eps0 / (2 Delta_u)`` (McSherry and Talwar 2007, Theorem 6);
* QEM-1 (``proof_qem_density_normal``): the density is exactly
  ``N(theta0 - H^-1 g(D), (lambda H)^-1)``, sampled in closed form by :func:`sample_qem`;
* QEM-2 (``proof_qem_mahalanobis``): with H data-independent, two neighbouring samplers differ
  only in their means, so the untruncated sampler is a Gaussian mechanism whose worst pair has
  ``mu = Delta_g sqrt(lambda / lambda_min(H))`` (``Delta_g = C`` add/remove, ``2C`` replace-one),
  attained by a gradient along H's smallest eigenvector; its exact profile is Balle and Wang
  (2018) Thm 8 at that mu (:class:`QuadraticExpMech`). Its privacy loss is unbounded, so
  ``delta(eps) > 0`` for every eps: no pure eps-DP. With a data-dependent covariance
  (``H(D) = H0 + beta sum_i v_i v_i^T``, a Gauss-Newton term) the neighbouring samplers also
  differ in covariance; :class:`GaussNewtonPair` certifies the hockey-stick divergence of one
  explicit neighbouring pair (a lower bound on the mechanism's profile), through
  :func:`normal_pair_delta` (``proof_qem_normal_pair``);
* QEM-3 (``proof_qem_sensitivity``): ``Delta_u`` is finite only on a bounded domain:
  :func:`utility_sensitivity` on the ball ``|theta - theta0| <= R``;
* QEM-4 (``proof_qem_projection``): fine-tuning in a random subspace ``theta = theta0 + A z``
  (``A`` p x k with iid ``N(0, 1/k)`` entries): the projected utility's sensitivity on the ball
  ``|z| <= R`` is ``Delta_g R sigma_max(A)``; :func:`jl_fixed_gradient_exceedance` and
  :func:`jl_uniform_bound_probability` give the certified probabilities that it exceeds the
  Johnson-Lindenstrauss bound ``(1 + Delta) Delta_g R``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from flint import arb, ctx
from numpy.typing import NDArray

from certify._backend import BACKENDS
from certify._backend import check_seed as _check_seed
from certify._backend import import_torch as _torch
from certify._backend import torch_device as _torch_device
from certify._validate import (
    check_choice,
    check_nonnegative,
    check_positive,
    check_positive_int,
    check_probability,
    to_exact,
)
from certify.errors import InvalidArgument
from certify.mechanisms._common import DELTA_TARGET, EPSILON_TARGET, ball, brief, exact_text
from certify.mechanisms.base import MechanismEntry, register_mechanism
from certify.mechanisms.gaussian import gaussian_delta_ball
from certify.numerics.bound import Bound
from certify.numerics.precision import Target, escalate
from certify.numerics.roots import certified_root
from certify.numerics.special import chi2_cdf_bound, chi2_sf_bound, normal_cdf, normal_sf

__all__ = [
    "BACKENDS",
    "NEIGHBOURS",
    "GaussNewtonPair",
    "QuadraticExpMech",
    "gaussian_epsilon",
    "gradient_sensitivity",
    "jl_fixed_gradient_exceedance",
    "jl_uniform_bound_probability",
    "normal_pair_delta",
    "normal_pair_delta_ball",
    "qem_normal",
    "sample_qem",
    "sample_qem_projected",
    "utility_sensitivity",
]

NEIGHBOURS = ("add-remove", "replace-one")

FloatArray = NDArray[np.float64]


# -- sensitivities (QEM-3, QEM-4) -----------------------------------------------------------------
def gradient_sensitivity(clip: object, neighbours: object = "add-remove") -> Fraction:
    """``Delta_g = sup |g(D) - g(D')|``: ``C`` under add/remove, ``2C`` under replace-one (a sum of
    vectors clipped to norm C changes by one vector, or by the difference of two)."""
    c = check_positive("clip", clip)
    n = check_choice("neighbours", neighbours, NEIGHBOURS)
    return 2 * c if n == "replace-one" else c


def utility_sensitivity(radius: object, clip: object, neighbours: object = "add-remove",
                        gauss_newton: object = 0) -> Fraction:
    """Exact ``Delta_u = sup_{|theta - theta0| <= R} sup_{D ~ D'} |u(theta; D) - u(theta; D')|``.

    ``proofs/expmech.py`` (``proof_qem_sensitivity``): adding a record with clipped gradient v
    changes u by ``<v, x> + (beta/2)<v, x>^2`` (``x = theta - theta0``, ``beta`` the Gauss-Newton
    weight, 0 when H is data-independent). With ``b = C R`` (Cauchy-Schwarz, attained):

    * add/remove: ``b + beta b^2/2``;
    * replace-one: ``2b`` when ``beta b <= 1``, else ``(1 + beta b)^2 / (2 beta)`` (the maximum of
      ``(a - a')(1 + beta (a + a')/2)`` over ``[-b, b]^2``).

    On all of R^p (R -> infinity) the sensitivity is infinite: the exponential mechanism's pure
    guarantee needs a bounded domain.
    """
    r = check_positive("radius", radius)
    c = check_positive("clip", clip)
    nb = check_choice("neighbours", neighbours, NEIGHBOURS)
    beta = check_nonnegative("gauss_newton", gauss_newton)
    b = c * r
    if nb == "add-remove":
        return b + beta * b * b / 2
    if beta * b <= 1:
        return 2 * b
    return (1 + beta * b) ** 2 / (2 * beta)


def jl_fixed_gradient_exceedance(k: object, slack: object, target: Target | None = None) -> Bound:
    """``P(|A^T v| > (1 + Delta)|v|)`` for one fixed v, A (p x k) with iid N(0, 1/k) entries:
    ``k |A^T v|^2 / |v|^2 ~ chi2_k`` (rotation invariance), so the probability is exactly
    ``P(chi2_k > k (1 + Delta)^2)`` (certified chi-square tail)."""
    kk = check_positive_int("k", k)
    d = check_positive("slack", slack)
    return chi2_sf_bound(kk * (1 + d) ** 2, kk, target)


def jl_uniform_bound_probability(p: object, k: object, slack: object,
                                 target: Target | None = None) -> Bound:
    """An enclosure of ``P(chi2_{pk} <= k^2 (1 + Delta)^2)``, which bounds from above the
    probability that the JL sensitivity bound holds for *every* gradient,
    ``P(sigma_max(A) <= 1 + Delta)``: ``sigma_max(A)^2 >= |A|_F^2 / k`` (the largest of the k
    eigenvalues of A^T A is at least their mean) and ``k |A|_F^2 ~ chi2_{pk}``. The sensitivity is
    a supremum over neighbouring datasets, i.e. over all clipped gradients, so one minus the upper
    end is a certified lower bound on the probability that the bound used is exceeded."""
    pp = check_positive_int("p", p)
    kk = check_positive_int("k", k)
    if kk > pp:
        raise InvalidArgument(f"k={kk} must not exceed p={pp}.")
    d = check_positive("slack", slack)
    return chi2_cdf_bound(kk * kk * (1 + d) ** 2, pp * kk, target)


# -- the hockey-stick divergence of two normals ---------------------------------------------------
def normal_pair_delta_ball(a: arb, s2: arb, eps: arb) -> arb:
    """``H_{e^eps}(N(0, 1) || N(a, s2)) = P(R) - e^eps Q(R)`` at the ambient precision, with R the
    region where the privacy loss ``L(x) = c2 x^2 + c1 x + c0 + eps`` exceeds eps:
    ``c2 = (1/s2 - 1)/2``, ``c1 = -a/s2``, ``c0 = a^2/(2 s2) + log s - eps``
    (``proof_qem_normal_pair``). R is outside the two roots when s2 < 1, between them when
    s2 > 1, and a half-line when s2 = 1 (Balle-Wang). Returns NaN when a sign stays undecided
    at this precision (the caller escalates)."""
    s = s2.sqrt()
    if s2.is_exact() and s2 == 1:
        if a.is_exact() and a.is_zero():
            return arb(0) if eps >= 0 else 1 - eps.exp()
        if not (a > 0 or a < 0):
            return arb.nan()
        return gaussian_delta_ball(abs(a), eps)
    c2 = (1 / s2 - 1) / 2
    c1 = -a / s2
    c0 = a * a / (2 * s2) + s.log() - eps
    if not (c2 > 0 or c2 < 0):
        return arb.nan()
    disc = c1 * c1 - 4 * c2 * c0
    e = eps.exp()
    if c2 > 0:
        if disc < 0:  # the loss exceeds eps everywhere
            return 1 - e
        if not disc > 0:
            return arb.nan()
        root = disc.sqrt()
        x1, x2 = (-c1 - root) / (2 * c2), (-c1 + root) / (2 * c2)
        p_mass = normal_cdf(x1) + normal_sf(x2)
        q_mass = normal_cdf((x1 - a) / s) + normal_sf((x2 - a) / s)
        return p_mass - e * q_mass
    if disc <= 0:  # the loss never exceeds eps (up to a null set)
        return arb(0)
    if not disc > 0:
        return arb.nan()
    root = disc.sqrt()
    x1, x2 = (-c1 + root) / (2 * c2), (-c1 - root) / (2 * c2)
    return _interval_mass(x1, x2) - e * _interval_mass((x1 - a) / s, (x2 - a) / s)


def _interval_mass(lo: arb, hi: arb) -> arb:
    """``Phi(hi) - Phi(lo)`` from the tail on the side of the interval (less cancellation)."""
    if lo > 0:
        return normal_sf(lo) - normal_sf(hi)
    return normal_cdf(hi) - normal_cdf(lo)


def normal_pair_delta(a: object, s2: object, epsilon: object,
                      target: Target | None = None) -> Bound:
    """Certified ``H_{e^eps}(N(0, 1) || N(a, s2))`` for exact ``a``, ``s2 > 0``, ``eps`` (any
    pair of one-dimensional normals reduces to this one by an affine map)."""
    av = to_exact("a", a)
    s2v = check_positive("s2", s2)
    eps = check_nonnegative("epsilon", epsilon)
    return escalate(
        lambda _p: normal_pair_delta_ball(ball(av), ball(s2v), ball(eps)),
        target or DELTA_TARGET, what=f"normal pair delta(epsilon={brief(eps)})", within=(0, 1))


# -- the untruncated sampler's exact profile (QEM-2) -------------------------------------------
@dataclass(frozen=True)
class QuadraticExpMech:
    """The closed-form (untruncated) sampler ``N(theta0 - H^-1 g(D), (lambda H)^-1)`` with H
    data-independent: ``clip`` C, ``hessian_min`` = lambda_min(H), ``scale`` = lambda.

    Its exact privacy profile is the Gaussian mechanism's at ``mu = Delta_g sqrt(lambda / h)``
    (module docstring; ``proof_qem_mahalanobis``), the same in both directions.
    Build it from the exponential-mechanism calibration with :meth:`from_epsilon0`.
    """

    clip: Fraction
    hessian_min: Fraction
    scale: Fraction
    neighbours: str = "add-remove"
    name: str = "expmech-quadratic"

    def __init__(self, clip: object, hessian_min: object, scale: object,
                 neighbours: object = "add-remove") -> None:
        object.__setattr__(self, "clip", check_positive("clip", clip))
        object.__setattr__(self, "hessian_min", check_positive("hessian_min", hessian_min))
        object.__setattr__(self, "scale", check_positive("scale", scale))
        object.__setattr__(self, "neighbours", check_choice("neighbours", neighbours, NEIGHBOURS))
        object.__setattr__(self, "name", "expmech-quadratic")

    @classmethod
    def from_epsilon0(cls, epsilon0: object, radius: object, clip: object, hessian_min: object,
                      neighbours: object = "add-remove") -> QuadraticExpMech:
        """The sampler of the exponential mechanism that claims eps0-DP on the ball of
        ``radius`` R: ``lambda = eps0 / (2 Delta_u)``, ``Delta_u = Delta_g R``
        (:func:`utility_sensitivity`)."""
        e0 = check_positive("epsilon0", epsilon0)
        du = utility_sensitivity(radius, clip, neighbours)
        return cls(clip, hessian_min, e0 / (2 * du), neighbours)

    @property
    def gradient_sensitivity(self) -> Fraction:
        return gradient_sensitivity(self.clip, self.neighbours)

    @property
    def mu_squared(self) -> Fraction:
        """``mu^2 = Delta_g^2 lambda / lambda_min(H)`` (exact)."""
        return self.gradient_sensitivity**2 * self.scale / self.hessian_min

    def mu_ball(self) -> arb:
        return ball(self.mu_squared).sqrt()

    def params(self) -> dict[str, str]:
        return {"clip": exact_text(self.clip), "hessian_min": exact_text(self.hessian_min),
                "scale": exact_text(self.scale), "neighbours": self.neighbours}

    def delta(self, epsilon: object, target: Target | None = None) -> Bound:
        """Certified delta(eps) (Balle-Wang Thm 8 at mu), eps >= 0."""
        eps = check_nonnegative("epsilon", epsilon)
        return escalate(lambda _p: gaussian_delta_ball(self.mu_ball(), ball(eps)),
                        target or DELTA_TARGET,
                        what=f"expmech-quadratic delta(epsilon={brief(eps)})", within=(0, 1))

    def epsilon(self, delta: object, target: Target | None = None) -> Bound:
        """Certified eps(delta) = min{eps >= 0 : delta(eps) <= delta}, delta in (0, 1]."""
        dlt = check_probability("delta", delta, open_low=True)
        return gaussian_epsilon(self.mu_ball, _float_sqrt(self.mu_squared), dlt,
                                target or EPSILON_TARGET, "expmech-quadratic")


def _float_sqrt(x: Fraction) -> float:
    """sqrt(x) as a float guess (nan beyond float range; guesses only)."""
    try:
        return math.sqrt(float(x))
    except OverflowError:
        return math.nan


def gaussian_epsilon(mu: Callable[[], arb], mu_float: float, dlt: Fraction, target: Target,
                     what: str) -> Bound:
    """Certified inverse of Balle-Wang's delta(eps) at ``mu`` (a ball at the ambient precision):
    the root of ``log delta(eps) - log delta``, bracketed by certified signs (delta(eps) is
    continuous and strictly decreasing). ``mu_float`` only seeds the guess."""

    def f(eps: arb) -> arb:
        value = gaussian_delta_ball(mu(), eps)
        if not value > 0:  # too small for a log ball: compare directly
            return arb(-1) if value < ball(dlt) else arb.nan()
        return value.log() - ball(dlt).log()

    for prec in (64, 256, 1024):
        with ctx.workprec(prec):
            at_zero = gaussian_delta_ball(mu(), arb(0))
            if at_zero <= ball(dlt):
                return Bound.exact(0)
            if at_zero > ball(dlt):
                break
    guess = _float_epsilon_guess(mu_float, float(dlt))
    # delta(eps) <= Phi(mu/2 - eps/mu) <= exp(-t^2/2)/2 at eps = mu^2/2 + mu t (t >= 0), which is
    # < delta for t = sqrt(2 log(1/delta)): a certified upper end of the bracket
    with ctx.workprec(128):
        m = mu()
        t = (2 * (1 / ball(dlt)).log()).sqrt()
        top = Bound.from_arb(m * m / 2 + m * t + 1)
    hi = Fraction(top.upper)
    return certified_root(f, Fraction(0), hi, target=target,
                          guess=guess if 0 < guess < hi else None,
                          what=f"{what} epsilon(delta={brief(dlt)})")


def _float_epsilon_guess(mu: float, delta: float) -> float:
    """Bisection in floats on log delta(eps) (log-space Balle-Wang); only seeds the search."""
    from scipy.special import log_ndtr

    if not (math.isfinite(mu) and mu > 0 and delta > 0):
        return 1.0
    log_t = math.log(delta)

    def log_delta(e: float) -> float:
        x, y = float(log_ndtr(mu / 2 - e / mu)), e + float(log_ndtr(-mu / 2 - e / mu))
        return -math.inf if y >= x else x + math.log1p(-math.exp(y - x))

    lo, hi = 0.0, 1.0
    while log_delta(hi) > log_t and hi < 1e12:
        lo, hi = hi, hi * 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if log_delta(mid) > log_t:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


# -- data-dependent covariance: one explicit neighbouring pair (QEM-2) ---------------------------
@dataclass(frozen=True)
class GaussNewtonPair:
    """The neighbouring pair D (with g(D) = 0) and D' = D + x when ``H(D) = H0 + beta sum_i
    v_i v_i^T``: x's clipped gradient v (|v| = ``clip``) lies along an eigenvector of H(D) with
    eigenvalue ``curvature`` h. Whitened by D's sampler (``proof_qem_covariance_pair``) the pair is
    ``N(0, 1)`` vs ``N(a, s2)`` along v (identical elsewhere) with ``c = beta C^2 / h``,
    ``a^2 = lambda C^2 / (h (1 + c)^2)`` and ``s2 = 1/(1 + c)``.

    :meth:`delta` is the maximum over both directions of this pair's hockey-stick divergence:
    a certified lower bound on the mechanism's privacy profile (a sup over all pairs)."""

    scale: Fraction
    curvature: Fraction
    clip: Fraction
    gauss_newton: Fraction

    def __init__(self, scale: object, curvature: object, clip: object,
                 gauss_newton: object) -> None:
        object.__setattr__(self, "scale", check_positive("scale", scale))
        object.__setattr__(self, "curvature", check_positive("curvature", curvature))
        object.__setattr__(self, "clip", check_positive("clip", clip))
        object.__setattr__(self, "gauss_newton", check_nonnegative("gauss_newton", gauss_newton))

    @property
    def c(self) -> Fraction:
        return self.gauss_newton * self.clip**2 / self.curvature

    @property
    def a_squared(self) -> Fraction:
        return self.scale * self.clip**2 / (self.curvature * (1 + self.c) ** 2)

    @property
    def s2(self) -> Fraction:
        return 1 / (1 + self.c)

    def mean_only_mu_squared(self) -> Fraction:
        """mu^2 of the same sampler with the covariance frozen at H(D): lambda C^2 / h."""
        return self.scale * self.clip**2 / self.curvature

    def delta_direction(self, epsilon: object, direction: str,
                        target: Target | None = None) -> Bound:
        """``remove``: H(P_D' || P_D) (x removed from D'); ``add``: H(P_D || P_D')."""
        eps = check_nonnegative("epsilon", epsilon)
        d = check_choice("direction", direction, ("add", "remove"))

        def compute(_p: int) -> arb:
            a = ball(self.a_squared).sqrt()
            s2 = ball(self.s2)
            if d == "add":
                return normal_pair_delta_ball(a, s2, ball(eps))
            # x -> (x - a)/s maps P_D' to N(0, 1) and P_D to N(-a/s, 1/s2)
            return normal_pair_delta_ball(-a / s2.sqrt(), 1 / s2, ball(eps))

        return escalate(compute, target or DELTA_TARGET,
                        what=f"Gauss-Newton pair delta_{d}(epsilon={brief(eps)})", within=(0, 1))

    def delta(self, epsilon: object, target: Target | None = None) -> Bound:
        """The larger of the two directions (enclosure of the maximum)."""
        b1 = self.delta_direction(epsilon, "add", target)
        b2 = self.delta_direction(epsilon, "remove", target)
        return Bound(max(b1.lower, b2.lower), max(b1.upper, b2.upper), max(b1.prec, b2.prec))


# -- samplers (QEM-5) ---------------------------------------------------------------------------
def _real_array(name: str, value: object, ndim: int) -> FloatArray:
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        raise InvalidArgument(f"{name}={value!r} is not a real array.") from None
    if arr.dtype.kind not in "iuf":
        raise InvalidArgument(f"{name}={value!r} must hold real numbers (dtype {arr.dtype}).")
    if arr.ndim != ndim or arr.size == 0:
        raise InvalidArgument(f"{name} must be a non-empty {ndim}-d array (shape {arr.shape}).")
    out = arr.astype(np.float64)
    if not np.all(np.isfinite(out)):
        raise InvalidArgument(f"{name} must be finite.")
    return out


def qem_normal(theta0: object, hessian: object, grad_sum: object,
               scale: object) -> tuple[FloatArray, FloatArray]:
    """The sampler's law (QEM-1) in float64: ``(mean, precision) = (theta0 - H^-1 g, lambda H)``.
    ``hessian`` must be symmetric positive definite (checked by a Cholesky factorisation)."""
    t0 = _real_array("theta0", theta0, 1)
    h = _real_array("hessian", hessian, 2)
    g = _real_array("grad_sum", grad_sum, 1)
    lam = float(check_positive("scale", scale))
    p = t0.shape[0]
    if h.shape != (p, p) or g.shape != (p,):
        raise InvalidArgument(f"hessian shape {h.shape} and grad_sum shape {g.shape} must match "
                              f"theta0 (p={p}).")
    if not np.allclose(h, h.T, rtol=1e-12, atol=0.0):
        raise InvalidArgument("hessian must be symmetric.")
    try:
        chol = np.linalg.cholesky(h)
    except np.linalg.LinAlgError:
        raise InvalidArgument("hessian must be positive definite (the density exp(lambda u) "
                              "is not normalisable otherwise).") from None
    step = np.linalg.solve(chol.T, np.linalg.solve(chol, g))
    return t0 - step, lam * h


def sample_qem(theta0: object, hessian: object, grad_sum: object, scale: object, n: object, *,
               seed: object, backend: object = "numpy", device: object = None) -> FloatArray:
    """``n`` draws (shape (n, p)) of ``N(theta0 - H^-1 g, (lambda H)^-1)``: with
    ``lambda H = L L^T`` (Cholesky), ``theta = mean + L^-T z``, z standard normal
    (``Cov = L^-T L^-1 = (lambda H)^-1``). Backends: numpy (PCG64, ``seed``) or torch (float64,
    ``device``; cuda by default when available)."""
    mean, prec = qem_normal(theta0, hessian, grad_sum, scale)
    size = check_positive_int("n", n)
    be = check_choice("backend", backend, BACKENDS)
    sd = _check_seed(seed)
    if be == "numpy":
        if device not in (None, "cpu"):
            raise InvalidArgument(f"device={device!r} must be None or 'cpu' with numpy.")
        rng = np.random.default_rng(sd)
        z = rng.standard_normal((mean.shape[0], size))
        chol = np.linalg.cholesky(prec)
        x = _solve_upper(chol.T, z)
        return mean[None, :] + x.T
    torch = _torch()
    dev = _torch_device(torch, device)
    gen = torch.Generator(device=dev)
    gen.manual_seed(sd)
    prec_t = torch.as_tensor(prec, dtype=torch.float64, device=dev)
    chol_t = torch.linalg.cholesky(prec_t)
    z_t = torch.randn((mean.shape[0], size), generator=gen, dtype=torch.float64, device=dev)
    x_t = torch.linalg.solve_triangular(chol_t.T, z_t, upper=True)
    out = torch.as_tensor(mean, dtype=torch.float64, device=dev)[None, :] + x_t.T
    return np.asarray(out.cpu().numpy(), dtype=np.float64)


def sample_qem_projected(theta0: object, hessian: object, grad_sum: object, scale: object,
                         projection: object, n: object, *, seed: object) -> FloatArray:
    """The random-projection variant (QEM-4): ``theta = theta0 + A z`` with z drawn from the
    exponential mechanism of the projected utility ``u(theta0 + A z; D)``, i.e.
    ``z ~ N(-(A^T H A)^-1 A^T g, (lambda A^T H A)^-1)`` (QEM-1 applied to ``A^T H A``, ``A^T g``).
    Returns the draws of theta, shape (n, p) (numpy backend)."""
    t0 = _real_array("theta0", theta0, 1)
    h = _real_array("hessian", hessian, 2)
    g = _real_array("grad_sum", grad_sum, 1)
    a = _real_array("projection", projection, 2)
    if a.shape[0] != t0.shape[0] or a.shape[1] > a.shape[0]:
        raise InvalidArgument(f"projection shape {a.shape} must be (p, k) with k <= p = "
                              f"{t0.shape[0]}.")
    hz = a.T @ h @ a
    gz = a.T @ g
    z = sample_qem(np.zeros(a.shape[1]), (hz + hz.T) / 2, gz, scale, n, seed=seed)
    return t0[None, :] + z @ a.T


def _solve_upper(u: np.ndarray, b: np.ndarray) -> FloatArray:
    from scipy.linalg import solve_triangular

    return np.asarray(solve_triangular(u, b, lower=False), dtype=np.float64)


# -- CLI --------------------------------------------------------------------------------------
def _build(params: Mapping[str, str]) -> QuadraticExpMech:
    for required in ("clip", "hessian_min"):
        if required not in params:
            raise InvalidArgument(f"{required} is required for expmech-quadratic "
                                  "(e.g. clip=1 hessian_min=1 scale=0.5).")
    neighbours = params.get("neighbours", "add-remove")
    if "scale" in params:
        extra = [k for k in ("epsilon0", "radius") if k in params]
        if extra:
            raise InvalidArgument(f"{extra[0]}={params[extra[0]]} cannot be combined with "
                                  f"scale={params['scale']} (give scale, or epsilon0 and radius).")
        return QuadraticExpMech(params["clip"], params["hessian_min"], params["scale"],
                                neighbours)
    missing = [k for k in ("epsilon0", "radius") if k not in params]
    if missing:
        raise InvalidArgument(f"{missing[0]} is required for expmech-quadratic when scale is not "
                              "given (lambda = epsilon0 / (2 clip radius)).")
    return QuadraticExpMech.from_epsilon0(params["epsilon0"], params["radius"], params["clip"],
                                          params["hessian_min"], neighbours)


register_mechanism(
    MechanismEntry(
        name="expmech-quadratic",
        build=_build,
        parameters=("clip", "hessian_min", "scale", "epsilon0", "radius", "neighbours"),
        summary="closed-form normal sampler of the quadratic-utility exponential mechanism "
        "(Gaussian mechanism with mu = Delta_g sqrt(scale/hessian_min), Balle-Wang 2018)",
    )
)
