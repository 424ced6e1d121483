"""LoRA training dynamics: Theorem B.1 of seed 001 (= Hao et al. 2024, Theorem 2.1), eqs. 21-27.

LoRA trains ``W0 + B A`` with ``A`` (r x m) initialised iid N(0, 1/r) and ``B`` (n x r) at zero,
by SGD on the full-weight gradient ``G_t = grad_W L^t`` (n x m), eqs. 21-22::

    A^{t+1} = A^t - eta B^{tT} G_t,        B^{t+1} = B^t - eta G_t A^{tT}.

Theorem B.1 writes ``A^t = A^0 + eta A^0 f_A(t)`` and ``B^t = eta f_B(t) A^{0T}`` (eq. 23).
Substituting into eqs. 21-22 (our derivation; checked exactly in the tests)::

    A^{t+1} = A^0 + eta A^0 (f_A(t) - eta f_B(t)^T G_t)
    B^{t+1} = eta (f_B(t) - G_t (I + eta f_A(t)^T)) A^{0T}

so ``f_A(0) = 0``, ``f_B(0) = 0`` and, independently of ``A^0``::

    f_A(t+1) = f_A(t) - eta f_B(t)^T G_t,      f_B(t+1) = f_B(t) - G_t (I + eta f_A(t)^T).

The theorem claims ``||f_A(t)||_2 <= eta L^2 (1 - (eta^2 L^2)^t) / (1 - eta^2 L^2)`` whenever
``||sum_{s<=T} G_s||_F <= L`` for every T, and the seed concludes (eq. 25) that the term
``Delta B Delta A = Delta B A^0 (eta f_A(T))`` is negligible against ``Delta B A^0`` when
``eta L << 1``; with ``A`` frozen the update is exactly ``-eta sum_t G_t A^{0T} A^0`` (eq. 27).

Why the bound cannot hold (our derivation): to first order in eta, ``f_B(t) = -S_t`` with
``S_t = sum_{s<t} G_s``, hence ``f_A(T) = eta sum_t S_t^T G_t + O(eta^3)``, whose symmetric part is
``(eta/2) (S_T^T S_T - sum_t G_t^T G_t)``. The assumption bounds the first term by ``eta L^2/2``
but says nothing about ``sum_t G_t^T G_t``, which grows linearly in T when the gradients
oscillate. The smallest counterexample needs two steps: ``G_0 = g``, ``G_1 = -2g`` keeps both
partial sums at norm ``||g||_F = L`` and gives ``f_A(2) = eta G_0^T G_1 = -2 eta g^T g``, of
norm ``2 eta L^2`` for rank-one g, above the bound ``eta L^2 (1 + eta^2 L^2)`` at every eta L < 1.
Such sequences are genuine SGD gradients: the linear per-step losses ``L^t(W) = <C_t, W>``
(e.g. ``+-u^T y`` on the input x, gradient ``+-u x^T``, eq. 18) have gradient ``C_t`` at every W.

Two kinds of function live here. The exact ones (``lora_recursion``, ``lora_direct``,
``lora_frozen``, ``theorem_b1_bound``, ``operator_norm_bound``, ``theorem_b1_check``,
``oscillating_counterexample``, ``first_certified_violation``) use rational arithmetic
(python-flint ``fmpq_mat``) and return certified :class:`~certify.numerics.bound.Bound`
enclosures. ``least_squares_experiment`` (with ``float_recursion``) is a plain float64
experiment (numpy, fixed seed): its numbers are measurements, not certificates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any, Union

import numpy as np
from flint import arb, arb_mat, ctx, fmpq, fmpq_mat

from certify._validate import check_nonnegative, check_positive, check_positive_int, to_exact
from certify.errors import CertifyError, Inconclusive, InvalidArgument
from certify.numerics.bound import Bound

#: a matrix given exactly: an ``fmpq_mat``, a numpy array (floats are their exact binary values)
#: or nested rows of exact numbers (int, Fraction, Decimal, decimal or "p/q" strings, floats)
MatrixLike = Union[fmpq_mat, np.ndarray, Sequence[Sequence[Any]]]

#: working precision (bits) of the operator-norm enclosures
_PREC = 192
#: squarings in the trace-power upper bound: ||M||_2 <= tr((M^T M)^(2^k))^(1/2^(k+1)), which
#: over-estimates by at most a factor m^(1/2^(k+1)) (1 + 4e-8 relative for m = 2)
_SQUARINGS = 24
#: significant digits kept when an exact rational with a long expansion is rounded outward
_DIGITS = 40


# -- exact matrix helpers ------------------------------------------------------------------
def _fmpq(name: str, value: object) -> fmpq:
    q = to_exact(name, value)
    return fmpq(q.numerator, q.denominator)


def _to_fmpq_mat(name: str, value: object) -> fmpq_mat:
    """An exact ``fmpq_mat`` from ``value``; ragged, empty or non-numeric input is rejected."""
    if isinstance(value, fmpq_mat):
        if value.nrows() == 0 or value.ncols() == 0:
            raise InvalidArgument(f"{name} must be a non-empty matrix, got shape "
                                  f"{value.nrows()}x{value.ncols()}.")
        return value
    if isinstance(value, np.ndarray):
        if value.ndim != 2:
            raise InvalidArgument(f"{name} must be a 2-d matrix, got shape {value.shape}.")
        rows: list[list[Any]] = value.tolist()
    elif isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        rows = []
        for row in value:
            if not isinstance(row, Sequence) or isinstance(row, (str, bytes)):
                raise InvalidArgument(f"{name}={value!r} must be a sequence of rows.")
            rows.append(list(row))
    else:
        raise InvalidArgument(f"{name}={value!r} must be a matrix.")
    if not rows or not rows[0] or any(len(row) != len(rows[0]) for row in rows):
        raise InvalidArgument(f"{name}={value!r} must be a non-empty rectangular matrix.")
    entries = [_fmpq(f"{name}[{i}][{j}]", x)
               for i, row in enumerate(rows) for j, x in enumerate(row)]
    return fmpq_mat(len(rows), len(rows[0]), entries)


def _gradients(gradients: object) -> list[fmpq_mat]:
    if isinstance(gradients, (str, bytes)) or not isinstance(gradients, Sequence):
        raise InvalidArgument(f"gradients={gradients!r} must be a sequence of matrices.")
    mats = [_to_fmpq_mat(f"gradients[{t}]", g) for t, g in enumerate(gradients)]
    if not mats:
        raise InvalidArgument("gradients=[] must contain at least one matrix.")
    n, m = mats[0].nrows(), mats[0].ncols()
    for t, g in enumerate(mats):
        if (g.nrows(), g.ncols()) != (n, m):
            raise InvalidArgument(f"gradients[{t}] has shape {g.nrows()}x{g.ncols()}, "
                                  f"expected {n}x{m} like gradients[0].")
    return mats


def _a0(A0: object, m: int) -> fmpq_mat:
    a0 = _to_fmpq_mat("A0", A0)
    if a0.ncols() != m:
        raise InvalidArgument(f"A0 has {a0.ncols()} columns; the gradients have m={m}.")
    return a0


def _identity(m: int) -> fmpq_mat:
    return fmpq_mat(m, m, [1 if i == j else 0 for i in range(m) for j in range(m)])


def _frob_sq(M: fmpq_mat) -> Fraction:
    """``||M||_F^2``, exactly."""
    total = fmpq(0)
    for x in M.entries():
        total += x * x
    return Fraction(int(total.p), int(total.q))


def _nonnegative_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgument(f"{name}={value!r} must be a non-negative integer.")
    return value


# -- the recursions (exact) ----------------------------------------------------------------
def _step(fA: fmpq_mat, fB: fmpq_mat, G: fmpq_mat, eta: fmpq, eye: fmpq_mat
          ) -> tuple[fmpq_mat, fmpq_mat]:
    """One step of the f_A / f_B recursion (module docstring; both use the old values)."""
    return fA - eta * (fB.transpose() * G), fB - G * (eye + eta * fA.transpose())


def lora_recursion(gradients: Sequence[MatrixLike], eta: object,
                   A0: MatrixLike | None = None) -> tuple[fmpq_mat, fmpq_mat]:
    """``(f_A(T), f_B(T))`` of Theorem B.1 (eq. 23) after ``T = len(gradients)`` SGD steps.

    Exact rational arithmetic on the recursion derived in the module docstring, which does not
    involve ``A^0``. When ``A0`` is given, eqs. 21-22 are also run directly and eq. 23
    (``A^T = A^0 + eta A^0 f_A(T)``, ``B^T = eta f_B(T) A^{0T}``) is checked exactly;
    a mismatch (which would be an algebra error) raises :class:`CertifyError`.
    """
    Gs = _gradients(gradients)
    e = _fmpq("eta", check_positive("eta", eta))
    n, m = Gs[0].nrows(), Gs[0].ncols()
    fA, fB, eye = fmpq_mat(m, m), fmpq_mat(n, m), _identity(m)
    for G in Gs:
        fA, fB = _step(fA, fB, G, e, eye)
    if A0 is not None:
        a0 = _a0(A0, m)
        A_T, B_T = lora_direct(Gs, eta, a0)
        A_23, B_23 = a0 + e * (a0 * fA), e * (fB * a0.transpose())
        if not (A_T == A_23 and B_T == B_23):
            raise CertifyError("eq. 23 does not reproduce the direct recursion (eqs. 21-22).")
    return fA, fB


def lora_direct(gradients: Sequence[MatrixLike], eta: object, A0: MatrixLike
                ) -> tuple[fmpq_mat, fmpq_mat]:
    """``(A^T, B^T)`` from eqs. 21-22 with ``B^0 = 0``, exactly (both updates use step-t values)."""
    Gs = _gradients(gradients)
    e = _fmpq("eta", check_positive("eta", eta))
    A = _a0(A0, Gs[0].ncols())
    B = fmpq_mat(Gs[0].nrows(), A.nrows())
    for G in Gs:
        A, B = A - e * (B.transpose() * G), B - e * (G * A.transpose())
    return A, B


def lora_frozen(gradients: Sequence[MatrixLike], eta: object, A0: MatrixLike) -> fmpq_mat:
    """``B^T`` when only B is trained (eq. 22 with ``A^t = A^0``), exactly.

    Eq. 27 says ``B^T A^0 = -eta sum_t G_t A^{0T} A^0``; the tests check it.
    """
    Gs = _gradients(gradients)
    e = _fmpq("eta", check_positive("eta", eta))
    a0 = _a0(A0, Gs[0].ncols())
    B = fmpq_mat(Gs[0].nrows(), a0.nrows())
    for G in Gs:
        B = B - e * (G * a0.transpose())
    return B


def _b1_bound_sq(eta: Fraction, L2: Fraction, t: int) -> Fraction:
    """``eta L^2 sum_{k<t} (eta^2 L^2)^k``, which is Theorem B.1's bound (and its t-fold
    limit ``eta L^2 t`` at eta L = 1); only ``L^2`` enters, so it is rational for rational L^2."""
    x = eta * eta * L2
    geometric = Fraction(t) if x == 1 else (1 - x**t) / (1 - x)
    return eta * L2 * geometric


def theorem_b1_bound(eta: object, L: object, t: object) -> Fraction:
    """Theorem B.1's bound ``eta L^2 (1 - (eta^2 L^2)^t) / (1 - eta^2 L^2)`` on ``||f_A(t)||_2``,
    exactly (at ``eta L = 1`` the removable singularity's value ``eta L^2 t``)."""
    e = check_positive("eta", eta)
    ell = to_exact("L", L)
    if ell < 0:
        raise InvalidArgument(f"L={L} must be non-negative.")
    return _b1_bound_sq(e, ell * ell, _nonnegative_int("t", t))


# -- certified operator norm ---------------------------------------------------------------
def _float_matrix(M: fmpq_mat) -> np.ndarray:
    try:
        a = np.array([[float(M[i, j]) for j in range(M.ncols())] for i in range(M.nrows())])
    except OverflowError:
        a = np.array([[math.inf]])
    if not np.all(np.isfinite(a)):
        raise Inconclusive("matrix entries overflow float64; no starting vector for the norm")
    return a


def _rayleigh_lower_sq(M: fmpq_mat) -> Fraction:
    """A rational ``||M w||^2 / ||w||^2 <= ||M||_2^2`` with ``w`` a (rationalised) float top
    right singular vector: a lower bound for every nonzero w, tight when w is accurate."""
    a = _float_matrix(M)
    if not np.any(a):
        return Fraction(0)
    _, _, vt = np.linalg.svd(a)
    w = fmpq_mat(M.ncols(), 1, [fmpq(*Fraction(float(x)).as_integer_ratio()) for x in vt[0]])
    ww = _frob_sq(w)
    if ww == 0:  # pragma: no cover - an SVD returns unit vectors
        return Fraction(0)
    return _frob_sq(M * w) / ww


def _trace_power_upper(M: fmpq_mat) -> arb:
    """A ball whose upper end bounds ``||M||_2``: ``tr(P^(2^k))^(1/2^(k+1))`` with ``P = M^T M``
    (positive semi-definite, so the trace of its power dominates ``lambda_max^(2^k)``)."""
    P = arb_mat(M.transpose() * M)
    for _ in range(_SQUARINGS):
        P = P * P
    tr = sum((P[i, i] for i in range(P.nrows())), arb(0))
    if not tr.is_finite():
        raise Inconclusive(f"trace-power bound is not finite ({tr})")
    if tr.upper() <= 0:
        return arb(0)
    return (tr.upper().log() / 2 ** (_SQUARINGS + 1)).exp()


def _sqrt_bound(lo2: Fraction, hi: arb | None = None) -> Bound:
    """A Bound ``[sqrt(lo2), hi]`` (``hi`` defaults to ``sqrt(lo2)``), outward rounded."""
    with ctx.workprec(_PREC):
        lo = arb(fmpq(lo2.numerator, lo2.denominator)).sqrt()
        ball = lo if hi is None else lo.union(hi)
        return Bound.from_arb(ball, _PREC)


def operator_norm_bound(M: MatrixLike) -> Bound:
    """A certified enclosure of the spectral norm ``||M||_2`` of an exact matrix.

    Lower end: the Rayleigh quotient of an exact rational vector (always a lower bound);
    upper end: the trace-power bound (at most ``m^(2^-25)`` times too large), both enclosed in
    Arb and rounded outward. A rank-one M is enclosed to the working precision.
    """
    mat = _to_fmpq_mat("M", M)
    lo2 = _rayleigh_lower_sq(mat)
    with ctx.workprec(_PREC):
        hi = _trace_power_upper(mat)
        # the true value lies in [sqrt(lo2), hi]; the two ends are each rigorous, so take the hull
        return _sqrt_bound(lo2, hi)


# -- the oscillating counterexample --------------------------------------------------------
def oscillating_gradients(g: MatrixLike, T: object, amplitude: object = 1) -> list[fmpq_mat]:
    """``G_0 = g``, ``G_t = (-1)^t a g`` for ``1 <= t < T``: partial sums alternate between g
    and ``(1 - a) g``, so for ``0 < a <= 2`` they never exceed ``||g||_F`` (Theorem B.1's
    assumption holds with ``L = ||g||_F`` for every T, also beyond the horizon), while
    ``sum_t ||G_t||_F^2`` grows linearly. ``a = 1`` is the pattern ``+g, -g, +g, ...``."""
    mat = _to_fmpq_mat("g", g)
    steps = check_positive_int("T", T)
    a = to_exact("amplitude", amplitude)
    if not 0 < a <= 2:
        raise InvalidArgument(f"amplitude={amplitude} must be in (0, 2].")
    fa = fmpq(a.numerator, a.denominator)
    return [mat if t == 0 else (fa if t % 2 == 0 else -fa) * mat for t in range(steps)]


def _assess(fA: fmpq_mat, e: Fraction, L2: Fraction, t: int) -> dict[str, Any]:
    """The certified comparison of ``||f_A(t)||_2`` with Theorem B.1's bound at ``L^2 = L2``."""
    fa_norm = operator_norm_bound(fA)
    bound = _b1_bound_sq(e, L2, t)
    theorem = Bound.from_fractions(bound, bound, _PREC, digits=_DIGITS)
    with ctx.workprec(_PREC):
        ell = arb(fmpq(L2.numerator, L2.denominator)).sqrt()
        eta_arb = arb(fmpq(e.numerator, e.denominator))
        eta_l = Bound.from_arb(eta_arb * ell, _PREC)
        eta_fa = Bound.from_arb(eta_arb * fa_norm.to_arb(), _PREC)
    x = e * e * L2
    return {
        "T": t,
        "L_squared": L2,
        "L": _sqrt_bound(L2),
        "eta_L": eta_l,
        "fA_norm": fa_norm,
        "theorem_bound": theorem,
        "violated": fa_norm.gt(theorem),
        "eta_fA_norm": eta_fa,
        "paper_limit": (Bound.from_fractions(x / (1 - x), x / (1 - x), _PREC, digits=_DIGITS)
                        if x < 1 else None),
    }


def theorem_b1_check(gradients: Sequence[MatrixLike], eta: object, *, L: object = None,
                     A0: MatrixLike | None = None) -> dict[str, Any]:
    """Certify whether ``||f_A(T)||_2`` (``T = len(gradients)``) exceeds Theorem B.1's bound.

    ``L`` defaults to the smallest constant satisfying the assumption,
    ``L^2 = max_{t<T} ||sum_{s<=t} G_s||_F^2`` (exact; the bound increases with L, so this is
    the reading most favourable to the theorem). Returns a dict with the exact ``eta``,
    ``L_squared``, ``sum_grad_norm_sq`` (``sum_t ||G_t||_F^2``: what really drives f_A, see the
    module docstring) and ``assumption_met`` (every partial sum checked exactly against L);
    the Bounds ``L``, ``eta_L``, ``fA_norm`` (certified enclosure of ``||f_A(T)||_2``),
    ``theorem_bound``, ``eta_fA_norm`` (the quantity eq. 25's argument needs ``<< 1``) and
    ``paper_limit`` = ``(eta L)^2 / (1 - (eta L)^2)``, its claimed limit (None if eta L >= 1);
    ``violated`` = ``fA_norm.gt(theorem_bound)`` (True, False, or None when undecided).
    When ``A0`` is given, also ``eq25_ratio`` = ``||Delta B Delta A||_F / ||Delta B A^0||_F``
    (a Bound; None when ``Delta B A^0 = 0``) and ``eq25_ratio_exceeds_paper`` =
    ``eq25_ratio.gt(eta * theorem_bound)``: the seed bounds this ratio by
    ``eta ||f_A(T)||_2 <= eta * theorem bound`` and calls it negligible.
    """
    Gs = _gradients(gradients)
    e = check_positive("eta", eta)
    n, m = Gs[0].nrows(), Gs[0].ncols()
    partial = fmpq_mat(n, m)
    sums_sq: list[Fraction] = []
    for G in Gs:
        partial = partial + G
        sums_sq.append(_frob_sq(partial))
    if L is None:
        L2 = max(sums_sq)
    else:
        ell = to_exact("L", L)
        if ell < 0:
            raise InvalidArgument(f"L={L} must be non-negative.")
        L2 = ell * ell
    fA, fB = lora_recursion(Gs, e)
    out = _assess(fA, e, L2, len(Gs))
    out.update({
        "eta": e,
        "assumption_met": all(s <= L2 for s in sums_sq),
        "sum_grad_norm_sq": sum((_frob_sq(G) for G in Gs), Fraction(0)),
    })
    if A0 is not None:
        a0 = _a0(A0, m)
        ef = fmpq(e.numerator, e.denominator)
        dB = ef * (fB * a0.transpose())            # Delta B = B^T (B^0 = 0), eq. 23
        dA = ef * (a0 * fA)                        # Delta A = A^T - A^0, eq. 23
        den, num = _frob_sq(dB * a0), _frob_sq(dB * dA)
        ratio = _sqrt_bound(num / den) if den != 0 else None
        paper = e * _b1_bound_sq(e, L2, len(Gs))
        out["eq25_ratio"] = ratio
        out["eq25_ratio_exceeds_paper"] = None if ratio is None else ratio.gt(
            Bound.from_fractions(paper, paper, _PREC, digits=_DIGITS))
    return out


def oscillating_counterexample(eta: object, g: MatrixLike, T: object, *, amplitude: object = 1,
                               A0: MatrixLike | None = None) -> dict[str, Any]:
    """:func:`theorem_b1_check` on :func:`oscillating_gradients` ``(g, T, amplitude)``.

    The dict also holds ``amplitude`` and ``T``; ``assumption_met`` additionally requires
    ``L^2 = ||g||_F^2``, which (the partial sums being periodic) makes the assumption hold for
    every T, also after the horizon. With amplitude 1, ``f_A(4) = -2 eta g^T g + eta^3 (g^T g)^2``
    (by hand from the recursion), so for rank-one g with ``x = (eta L)^2`` the bound fails at
    T = 4 exactly when ``2x + x^2 + x^3 < 1``, i.e. ``eta L < 0.62661...``; for larger eta L
    ``eta ||f_A||_2`` was observed to saturate below 1 (A loses its component along g's row
    space), which the bound exceeds once ``eta L >= 1/sqrt 2``. With amplitude 2,
    ``f_A(2) = -2 eta g^T g`` breaks the bound for every ``eta L < 1`` (rank-one g).
    """
    Gs = oscillating_gradients(g, T, amplitude)
    out = theorem_b1_check(Gs, eta, A0=A0)
    out["amplitude"] = to_exact("amplitude", amplitude)
    out["assumption_met"] = out["assumption_met"] and out["L_squared"] == _frob_sq(Gs[0])
    return out


def first_certified_violation(eta: object, g: MatrixLike, T_max: object, *,
                              amplitude: object = 1) -> int | None:
    """The smallest ``T <= T_max`` at which :func:`oscillating_counterexample` certifies
    ``||f_A(T)||_2 >`` Theorem B.1's bound (L^2 taken over the first T partial sums), else None."""
    e = check_positive("eta", eta)
    Gs = oscillating_gradients(g, T_max, amplitude)
    n, m = Gs[0].nrows(), Gs[0].ncols()
    ef, eye = fmpq(e.numerator, e.denominator), _identity(m)
    fA, fB, partial = fmpq_mat(m, m), fmpq_mat(n, m), fmpq_mat(n, m)
    L2 = Fraction(0)
    for t, G in enumerate(Gs, start=1):
        partial = partial + G
        L2 = max(L2, _frob_sq(partial))
        fA, fB = _step(fA, fB, G, ef, eye)
        # cheap exact pre-test: the Rayleigh lower bound must beat the bound at all
        if _rayleigh_lower_sq(fA) > _b1_bound_sq(e, L2, t) ** 2 and \
                _assess(fA, e, L2, t)["violated"] is True:
            return t
    return None


# -- the float experiment ------------------------------------------------------------------
def float_recursion(gradients: Sequence[np.ndarray], eta: float) -> tuple[np.ndarray, np.ndarray]:
    """The f_A / f_B recursion in float64 (a measurement, not a certificate)."""
    if not gradients:
        raise InvalidArgument("gradients=[] must contain at least one matrix.")
    n, m = np.shape(gradients[0])
    fA, fB, eye = np.zeros((m, m)), np.zeros((n, m)), np.eye(m)
    for G in gradients:
        fA, fB = fA - eta * fB.T @ G, fB - G @ (eye + eta * fA.T)
    return fA, fB


class _Problem:
    """The synthetic least-squares problem: ``y = W* x + noise``, loss = mean squared error
    over the batch and the n outputs, so ``grad_W = (2 / (b n)) (W X_b^T - Y_b^T) X_b`` (eq. 18
    summed over the batch). Batches are drawn once, so every run sees the same sequence."""

    def __init__(self, n: int, m: int, r: int, steps: int, batch: int, seed: int,
                 samples: int, noise: float, target_rank: int | None = None) -> None:
        rng = np.random.default_rng(seed)
        self.W0 = rng.normal(0.0, 1.0 / math.sqrt(m), (n, m))
        if target_rank is None:  # a full-rank shift: LoRA (rank r) cannot fit it exactly
            shift = rng.normal(0.0, 1.0 / math.sqrt(m), (n, m))
        else:  # a rank-k shift with the same entry variance 1/m
            k = target_rank
            shift = rng.normal(size=(n, k)) @ rng.normal(0.0, 1.0 / math.sqrt(k * m), (k, m))
        self.W_star = self.W0 + shift
        self.X = rng.normal(size=(samples, m))
        self.Y = self.X @ self.W_star.T + noise * rng.normal(size=(samples, n))
        self.A0 = rng.normal(0.0, 1.0 / math.sqrt(r), (r, m))  # iid N(0, 1/r), as in the seed
        self.batches = [rng.choice(samples, batch, replace=False) for _ in range(steps)]
        self.n, self.r = n, r

    def grad(self, W: np.ndarray, idx: np.ndarray) -> np.ndarray:
        Xb, Yb = self.X[idx], self.Y[idx]
        return (2.0 / (len(idx) * self.n)) * (Xb @ W.T - Yb).T @ Xb

    def loss(self, W: np.ndarray) -> float:
        return float(np.mean((self.X @ W.T - self.Y) ** 2))

    def run(self, eta: float, train_A: bool) -> dict[str, Any]:
        A, B = self.A0.copy(), np.zeros((self.n, self.r))
        grads = []
        with np.errstate(all="ignore"):
            for idx in self.batches:
                G = self.grad(self.W0 + B @ A, idx)
                grads.append(G)
                if train_A:
                    A, B = A - eta * B.T @ G, B - eta * G @ A.T   # eqs. 21-22
                else:
                    B = B - eta * G @ self.A0.T                   # eq. 22 with A frozen
        partial = np.cumsum(np.array(grads), axis=0)
        L = float(np.max(np.linalg.norm(partial, axis=(1, 2))))
        return {"A": A, "B": B, "grads": grads, "L": L, "W": self.W0 + B @ A}


def _fro(x: np.ndarray) -> float:
    return float(np.linalg.norm(x))


def _float_b1_bound(eta: float, L: float, t: int) -> float:
    """Theorem B.1's bound in float64 (inf when it overflows: eta L > 1 and t large)."""
    x = (eta * L) ** 2
    try:
        return eta * L**2 * (t if x == 1 else (1 - x**t) / (1 - x))
    except OverflowError:
        return math.inf


def _eta_for(problem: _Problem, target: float) -> float:
    """Bisection in log eta on ``eta * L(eta) = target`` (L measured on the full LoRA run)."""
    def h(eta: float) -> float:
        v = eta * problem.run(eta, True)["L"]
        return v - target if math.isfinite(v) else math.inf

    lo, hi = 1e-9, 1e-3
    while h(hi) < 0:
        lo, hi = hi, 2 * hi
        if hi > 1e3:
            raise Inconclusive(f"eta_L={target} not reached for eta <= 1e3")
    for _ in range(40):
        mid = math.sqrt(lo * hi)
        if h(mid) < 0:
            lo = mid
        else:
            hi = mid
        if hi / lo < 1 + 1e-4:
            break
    eta = math.sqrt(lo * hi)
    if abs(h(eta)) > 1e-2 * target:
        raise Inconclusive(f"eta_L={target}: bisection ended at eta={eta} with eta L off by more"
                           " than 1% (eta L(eta) is not continuous or not reachable there)")
    return eta


def least_squares_experiment(eta_L_values: Sequence[float], *, n: int = 8, m: int = 16,
                             r: int = 4, steps: int = 200, batch: int = 16, seed: int = 0,
                             samples: int = 512, noise: float = 0.1,
                             target_rank: int | None = None) -> list[dict[str, float]]:
    """LoRA vs LoRA-with-A-frozen on a synthetic least-squares problem (float64, NOT certified).

    For each target ``eta L``, eta is found by bisection so that the full LoRA run's measured
    ``L = max_T ||sum_{t<=T} G_t||_F`` gives ``eta L`` within 0.01% of the target, then both runs
    are compared (same batches, same ``A^0``). Data: ``x ~ N(0, I_m)``, ``W0`` and the shift
    ``W* - W0`` with iid N(0, 1/m) entries (of rank ``target_rank`` when given), ``noise`` the
    standard deviation of the label noise; mini-batches of ``batch`` of the ``samples`` points,
    drawn without replacement at each step. Each row reports, as plain floats: ``eta``,
    ``L``, ``eta_L``; ``fA_norm`` = ``||f_A(T)||_2`` from :func:`float_recursion` on the full
    run's gradients and ``eq23_residual`` (its relative mismatch with the trained ``A^T``);
    ``theorem_bound`` (Theorem B.1 with the measured L) and ``bound_holds``;
    ``eta_fA_norm``; ``eq25_ratio`` = ``||Delta B Delta A||_F / ||Delta B A^0||_F``;
    ``gap_ratio`` = ``||W_full - W_frozen||_F / ||W_frozen - W0||_F``; ``eq27_residual`` =
    ``||B A^0 - (-eta sum_t G_t A^{0T} A^0)||_F / ||B A^0||_F`` on the frozen run (rounding
    level: eq. 27 is an identity); final training losses ``loss_full``, ``loss_frozen``.
    """
    for name, v in (("n", n), ("m", m), ("r", r), ("steps", steps), ("batch", batch),
                    ("samples", samples)):
        check_positive_int(name, v)
    if batch > samples:
        raise InvalidArgument(f"batch={batch} must not exceed samples={samples}.")
    if target_rank is not None:
        check_positive_int("target_rank", target_rank)
        if target_rank > min(n, m):
            raise InvalidArgument(
                f"target_rank={target_rank} must not exceed min(n, m)={min(n, m)}.")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidArgument(f"seed={seed!r} must be a non-negative integer.")
    check_nonnegative("noise", noise)
    targets = [float(check_positive(f"eta_L_values[{i}]", v)) for i, v in enumerate(eta_L_values)]
    if not targets:
        raise InvalidArgument("eta_L_values=[] must not be empty.")
    problem = _Problem(n, m, r, steps, batch, seed, samples, float(noise), target_rank)
    rows = []
    for target in targets:
        eta = _eta_for(problem, target)
        full, frozen = problem.run(eta, True), problem.run(eta, False)
        fA, _ = float_recursion(full["grads"], eta)
        A0 = problem.A0
        fa_norm = float(np.linalg.norm(fA, 2))
        dA, dB = full["A"] - A0, full["B"]
        bound = _float_b1_bound(eta, full["L"], steps)
        predicted = -eta * np.sum(frozen["grads"], axis=0) @ A0.T @ A0
        frozen_update = frozen["B"] @ A0
        rows.append({
            "eta_L_target": target,
            "eta": eta,
            "L": full["L"],
            "eta_L": eta * full["L"],
            "fA_norm": fa_norm,
            "eq23_residual": _fro(full["A"] - A0 - eta * A0 @ fA) / _fro(A0),
            "theorem_bound": bound,
            "bound_holds": float(fa_norm <= bound),
            "eta_fA_norm": eta * fa_norm,
            "eq25_ratio": _fro(dB @ dA) / _fro(dB @ A0),
            "gap_ratio": _fro(full["W"] - frozen["W"]) / _fro(frozen["W"] - problem.W0),
            "eq27_residual": _fro(frozen_update - predicted) / _fro(frozen_update),
            "loss_full": problem.loss(full["W"]),
            "loss_frozen": problem.loss(frozen["W"]),
        })
    return rows


__all__ = [
    "MatrixLike",
    "first_certified_violation",
    "float_recursion",
    "least_squares_experiment",
    "lora_direct",
    "lora_frozen",
    "lora_recursion",
    "operator_norm_bound",
    "oscillating_counterexample",
    "oscillating_gradients",
    "theorem_b1_bound",
    "theorem_b1_check",
]
