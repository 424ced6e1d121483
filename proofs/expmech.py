"""The exponential mechanism with a quadratic utility (claims QEM-1 .. QEM-4; seed 002).

Construction (ours: seed 002 gives only its abstract, and this is the mechanism its description
requires). Pretrained parameters ``theta0`` in R^p, ``H`` the (positive definite) Hessian of the
pretrained loss at ``theta0`` (the local quadratic approximation), ``g(D) = sum_i clip_C(grad
l(theta0; x_i))`` the sum of clipped per-example gradients of the fine-tuning loss (its first-order
approximation), and the utility

    u(theta; D) = -(1/2) (theta - theta0)^T H (theta - theta0) - <g(D), theta - theta0>,

minus the quadratic model of the total loss. The exponential mechanism samples with density
proportional to ``exp(lambda u(theta; D))`` (``lambda = eps0 / (2 Delta_u)`` in McSherry and Talwar
2007). Derived here (each step machine-checked by sympy):

* QEM-1: ``lambda u = -(lambda/2)(theta - m)^T H (theta - m) + (lambda/2) g^T H^-1 g`` with
  ``m = theta0 - H^-1 g``, so the density is exactly ``N(theta0 - H^-1 g(D), (lambda H)^-1)``
  (normalisable iff H is positive definite);
* QEM-2: between ``N(m, S)`` and ``N(m', S)`` the privacy loss is ``N(mu^2/2, mu^2)`` with
  ``mu^2 = (m - m')^T S^-1 (m - m') = lambda (g - g')^T H^-1 (g - g')``, whose supremum over
  ``||g - g'|| <= Delta_g`` is ``Delta_g^2 lambda / lambda_min(H)`` (Rayleigh); with a
  data-dependent Gauss-Newton term ``H(D) = H0 + beta sum_i v_i v_i^T`` the whitened neighbour is
  ``N(a, (I + beta w w^T)^-1)`` (Sherman-Morrison), a one-dimensional pair when g(D) = 0;
* QEM-3: ``u(theta; D) - u(theta; D + x) = <v, theta - theta0> (+ beta <v, theta - theta0>^2/2)``,
  bounded by ``C ||theta - theta0||`` (Cauchy-Schwarz, attained) and unbounded on R^p;
* QEM-4: for any full-rank ``A`` (p x k), ``A (A^T H A)^-1 A^T <= H^-1`` (an orthogonal projection
  in H-whitened coordinates), so projection never increases the Mahalanobis sensitivity.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from proofs._check import all_equal, equal, holds
from proofs.record import ProofRecord

__all__ = [
    "EXPMECH_PROOFS",
    "normal_pair_log_ratio",
    "proof_qem_covariance_pair",
    "proof_qem_density_normal",
    "proof_qem_mahalanobis",
    "proof_qem_normal_pair",
    "proof_qem_projection",
    "proof_qem_sensitivity",
]

_SOURCE = "seed 002 (arXiv 2605.20521, abstract); McSherry & Talwar 2007; our derivation"
_lam = sp.Symbol("lambda", positive=True)
_beta = sp.Symbol("beta", positive=True)


def _vec(name: str, n: int) -> sp.Matrix:
    return sp.Matrix(sp.symbols(f"{name}1:{n + 1}", real=True))


def _sym2(name: str) -> sp.Matrix:
    """A general symmetric 2 x 2 matrix with positive diagonal."""
    a, c = sp.symbols(f"{name}11 {name}22", positive=True)
    b = sp.Symbol(f"{name}12", real=True)
    return sp.Matrix([[a, b], [b, c]])


def _scalar(m: sp.Matrix) -> sp.Expr:
    return sp.expand(m[0, 0])


@cache
def proof_qem_density_normal() -> ProofRecord:
    """QEM-1: exp(lambda u(theta; D)) is the kernel of N(theta0 - H^-1 g, (lambda H)^-1)."""
    th, t0, g = _vec("theta", 2), _vec("theta0_", 2), _vec("g", 2)
    h = _sym2("h")
    x = th - t0
    u = _scalar(-(x.T * h * x) / 2 - g.T * x)
    m = t0 - h.inv() * g
    kernel = _scalar(-(_lam / 2) * (th - m).T * h * (th - m))
    const = _scalar((_lam / 2) * g.T * h.inv() * g)
    hess = sp.hessian(_lam * u, list(th))
    # one dimension: the normalising constant by integration
    t, t0s, gs = sp.symbols("t t0 g", real=True)
    hs = sp.Symbol("h", positive=True)
    u1 = -hs * (t - t0s) ** 2 / 2 - gs * (t - t0s)
    z1 = sp.integrate(sp.exp(_lam * u1), (t, -sp.oo, sp.oo))
    m1, v1 = t0s - gs / hs, 1 / (_lam * hs)
    normal_pdf = sp.exp(-((t - m1) ** 2) / (2 * v1)) / sp.sqrt(2 * sp.pi * v1)
    steps = (
        all_equal(
            "p = 2, general symmetric H: d/dtheta_i [lambda u + (lambda/2)(theta - m)^T H "
            "(theta - m)] = 0 with m = theta0 - H^-1 g (completing the square)",
            [(sp.diff(_lam * u - kernel, ti), 0) for ti in th],
        ),
        equal(
            "the theta-free remainder is (lambda/2) g^T H^-1 g (data-dependent, cancels in the "
            "normalisation)",
            sp.simplify(_lam * u - kernel),
            const,
        ),
        all_equal(
            "Hessian of lambda u is -lambda H: the precision matrix is lambda H (a proper normal "
            "iff H is positive definite)",
            [(hess[i, j], -_lam * h[i, j]) for i in range(2) for j in range(2)],
        ),
        equal(
            "p = 1: exp(lambda u) / int exp(lambda u) dtheta = N(theta0 - g/h, 1/(lambda h)) "
            "density",
            sp.exp(_lam * u1) / z1,
            normal_pdf,
            method="sympy.integrate; simplify(difference) == 0",
        ),
    )
    return ProofRecord(
        name="QEM-1 quadratic-utility exponential mechanism is a normal",
        statement="exp(lambda u(theta; D)) normalised is N(theta0 - H^-1 g(D), (lambda H)^-1).",
        result="N(theta0 - H^-1 g(D), (lambda H)^-1)",
        steps=steps,
        assumptions=("H symmetric positive definite", "lambda > 0",
                     "u(theta;D) = -(1/2)(theta-theta0)^T H (theta-theta0) - <g(D), theta-theta0>"),
        source=_SOURCE,
    )


@cache
def proof_qem_mahalanobis() -> ProofRecord:
    """QEM-2: the privacy loss between the samplers of neighbours is that of a Gaussian mechanism
    with mu^2 = lambda (g - g')^T H^-1 (g - g') <= lambda Delta_g^2 / lambda_min(H)."""
    th, g, gp = _vec("theta", 2), _vec("g", 2), _vec("gp", 2)
    h = _sym2("h")
    prec = _lam * h
    m, mp = -h.inv() * g, -h.inv() * gp  # theta0 = 0 without loss of generality
    loss = _scalar(-(th - m).T * prec * (th - m) / 2 + (th - mp).T * prec * (th - mp) / 2)
    coeff = prec * (m - mp)
    mu2 = _scalar((m - mp).T * prec * (m - mp))
    mean_p = loss.subs(dict(zip(th, m, strict=True)))
    var = _scalar(coeff.T * prec.inv() * coeff)
    dg = g - gp
    # Rayleigh quotient in the eigenbasis (orthogonal invariance): H = diag(h1, h2), h1 <= h2
    h1, dh, c, ang = sp.symbols("h_1 dh C t", positive=True)
    h2 = h1 + dh
    rayleigh = c**2 * (sp.cos(ang) ** 2 / h1 + sp.sin(ang) ** 2 / h2)
    steps = (
        all_equal(
            "L(theta) = log N(theta; m, S)/N(theta; m', S) is affine in theta with gradient "
            "S^-1 (m - m'), S^-1 = lambda H",
            [(sp.diff(loss, ti), coeff[i]) for i, ti in enumerate(th)]
            + [(sp.diff(loss, ti, tj), 0) for ti in th for tj in th],
        ),
        equal("E_P L = mu^2/2 (L at the mean m), mu^2 = (m - m')^T S^-1 (m - m')",
              mean_p, mu2 / 2),
        equal("Var_P L = (m - m')^T S^-1 S S^-1 (m - m') = mu^2", var, mu2),
        equal("mu^2 = lambda (g - g')^T H^-1 (g - g')", mu2, _scalar(_lam * dg.T * h.inv() * dg)),
        equal(
            "Rayleigh: C^2/h_min - C^2 (cos^2 t/h1 + sin^2 t/h2) = C^2 sin^2 t (h2 - h1)/(h1 h2) "
            ">= 0, attained at t = 0 (g - g' along the smallest eigenvector)",
            c**2 / h1 - rayleigh,
            c**2 * sp.sin(ang) ** 2 * dh / (h1 * h2),
        ),
    )
    return ProofRecord(
        name="QEM-2 Mahalanobis sensitivity of the untruncated sampler",
        statement="Neighbouring samplers N(m, (lambda H)^-1), N(m', (lambda H)^-1) form a Gaussian "
                  "mechanism pair with mu = Delta_g sqrt(lambda / lambda_min(H)) at worst.",
        result="mu = Delta_g * sqrt(lambda/lambda_min(H))",
        steps=steps,
        assumptions=("H data-independent, symmetric positive definite",
                     "||g(D) - g(D')|| <= Delta_g (C add/remove, 2C replace-one)"),
        source=_SOURCE + "; Balle & Wang 2018 Thm 8 for the profile of N(mu^2/2, mu^2) losses",
    )


@cache
def proof_qem_covariance_pair() -> ProofRecord:
    """QEM-2, data-dependent covariance: H(D') = H + beta v v^T; whitened, the neighbour is
    N(a, (I + beta w w^T)^-1) with w = H^-1/2 v; for g(D) = 0, a = -sqrt(lambda) w/(1 + c)."""
    w, v = _vec("w", 2), _vec("v", 2)
    h = _sym2("h")
    eye = sp.eye(2)
    c = _scalar(w.T * w) * _beta
    sm = eye - _beta * w * w.T / (1 + c)
    hv = h + _beta * v * v.T
    sherman = h.inv() * v / (1 + _scalar(_beta * v.T * h.inv() * v))
    u1 = w / sp.sqrt(_scalar(w.T * w))
    steps = (
        all_equal(
            "(I + beta w w^T)(I - beta w w^T/(1 + beta |w|^2)) = I (Sherman-Morrison)",
            [(e, 0) for e in ((eye + _beta * w * w.T) * sm - eye)],
        ),
        all_equal(
            "(H + beta v v^T)^-1 v = H^-1 v / (1 + beta v^T H^-1 v)",
            [(e, 0) for e in (hv.inv() * v - sherman)],
        ),
        equal(
            "along u = w/|w| the whitened neighbour variance is u^T (I + beta w w^T)^-1 u = "
            "1/(1 + c), c = beta |w|^2; orthogonal directions keep variance 1",
            _scalar(u1.T * sm * u1), 1 / (1 + c),
        ),
    )
    return ProofRecord(
        name="QEM-2 data-dependent covariance: whitened neighbour pair",
        statement="With H(D') = H(D) + beta v v^T and g(D) = 0 the pair is N(0, 1) vs "
                  "N(-sqrt(lambda)|w|/(1+c), 1/(1+c)) along w = H^-1/2 v, identical elsewhere.",
        result="a = -sqrt(lambda) |w| / (1 + c), s^2 = 1/(1 + c), c = beta |w|^2",
        steps=steps,
        assumptions=("H(D) positive definite", "g(D) = 0 so that m(D) = theta0"),
        source=_SOURCE,
    )


def normal_pair_log_ratio(x: sp.Expr, a: sp.Expr, s: sp.Expr) -> sp.Expr:
    """``log N(x; 0, 1) - log N(x; a, s^2)`` as an expanded quadratic in ``x``."""
    return sp.expand(-x**2 / 2 + (x - a) ** 2 / (2 * s**2) + sp.log(s))


@cache
def proof_qem_normal_pair() -> ProofRecord:
    """The hockey-stick divergence between N(0, 1) and N(a, s^2): the privacy loss is a quadratic
    whose roots (where it equals eps) bound the region {p > e^eps q}."""
    x, a, e = sp.symbols("x a epsilon", real=True)
    s = sp.Symbol("s", positive=True)
    loss = normal_pair_log_ratio(x, a, s)
    p = sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi)
    q = sp.exp(-((x - a) ** 2) / (2 * s**2)) / (s * sp.sqrt(2 * sp.pi))
    c2, c1, c0 = (1 / s**2 - 1) / 2, -a / s**2, a**2 / (2 * s**2) + sp.log(s) - e
    roots = sp.solve(sp.Eq(c2 * x**2 + c1 * x + c0, 0), x)
    steps = (
        equal("log p/q = (1/s^2 - 1) x^2/2 - a x/s^2 + a^2/(2 s^2) + log s",
              sp.expand(sp.expand_log(sp.log(p / q), force=False)), loss),
        all_equal("at both roots of c2 x^2 + c1 x + c0 (c0 includes -eps) the loss equals eps",
                  [(sp.simplify(loss.subs(x, r) - e), 0) for r in roots]),
        holds("c2 = (1/s^2 - 1)/2 > 0 for s < 1: {L > eps} is the outside of the roots; "
              "c2 < 0 for s > 1: the inside", sp.simplify(c2.subs(s, sp.Rational(1, 2))) > 0
              and sp.simplify(c2.subs(s, 2)) < 0, method="sign of the leading coefficient"),
    )
    return ProofRecord(
        name="QEM-2 hockey-stick between N(0,1) and N(a, s^2)",
        statement="delta(eps) = P(R) - e^eps Q(R), R = {x : c2 x^2 + c1 x + c0 > 0}: outside "
                  "the roots when s < 1, between them when s > 1, a half-line when s = 1.",
        result=str(loss),
        steps=steps,
        assumptions=("P = N(0, 1), Q = N(a, s^2), s > 0",),
        source="our derivation (quadratic privacy loss of two normals)",
    )


@cache
def proof_qem_sensitivity() -> ProofRecord:
    """QEM-3: the utility's change between neighbours and its supremum."""
    xv, v = _vec("x", 2), _vec("v", 2)  # x = theta - theta0; v the added clipped gradient
    h = _sym2("h")
    u_d = _scalar(-(xv.T * h * xv) / 2)  # g(D) = 0 wlog: the difference does not depend on it
    u_dp = _scalar(-(xv.T * (h + _beta * v * v.T) * xv) / 2 - v.T * xv)
    inner = _scalar(v.T * xv)
    t, cc, b = sp.symbols("t C b", positive=True)
    a, ap = sp.symbols("a a'", real=True)
    f = (a - ap) * (1 + _beta * (a + ap) / 2)
    vertex = f.subs({a: b, ap: -1 / _beta})
    steps = (
        equal("u(theta; D) - u(theta; D + x) = <v, x> + beta <v, x>^2/2 (x = theta - theta0)",
              u_d - u_dp, inner + _beta * inner**2 / 2),
        equal("Lagrange identity |v|^2 |x|^2 - <v, x>^2 = (v1 x2 - v2 x1)^2 >= 0 "
              "(Cauchy-Schwarz, equality for x parallel to v)",
              _scalar(v.T * v) * _scalar(xv.T * xv) - inner**2,
              (v[0] * xv[1] - v[1] * xv[0]) ** 2),
        holds("along x = t v/|v| with |v| = C the change is C t + beta C^2 t^2/2 -> oo: the "
              "sensitivity is infinite on R^p",
              sp.limit(cc * t + _beta * cc**2 * t**2 / 2, t, sp.oo) == sp.oo,
              method="sympy.limit"),
        all_equal("replace-one: f(a, a') = (a - a')(1 + beta (a + a')/2), a = <v, x>, "
                  "a' = <v', x> in [-b, b]; the interior critical point a = a' = -1/beta gives 0",
                  [(f.subs({a: -1 / _beta, ap: -1 / _beta}), 0),
                   (sp.diff(f, a).subs({a: -1 / _beta, ap: -1 / _beta}), 0),
                   (sp.diff(f, ap).subs({a: -1 / _beta, ap: -1 / _beta}), 0)]),
        equal("on the edge a = b the vertex a' = -1/beta (inside iff beta b >= 1) gives "
              "(1 + beta b)^2/(2 beta), which exceeds the corner value 2b by "
              "(beta b - 1)^2/(2 beta)",
              vertex - 2 * b, (_beta * b - 1) ** 2 / (2 * _beta)),
    )
    return ProofRecord(
        name="QEM-3 utility sensitivity and its domain",
        statement="sup_{D~D'} |u(theta;D) - u(theta;D')| = Delta_g |theta - theta0| (+ the "
                  "Gauss-Newton term): finite on a ball |theta - theta0| <= R (C R add/remove, "
                  "2 C R replace-one when beta = 0), infinite on R^p.",
        result="Delta_u(R) = C R + beta C^2 R^2/2 (add/remove)",
        steps=steps,
        assumptions=("clipped gradients |v| <= C", "beta >= 0 Gauss-Newton weight (0: H fixed)"),
        source=_SOURCE,
    )


@cache
def proof_qem_projection() -> ProofRecord:
    """QEM-4: P = B (B^T B)^-1 B^T (B = H^1/2 A) is a symmetric idempotent, so
    A (A^T H A)^-1 A^T = H^-1/2 P H^-1/2 <= H^-1."""
    bm = sp.Matrix(3, 2, sp.symbols("b1:7", real=True))
    gram = bm.T * bm
    det = gram.det()
    num = bm * gram.adjugate() * bm.T  # P = num / det (polynomial identities below)
    eye = sp.eye(3)
    steps = (
        all_equal("P^2 = P for a general 3 x 2 B (full column rank): num^2 = det num, "
                  "P = B adj(B^T B) B^T / det(B^T B)",
                  [(sp.expand(e), 0) for e in (num * num - det * num)],
                  method="polynomial expansion == 0"),
        all_equal("P^T = P", [(sp.expand(e), 0) for e in (num.T - num)],
                  method="polynomial expansion == 0"),
        all_equal("(I - P)^T (I - P) = I - P (from P^2 = P = P^T), so w^T w - w^T P w = "
                  "|(I - P) w|^2 >= 0",
                  [(sp.expand(e), 0) for e in
                   ((det * eye - num).T * (det * eye - num) - det * (det * eye - num))],
                  method="polynomial expansion == 0"),
    )
    return ProofRecord(
        name="QEM-4 projection does not increase the Mahalanobis sensitivity",
        statement="v^T A (A^T H A)^-1 A^T v <= v^T H^-1 v for every full-rank A (p x k): the "
                  "projected sampler's mu is at most the unprojected one.",
        result="A (A^T H A)^-1 A^T <= H^-1 (Loewner order)",
        steps=steps,
        assumptions=("H positive definite", "A full column rank; B = H^1/2 A"),
        source=_SOURCE,
    )


#: the derivations of this module, in order (``proofs.registry`` lists them)
EXPMECH_PROOFS = (
    proof_qem_density_normal,
    proof_qem_mahalanobis,
    proof_qem_covariance_pair,
    proof_qem_normal_pair,
    proof_qem_sensitivity,
    proof_qem_projection,
)
