"""kit.registry.Registry: the one registry shape behind explainers, the catalogue, modes and
body renderers."""

from __future__ import annotations

import pytest

import kit
from kit.explain import CATALOGUE, EXPLAINERS
from kit.modes import MODES
from kit.registry import Registry
from kit.render.body import BODY_RENDERERS


def test_add_register_lookup_and_the_unknown_name_error() -> None:
    reg: Registry[int] = Registry("widget")
    reg.add("b", 2)

    @reg.register("a")
    def _one() -> int:
        return 1

    assert list(reg) == ["b", "a"] and list(reversed(reg)) == ["a", "b"] and len(reg) == 2
    assert reg["b"] == 2 and reg.get("zz") is None and "a" in reg
    assert repr(reg) == "<Registry of 2 widgets: b, a>"
    with pytest.raises(kit.UsageError, match=r"^unknown widget 'c'. Fix: use one of: a, b$"):
        reg.get_or_fail("c")
    with pytest.raises(kit.UsageError, match="a widget named 'b' is already registered"):
        reg.add("b", 3)
    replacing: Registry[int] = Registry("page", replace=True)
    replacing.add("x", 1)
    assert replacing.add("x", 2) == 2 and replacing["x"] == 2


def test_the_kits_registries_share_the_shape() -> None:
    for registry in (EXPLAINERS, CATALOGUE, MODES, BODY_RENDERERS):
        assert isinstance(registry, Registry)
    assert EXPLAINERS.kind == "explainer" and MODES.kind == "mode"
