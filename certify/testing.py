"""Accountant verification inside a downstream library's own tests (pytest plugin).

Use it directly::

    from certify.testing import assert_sound

    def my_epsilon(*, noise_multiplier, sample_rate, steps, delta):
        ...

    def test_accountant_is_sound():
        assert_sound(my_epsilon, grid="quick")

or through the ``certify_accountant`` fixture, which shares the certified references between
tests of a session (registered through the ``pytest11`` entry point ``certify``, so installing
certify-dp is enough)::

    def test_accountant_is_sound(certify_accountant):
        certify_accountant.assert_sound(my_epsilon)          # grid: --certify-grid or "quick"

``assert_sound`` raises :class:`AccountantUnsound` (an ``AssertionError``) whose message is a table
of the unsound answers, each with the reported value and the certified enclosures that refute it
(:mod:`certify.accountants.check` for the verdicts and the tolerance policy). Errors (the
accountant raised, or returned NaN/inf/negative) fail too unless ``allow_errors=True``.
The accountant may be any target :func:`certify.accountants.adapters.load_target` accepts: a
callable (optionally with ``delta_for_epsilon`` / ``rdp`` attributes), an ``Adapter``, a built-in
adapter name or ``"module:function"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported lazily: the plugin loads in every pytest run of an environment
    from certify.accountants.check import AccountantReport, CellResult
    from certify.accountants.reference import References

DEFAULT_GRID = "quick"


class AccountantUnsound(AssertionError):
    """An accountant check found unsound answers (or errors); ``report`` has every verdict."""

    def __init__(self, message: str, report: AccountantReport) -> None:
        super().__init__(message)
        self.report = report


def _row(r: CellResult) -> str:
    extra = ""
    if r.delta_at_reported is not None and r.form == "epsilon":
        extra = f"; true delta at it in {r.delta_at_reported} (claimed {r.delta!r})"
    truth = "" if r.truth is None else f"true value in {r.truth}"
    shown = "raised/invalid" if r.reported is None else repr(r.reported)
    return f"  {r.verdict:8s} {r.name():58s} reported {shown}; {truth}{extra} {r.note}".rstrip()


def unsound_table(report: AccountantReport, include_errors: bool = True) -> str:
    """A plain-text table of the failing answers of a report."""
    failing = [r for r in report.results
               if r.verdict == "unsound" or (include_errors and r.verdict == "error")]
    lines = [f"accountant {report.target} on the {report.grid} grid: "
             f"{sum(r.verdict == 'unsound' for r in failing)} unsound, "
             f"{sum(r.verdict == 'error' for r in failing)} errors "
             f"of {len(report.results)} answers"]
    lines += [_row(r) for r in failing]
    lines.append(f"tolerance: {report.tolerance.describe()}")
    return "\n".join(lines)


def assert_sound(accountant: Any, grid: Any = DEFAULT_GRID, *, allow_errors: bool = False,
                 references: References | None = None) -> AccountantReport:
    """Check ``accountant`` on ``grid`` and raise :class:`AccountantUnsound` with a table of the
    unsound answers (and of the errors unless ``allow_errors``); returns the report."""
    from certify.accountants.check import check_accountant

    report = check_accountant(accountant, grid, references=references)
    errors = report.counts()["error"]
    if report.unsound or (errors and not allow_errors):
        raise AccountantUnsound(unsound_table(report, include_errors=not allow_errors), report)
    return report


class AccountantChecker:
    """What the ``certify_accountant`` fixture returns: :func:`assert_sound` and
    :func:`~certify.accountants.check.check_accountant` with a session-wide reference cache."""

    def __init__(self, references: References, grid: str | None = None) -> None:
        self.references = references
        self.grid = grid or DEFAULT_GRID

    def check(self, accountant: Any, grid: Any = None) -> AccountantReport:
        from certify.accountants.check import check_accountant

        return check_accountant(accountant, grid or self.grid, references=self.references)

    def assert_sound(self, accountant: Any, grid: Any = None, *,
                     allow_errors: bool = False) -> AccountantReport:
        return assert_sound(accountant, grid or self.grid, allow_errors=allow_errors,
                            references=self.references)


try:
    import pytest
except ImportError:  # pragma: no cover - assert_sound works without pytest
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    def pytest_addoption(parser: Any) -> None:
        group = parser.getgroup("certify", "certify-dp accountant verification")
        group.addoption("--certify-grid", default=None,
                        help="grid of the certify_accountant fixture: quick (default), default, "
                             "full or a JSON grid file")

    @pytest.fixture(scope="session")
    def certify_references() -> References:
        """Certified references shared by every accountant check of the session."""
        from certify.accountants.reference import References

        return References()

    @pytest.fixture
    def certify_accountant(request: Any, certify_references: References) -> AccountantChecker:
        """An :class:`AccountantChecker` (``.assert_sound(acc)``, ``.check(acc)``)."""
        return AccountantChecker(certify_references,
                                 request.config.getoption("--certify-grid", default=None))


__all__ = ["DEFAULT_GRID", "AccountantChecker", "AccountantUnsound", "assert_sound",
           "unsound_table"]
