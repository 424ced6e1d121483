"""The noisy Wishart variants ``MV + E`` and ``M(V + E)`` and the LoRA step (WPM-7 to WPM-9).

Setting (seed 000): ``M = A^T A``, ``A`` ``r x d`` iid ``N(0, 1/r)``; ``E ~ N(0, sigma^2 I_d)``
independent of ``M``; unit ``V, V'`` with ``rho = V^T V'``; ``b = sqrt((1 - rho)/2)``,
``c = sqrt((1 + rho)/2)``, ``e_2 = (V - V')/||V - V'||``. Derived and machine-checked below:

* ``proof_post_conditional_law``: ``MV = s V + sqrt(s/r) Z_perp`` (``s ~ chi2_r / r``) has mean
  ``V`` and covariance ``(I + V V^T)/r``, equal to the Wishart covariances of
  ``proofs.wishart``; given ``s``, ``MV + E ~ N(s V, sigma^2 I + (s/r)(I - V V^T))``;
  ``||V - V'||^2 = 2(1 - rho)``, ``e_2^T V = b = -e_2^T V'``, and
  ``T = e_2^T (MV + E) | s ~ N(+-b s, sigma^2 + c^2 s / r)``.
* ``proof_post_rotation_coupling``: for the rotation ``R`` of ``span(V, V')`` with ``R V = V'``,
  ``||(R - I) u||^2 = 2 (1 - rho) ||u_plane||^2``, and ``||(MV)_plane||^2 = s^2 + s z^2 / r``.
* ``proof_chi_density``: the density of ``x = sqrt(s)``, ``s ~ chi2_r / r``, is
  ``2 (r/2)^{r/2} / Gamma(r/2) x^{r-1} e^{-r x^2 / 2}`` and integrates to 1.
* ``proof_pre_public_given_a``: given ``A`` of full row rank, ``A(V + E) ~ N(AV, sigma^2 A A^T)``
  has squared Mahalanobis sensitivity ``w^T P_A w / sigma^2``, ``P_A = A^T (A A^T)^{-1} A``
  symmetric idempotent; ``beta = ||P_A w||^2 / ||w||^2 ~ Beta(r/2, (d - r)/2)`` has mean
  ``r/d`` (the paper's "fraction r/d of the energy"); the substitution ``beta = sin^2(pi t / 2)``
  turns the Beta density into ``(pi / B) sin^{r-1} cos^{d-r-1}``.
* ``proof_pre_hidden_statistic``: given ``x = V + E`` and ``s``, ``e_2^T M x ~ N(s e_2^T x,
  (s/r)(||x||^2 - (e_2^T x)^2))``; averaging ``e_2^T x ~ N(+-b, sigma^2)`` gives
  ``N(+-b s, sigma^2 s^2 + s h / r)`` with ``h ~ sigma^2 chi'^2_{d-1}((1 + rho)/(2 sigma^2))``;
  the sign of ``dg/ds`` for ``g = (gamma s - tau)/sqrt(sigma^2 s^2 + s h / r)``; the
  ``x = sqrt(s)`` form of ``g``.
* ``proof_pre_post_processing``: ``(M, M(V + E))`` is a function of ``(V + E, A)`` with ``A``
  independent of the data and of ``E`` (structural; the kernel does not depend on ``V``).
* ``proof_lora_step``: with ``W = W_0 + B A`` and ``B_0 = 0``, ``dL/dB = G A^T``, one SGD step
  moves ``W`` by ``-eta G A^T A = -eta G M`` (the matrix mechanism, one ``M`` for every row);
  with noise ``E`` on the full gradient, by ``-eta (G + E) M`` (each row ``M(g + e)``: the
  pre-projection variant); and ``||A g||^2 = ||g||^2 chi2_r / r`` in law (mean ``||g||^2``).
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from proofs._check import all_equal, equal, holds
from proofs.record import ProofRecord, ProofStep

__all__ = [
    "WISHART_NOISY_PROOFS",
    "proof_chi_density",
    "proof_lora_step",
    "proof_post_conditional_law",
    "proof_post_rotation_coupling",
    "proof_pre_hidden_statistic",
    "proof_pre_post_processing",
    "proof_pre_public_given_a",
]

_SOURCE = "seed 000 (arXiv 2601.21719), noisy variants and LoRA; claims WPM-7, WPM-8, WPM-9"
_ASSUMPTIONS = (
    "M = A^T A, A r x d iid N(0, 1/r); E ~ N(0, sigma^2 I_d) independent of A",
    "V, V' unit vectors with rho = V^T V' in (-1, 1)",
)

rho = sp.Symbol("rho", real=True)
r = sp.Symbol("r", positive=True, integer=True)
d = sp.Symbol("d", positive=True, integer=True)
s = sp.Symbol("s", positive=True)
sigma = sp.Symbol("sigma", positive=True)
_ONE_MINUS = sp.Symbol("a", positive=True)  # 1 - rho > 0
_ONE_PLUS = sp.Symbol("p", positive=True)  # 1 + rho > 0


def _pair() -> tuple[sp.Matrix, sp.Matrix, sp.Expr]:
    """``V = e_1``, ``V' = rho e_1 + sqrt(1 - rho^2) e_2`` in R^3, with ``1 - rho = a``,
    ``1 + rho = p`` positive symbols (so square roots simplify)."""
    kappa = sp.sqrt(_ONE_MINUS * _ONE_PLUS)
    rho_ = 1 - _ONE_MINUS
    v = sp.Matrix([1, 0, 0])
    w = sp.Matrix([rho_, kappa, 0])
    return v, w, rho_


def _rho_subs(expr: sp.Expr) -> sp.Expr:
    return sp.simplify(expr.subs(_ONE_PLUS, 2 - _ONE_MINUS))


@cache
def proof_post_conditional_law() -> ProofRecord:
    from proofs.wishart import wishart_moment

    v, vp, _ = _pair()
    eye = sp.eye(3)
    # representation moments: E s = 1, Var s = 2/r, so Cov(MV) = Var(s) VV^T + E[s/r](I - VV^T)
    cov_repr = (2 / r) * v * v.T + (1 / r) * (eye - v * v.T)
    # Wishart covariances of the first column: Cov(M_i1, M_j1) (proofs.wishart)
    labels = {(0, 0): ((0, 0), (0, 0)), (1, 1): ((1, 0), (1, 0)), (0, 1): ((0, 0), (1, 0)),
              (1, 2): ((1, 0), (2, 0))}
    pairs = [(cov_repr[i, j], wishart_moment(p)) for (i, j), p in labels.items()]
    sigma_s = sigma**2 * eye + (s / r) * (eye - v * v.T)
    diff = v - vp
    norm2 = sp.simplify((diff.T * diff)[0])
    e2 = diff / sp.sqrt(2 * _ONE_MINUS)
    b = sp.sqrt(_ONE_MINUS / 2)
    c2 = _ONE_PLUS / 2
    var_t = sp.simplify((e2.T * sigma_s * e2)[0])
    # under V': covariance with V' in place of V
    sigma_sp = sigma**2 * eye + (s / r) * (eye - vp * vp.T)
    var_tp = sp.simplify((e2.T * sigma_sp * e2)[0])
    steps = (
        all_equal("Cov(MV) from the representation, Var(s) VV^T + E[s]/r (I - VV^T), equals the "
                  "Wishart covariances Cov(M_i1, M_j1) of proofs.wishart (i, j = 1, 2, 3)", pairs),
        equal("||V - V'||^2 = 2 (1 - rho)", _rho_subs(norm2), 2 * _ONE_MINUS),
        equal("e_2^T V = b = sqrt((1 - rho)/2)", _rho_subs((e2.T * v)[0]), b),
        equal("e_2^T V' = -b", _rho_subs((e2.T * vp)[0]), -b),
        equal("Var(e_2^T y | s) under V = sigma^2 + c^2 s / r, c^2 = (1 + rho)/2",
              _rho_subs(var_t), _rho_subs(sigma**2 + c2 * s / r)),
        equal("Var(e_2^T y | s) under V' is the same", _rho_subs(var_tp), _rho_subs(var_t)),
    )
    return ProofRecord(
        name="WPM-7 conditional law of MV + E",
        statement="Given s ~ chi2_r/r, MV + E ~ N(sV, sigma^2 I + (s/r)(I - VV^T)); the statistic "
                  "T = e_2^T(MV + E) is N(+-b s, sigma^2 + c^2 s/r) under V / V'.",
        result="T | s ~ N(b s, sigma**2 + (1 + rho) s / (2 r))",
        steps=steps, assumptions=_ASSUMPTIONS, source=_SOURCE)


@cache
def proof_post_rotation_coupling() -> ProofRecord:
    u1, u2, z = sp.symbols("u1 u2 z", real=True)
    kappa = sp.sqrt(_ONE_MINUS * _ONE_PLUS)
    rho_ = 1 - _ONE_MINUS
    rot = sp.Matrix([[rho_, -kappa], [kappa, rho_]])
    u = sp.Matrix([u1, u2])
    lhs = ((rot - sp.eye(2)) * u).T * ((rot - sp.eye(2)) * u)
    v = sp.Matrix([1, 0])
    plane = sp.Matrix([s, sp.sqrt(s / r) * z])  # (MV)_plane = s V + sqrt(s/r) z e_perp
    steps = (
        equal("R V = V' (R the rotation by arccos rho)", _rho_subs(((rot * v).T * sp.Matrix(
            [rho_, kappa]))[0]), 1),
        equal("R is orthogonal: R^T R = I (trace check)", _rho_subs((rot.T * rot).trace()), 2),
        equal("||(R - I) u||^2 = 2 (1 - rho) ||u||^2", _rho_subs(lhs[0]),
              2 * _ONE_MINUS * (u1**2 + u2**2)),
        equal("||(MV)_plane||^2 = s^2 + s z^2 / r", sp.simplify((plane.T * plane)[0]),
              s**2 + s * z**2 / r),
    )
    return ProofRecord(
        name="WPM-7 rotation coupling",
        statement="With A' = A R^T (same law), M'V' = R M V, and ||(R - I) MV|| / sigma = "
                  "mu_G sqrt(s^2 + s z^2 / r): joint convexity gives delta(eps) <= "
                  "E delta_G(mu_G sqrt(s^2 + s z^2/r), eps).",
        result="||(R - I) M V||^2 = 2 (1 - rho) (s^2 + s z^2 / r)",
        steps=steps, assumptions=_ASSUMPTIONS, source=_SOURCE)


@cache
def proof_chi_density() -> ProofRecord:
    x = sp.Symbol("x", positive=True)
    k = sp.Symbol("k", positive=True)
    f_s = (r / 2) ** (r / 2) / sp.gamma(r / 2) * s ** (r / 2 - 1) * sp.exp(-r * s / 2)
    f_x = 2 * (r / 2) ** (r / 2) / sp.gamma(r / 2) * x ** (r - 1) * sp.exp(-r * x**2 / 2)
    chi2 = k ** (r / 2 - 1) * sp.exp(-k / 2) / (2 ** (r / 2) * sp.gamma(r / 2))
    total = [sp.integrate(f_x.subs(r, n), (x, 0, sp.oo)) for n in (1, 2, 3, 8)]
    steps = (
        equal("the density of s = chi2_r / r is r f_chi2(r s)", sp.simplify(
            (r * chi2.subs(k, r * s)) / f_s), 1),
        equal("x = sqrt(s): f_x(x) = 2 x f_s(x^2)", sp.simplify(2 * x * f_s.subs(s, x**2) / f_x),
              1),
        all_equal("f_x integrates to 1 (r = 1, 2, 3, 8)", [(t, 1) for t in total],
                  method="sympy.integrate, exact"),
    )
    return ProofRecord(
        name="density of sqrt(chi2_r / r)",
        statement="x = sqrt(s), s ~ chi2_r/r, has density 2 (r/2)^{r/2}/Gamma(r/2) x^{r-1} "
                  "e^{-r x^2/2} on x > 0.",
        result=str(f_x), steps=steps, assumptions=_ASSUMPTIONS, source=_SOURCE)


@cache
def proof_pre_public_given_a() -> ProofRecord:
    a11, a12, a13, a21, a22, a23 = sp.symbols("a11 a12 a13 a21 a22 a23", real=True)
    w1, w2, w3 = sp.symbols("w1 w2 w3", real=True)
    a = sp.Matrix([[a11, a12, a13], [a21, a22, a23]])
    w = sp.Matrix([w1, w2, w3])
    gram = a * a.T
    det = gram.det()
    adj = gram.adjugate()  # (A A^T)^{-1} = adj / det; identities below are multiplied by det
    proj_num = a.T * adj * a  # det * P_A
    maha_num = ((a * w).T * adj * (a * w))[0]  # det * (Aw)^T (AA^T)^{-1} (Aw)
    t = sp.Symbol("t", positive=True)
    sn, cs = sp.Symbol("S", positive=True), sp.Symbol("C", positive=True)
    beta = sn**2
    # Beta density times d beta / dt with sin^2 + cos^2 = 1, d(sin^2(pi t/2))/dt = pi sin cos
    jac = sp.pi * sn * cs
    transformed = beta ** (r / 2 - 1) * (1 - beta) ** ((d - r) / 2 - 1) * jac
    expected = sp.pi * sn ** (r - 1) * cs ** (d - r - 1)
    transformed = transformed.subs(1 - sn**2, cs**2)
    mean = sp.simplify((r / 2) / (r / 2 + (d - r) / 2))
    steps = (
        equal("(Aw)^T (AA^T)^{-1} (Aw) = w^T P_A w, P_A = A^T (A A^T)^{-1} A (2 x 3 A; both "
              "sides times det(AA^T))", sp.expand(maha_num - (w.T * proj_num * w)[0]), 0),
        holds("adj(AA^T) (AA^T) = det(AA^T) I (so adj/det is the inverse)",
              (adj * gram - det * sp.eye(2)).applyfunc(sp.expand) == sp.zeros(2, 2),
              "expand == 0"),
        holds("P_A is symmetric", (proj_num - proj_num.T).applyfunc(sp.expand) == sp.zeros(3, 3),
              "expand(det P - det P^T) == 0"),
        holds("P_A is idempotent: (det P)^2 = det * (det P)",
              (proj_num * proj_num - det * proj_num).applyfunc(sp.expand) == sp.zeros(3, 3),
              "expand == 0"),
        equal("E beta = (r/2) / (r/2 + (d-r)/2) = r/d (Beta(r/2, (d-r)/2) mean)", mean, r / d),
        equal("d/dt sin^2(pi t/2) = pi sin(pi t/2) cos(pi t/2)",
              sp.diff(sp.sin(sp.pi * t / 2) ** 2, t),
              sp.pi * sp.sin(sp.pi * t / 2) * sp.cos(sp.pi * t / 2)),
        equal("Beta density times the Jacobian = pi sin^{r-1} cos^{d-r-1} (S, C > 0, "
              "1 - S^2 = C^2)", sp.powsimp(sp.expand_power_base(transformed, force=False),
                                           force=False), expected),
    )
    return ProofRecord(
        name="WPM-8 public-matrix profile of M(V + E)",
        statement="Given A, M(V+E) determines A(V+E) ~ N(AV, sigma^2 AA^T), a Gaussian mechanism "
                  "with sensitivity ||P_A w||/sigma; beta = ||P_A w||^2/||w||^2 ~ Beta(r/2, "
                  "(d-r)/2), E beta = r/d; delta = E_beta delta_G(mu sqrt(beta), eps).",
        result="delta(eps) = (pi/B(r/2,(d-r)/2)) int_0^1 delta_G(mu sin(pi t/2), eps) "
               "sin^(r-1)(pi t/2) cos^(d-r-1)(pi t/2) dt",
        steps=steps, assumptions=_ASSUMPTIONS + ("A has full row rank r <= d (a.s.)",),
        source=_SOURCE)


@cache
def proof_pre_hidden_statistic() -> ProofRecord:
    tau, gamma = sp.symbols("tau gamma", real=True)
    hp = sp.Symbol("h", positive=True)
    x = sp.Symbol("x", positive=True)
    xs = sp.Symbol("x_star", positive=True)
    b = sp.Symbol("b", positive=True)
    # T = s g + sqrt(s h / r) Z with g ~ N(gamma, sigma^2), Z ~ N(0,1) independent
    mean = s * gamma
    var = s**2 * sigma**2 + s * hp / r
    gfun = (gamma * s - tau) / sp.sqrt(sigma**2 * s**2 + s * hp / r)
    dg = sp.diff(gfun, s)
    slope = gamma * s * hp / (2 * r) + tau * sigma**2 * s + tau * hp / (2 * r)
    v, vp, _ = _pair()
    diff = v - vp
    e2 = diff / sp.sqrt(2 * _ONE_MINUS)
    perp_v = v - (e2.T * v)[0] * e2
    perp_vp = vp - (e2.T * vp)[0] * e2
    g_b = (b * s - b * xs**2) / sp.sqrt(sigma**2 * s**2 + s * hp / r)
    g_x = b * (x**2 - xs**2) / (x * sp.sqrt(sigma**2 * x**2 + hp / r))
    from sympy.stats import E as expect
    from sympy.stats import Normal, variance

    g_rv = Normal("G", gamma, sigma)
    z_rv = Normal("Z", 0, 1)
    t_rv = s * g_rv + sp.sqrt(s * hp / r) * z_rv
    x1, x2, x3 = sp.symbols("x1 x2 x3", real=True)
    xv = sp.Matrix([x1, x2, x3])
    wv = sp.Matrix([0, 1, 0])  # e_2 as a unit vector
    n2 = (xv.T * xv)[0]
    perp = sp.eye(3) - xv * xv.T / n2  # projection orthogonal to x
    steps = (
        equal("Var(e_2^T Z_perp(x)) ||x||^2 = ||x||^2 - (e_2^T x)^2 (Z_perp ~ N(0, I - x^ x^T))",
              sp.simplify((wv.T * perp * wv)[0] * n2), n2 - (wv.T * xv)[0] ** 2),
        equal("E[s G + sqrt(s h/r) Z] = s gamma (G ~ N(gamma, sigma^2), Z ~ N(0, 1), sympy.stats)",
              sp.simplify(expect(t_rv)), mean),
        equal("Var[s G + sqrt(s h/r) Z] = s^2 sigma^2 + s h / r (sympy.stats)",
              sp.simplify(variance(t_rv)), var),
        equal("dg/ds * (sigma^2 s^2 + s h/r)^{3/2} = gamma s h/(2r) + tau sigma^2 s + "
              "tau h/(2r)", sp.simplify(dg * (sigma**2 * s**2 + s * hp / r) ** sp.Rational(3, 2)),
              slope),
        equal("||P_perp(e_2) V||^2 = (1 + rho)/2 = c^2", _rho_subs((perp_v.T * perp_v)[0]),
              _rho_subs(_ONE_PLUS / 2)),
        equal("||P_perp(e_2) V'||^2 = c^2 as well (same law of h under both)",
              _rho_subs((perp_vp.T * perp_vp)[0]), _rho_subs(_ONE_PLUS / 2)),
        equal("with s = x^2 and tau = b x*^2: g = b (x^2 - x*^2) / (x sqrt(sigma^2 x^2 + h/r))",
              sp.simplify(g_b.subs(s, x**2) - g_x), 0),
    )
    return ProofRecord(
        name="WPM-8 output-only statistic e_2^T M(V + E)",
        statement="Given x = V + E and s = x^T M x/||x||^2 ~ chi2_r/r (independent of x), "
                  "Mx = ||x||(s x^ + sqrt(s/r) Z_perp), so e_2^T y | (s, h) ~ N(+-b s, "
                  "sigma^2 s^2 + s h/r), h = ||x||^2 - (e_2^T x)^2 ~ sigma^2 chi'^2_{d-1}"
                  "((1+rho)/(2 sigma^2)) under both neighbours.",
        result="P[T > tau] = E Phi((gamma s - tau)/sqrt(sigma^2 s^2 + s h/r))",
        steps=steps, assumptions=_ASSUMPTIONS, source=_SOURCE)


@cache
def proof_pre_post_processing() -> ProofRecord:
    a = sp.MatrixSymbol("A", 2, 3)
    x = sp.MatrixSymbol("x", 3, 1)
    m = a.T * a
    steps = (
        holds("M = A^T A is symmetric: (A^T A)^T = A^T A",
              sp.simplify((m.T - m).as_explicit()) == sp.zeros(3, 3), "matrix identity"),
        holds("y = M x depends on the data only through x = V + E (the map (x, A) -> (A, A^T A x) "
              "has no V in it)", sp.Symbol("V") not in (m * x).free_symbols,
              "free symbols of A^T A x"),
        ProofStep("post-processing: for a kernel K independent of the data, "
                  "H_{e^eps}(K P || K Q) <= H_{e^eps}(P || Q) (data-processing inequality of "
                  "the hockey-stick divergence; Dwork & Roth 2014, Prop. 2.1)",
                  "cited theorem (not machine-checked)", True),
    )
    return ProofRecord(
        name="WPM-8 post-processing",
        statement="With A drawn independently of the data and of E, (A, M(V + E)) is a "
                  "randomised function of the Gaussian output V + E; its profile, and that of "
                  "M(V + E) alone, is at most delta_G(||V - V'||/sigma, eps).",
        result="delta_{M(V+E)} <= delta_{(A, M(V+E))} <= delta_G",
        steps=steps, assumptions=_ASSUMPTIONS, source=_SOURCE)


@cache
def proof_lora_step() -> ProofRecord:
    n_out, n_in, rank = 2, 3, 2
    gsym = sp.Matrix(n_out, n_in, lambda i, j: sp.Symbol(f"G{i}{j}", real=True))
    asym = sp.Matrix(rank, n_in, lambda i, j: sp.Symbol(f"A{i}{j}", real=True))
    bsym = sp.Matrix(n_out, rank, lambda i, j: sp.Symbol(f"B{i}{j}", real=True))
    w0 = sp.Matrix(n_out, n_in, lambda i, j: sp.Symbol(f"W{i}{j}", real=True))
    esym = sp.Matrix(n_out, n_in, lambda i, j: sp.Symbol(f"E{i}{j}", real=True))
    eta = sp.Symbol("eta", positive=True)
    # L linear in W with gradient G: L = sum_ij G_ij W_ij (first-order model of one step)
    loss = sum((gsym.multiply_elementwise(w0 + bsym * asym)), sp.Integer(0))
    grad_b = sp.Matrix(n_out, rank, lambda i, j: sp.diff(loss, bsym[i, j]))
    step_w = (-eta * grad_b) * asym  # B_1 = -eta dL/dB at B_0 = 0; W_1 - W_0 = B_1 A
    noisy = (-eta * (gsym + esym) * asym.T) * asym
    m = asym.T * asym
    g_col = sp.Matrix([sp.Symbol(f"g{j}", real=True) for j in range(n_in)])
    a_g = asym * g_col
    steps = (
        holds("dL/dB = G A^T (chain rule through W = W_0 + B A)",
              sp.simplify(grad_b - gsym * asym.T) == sp.zeros(n_out, rank), "matrix identity"),
        holds("one step from B_0 = 0: W_1 - W_0 = -eta G A^T A = -eta G M",
              sp.simplify(step_w - (-eta * gsym * m)) == sp.zeros(n_out, n_in),
              "matrix identity"),
        holds("noise on the full gradient: W_1 - W_0 = -eta (G + E) M; row j is "
              "-eta (M (g_j + e_j))^T since M is symmetric",
              sp.simplify(noisy - (-eta * (m * (gsym + esym).T).T)) == sp.zeros(n_out, n_in),
              "matrix identity"),
        equal("||A g||^2 = sum_k (sum_j A_kj g_j)^2 has mean ||g||^2 when A_kj ~ N(0, 1/r) iid "
              "(r = 2): E = sum_kj g_j^2 / r", sum(sp.expand(x**2) for x in a_g).subs(
                  {asym[i, j] * asym[i, k]: 0 for i in range(rank) for j in range(n_in)
                   for k in range(n_in) if j != k}).subs(
                  {asym[i, j] ** 2: sp.Rational(1, rank) for i in range(rank)
                   for j in range(n_in)}),
              sum(gj**2 for gj in g_col)),
    )
    return ProofRecord(
        name="WPM-9 one LoRA step with frozen A",
        statement="With W = W_0 + BA, B_0 = 0 and A frozen, one SGD step moves W by -eta G A^T A "
                  "= -eta G M (the Wishart matrix mechanism, one M for all rows; not DP without "
                  "noise, WPM-5); with Gaussian noise on the full gradient it moves W by "
                  "-eta (G + E) M, the pre-projection variant row by row.",
        result="Delta W = -eta G A^T A",
        steps=steps, assumptions=_ASSUMPTIONS, source=_SOURCE)


#: every derivation of this module, in order (listed in proofs/registry.py)
WISHART_NOISY_PROOFS = (
    proof_post_conditional_law,
    proof_post_rotation_coupling,
    proof_chi_density,
    proof_pre_public_given_a,
    proof_pre_hidden_statistic,
    proof_pre_post_processing,
    proof_lora_step,
)
