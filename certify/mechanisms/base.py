"""What every mechanism offers (DESIGN.md): a frozen value whose parameters are validated on
construction, with ``delta(epsilon) -> Bound`` and ``epsilon(delta) -> Bound`` for its exact
privacy profile, ``params()`` for display/JSON, and a CLI registry entry.

``delta(eps)`` is the hockey-stick divergence sup over the stated neighbouring pairs (the
privacy profile); ``epsilon(delta)`` is the smallest eps >= 0 with delta(eps) <= delta.
A mechanism whose profile is only bracketed by a lower and an upper method (not computed to a
requested width) sets ``exact_profile = False``; the CLI then marks its answer ``"bracket"``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from certify.errors import InvalidArgument
from certify.numerics.bound import Bound
from certify.numerics.precision import Target


@runtime_checkable
class Mechanism(Protocol):
    @property
    def name(self) -> str:
        """The kebab-case CLI name."""
        ...

    def params(self) -> dict[str, str]:
        """Parameter name -> exact decimal (or p/q) text."""
        ...

    def delta(self, epsilon: object, target: Target | None = None) -> Bound: ...

    def epsilon(self, delta: object, target: Target | None = None) -> Bound: ...


@dataclass(frozen=True)
class MechanismEntry:
    """How the CLI builds a mechanism from ``name=value`` strings."""

    name: str
    build: Callable[[Mapping[str, str]], Mechanism]
    parameters: tuple[str, ...]
    summary: str


_MECHANISMS: dict[str, MechanismEntry] = {}


def register_mechanism(entry: MechanismEntry) -> None:
    _MECHANISMS[entry.name] = entry


def mechanism_names() -> list[str]:
    _load_builtin()
    return sorted(_MECHANISMS)


def build_mechanism(name: str, params: Mapping[str, str]) -> Mechanism:
    """Build a registered mechanism from textual parameters; unknown names are InvalidArgument."""
    _load_builtin()
    entry = _MECHANISMS.get(name)
    if entry is None:
        raise InvalidArgument(
            f"mechanism={name!r} is not known; choose one of: {', '.join(sorted(_MECHANISMS))}."
        )
    unknown = sorted(set(params) - set(entry.parameters))
    if unknown:
        raise InvalidArgument(
            f"{unknown[0]}={params[unknown[0]]} is not a parameter of {name} "
            f"(parameters: {', '.join(entry.parameters)})."
        )
    return entry.build(params)


def _load_builtin() -> None:
    import certify.mechanisms.expmech  # noqa: F401  (registers itself)
    import certify.mechanisms.gaussian  # noqa: F401  (registers itself)
    import certify.mechanisms.hypernet  # noqa: F401  (registers itself)
    import certify.mechanisms.subsampled  # noqa: F401  (registers itself)
    import certify.mechanisms.wishart  # noqa: F401  (registers itself)
    import certify.mechanisms.wishart_noisy  # noqa: F401  (registers itself)
