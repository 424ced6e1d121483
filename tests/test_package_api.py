"""The top-level package's public names: every lazily exported name resolves to the object its
module defines, and an unknown name is an AttributeError (not a silent None)."""

from __future__ import annotations

import importlib

import pytest

import certify


@pytest.mark.parametrize("name", sorted(certify._LAZY))
def test_lazy_names_resolve_to_their_module_objects(name: str) -> None:
    module = importlib.import_module(certify._LAZY[name])
    assert getattr(certify, name) is getattr(module, name)
    assert name in certify.__all__


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        certify.no_such_thing  # noqa: B018
