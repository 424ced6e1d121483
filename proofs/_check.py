"""Private helpers that turn a sympy comparison into a ``ProofStep``.

Every step's ``ok`` is the *computed* outcome of the comparison: nothing here returns a constant.
"""

from __future__ import annotations

import sympy as sp

from proofs.record import ProofStep

ZERO_METHOD = "simplify(lhs - rhs) == 0"


def is_zero(expr: sp.Expr) -> bool:
    """True when sympy proves ``expr`` identically zero: ``expand``, then ``simplify``, then the
    same after rewriting hyperbolic/trigonometric functions as exponentials. Only
    value-preserving rewrites are used (no ``force=True`` branch assumptions)."""
    e = sp.expand(sp.sympify(expr))
    if e == 0:
        return True
    if sp.simplify(e) == 0:
        return True
    return bool(sp.simplify(sp.expand(e.rewrite(sp.exp))) == 0)


def equal(claim: str, lhs: sp.Expr, rhs: sp.Expr, method: str = ZERO_METHOD) -> ProofStep:
    """Step checking ``lhs == rhs`` symbolically (``simplify(lhs - rhs) == 0``)."""
    return ProofStep(claim=claim, method=method, ok=is_zero(sp.sympify(lhs) - sp.sympify(rhs)))


def all_equal(
    claim: str, pairs: list[tuple[sp.Expr, sp.Expr]], method: str = ZERO_METHOD
) -> ProofStep:
    """One step checking every ``lhs == rhs`` in ``pairs`` (fails if ``pairs`` is empty)."""
    ok = bool(pairs) and all(is_zero(sp.sympify(a) - sp.sympify(b)) for a, b in pairs)
    return ProofStep(claim=claim, method=method, ok=ok)


def holds(claim: str, condition: object, method: str) -> ProofStep:
    """Step recording a computed sympy/bool condition; only a literal ``True`` counts as proved."""
    return ProofStep(claim=claim, method=method, ok=bool(condition is True or condition == sp.true))


def numerically_positive(claim: str, expr: sp.Expr, digits: int = 30) -> ProofStep:
    """Step checking that a closed constant is > 0 by evaluating it to ``digits`` digits and
    requiring the value to exceed its own error estimate by a wide margin."""
    val = sp.N(sp.sympify(expr), digits)
    ok = bool(val.is_real) and bool(val > sp.Float(10) ** (-(digits // 2)))
    return ProofStep(
        claim=claim, method=f"sympy.N to {digits} digits, value {sp.N(val, 12)}", ok=ok
    )
