"""The install stays lean: nothing in the declared requirements, followed to the bottom,
brings in a deep-learning framework the app never imports."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata

from packaging.requirements import Requirement

FORBIDDEN = {"torch", "triton", "transformers", "sentence-transformers", "tensorflow", "jax"}
FORBIDDEN_PREFIXES = ("nvidia-",)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements(name: str, extras: frozenset[str]) -> list[tuple[str, frozenset[str]]]:
    found = []
    for text in metadata.requires(name) or []:
        requirement = Requirement(text)
        marker = requirement.marker
        if marker is not None and not any(
            marker.evaluate({"extra": extra}) for extra in (extras or {""})
        ):
            continue
        found.append((_canonical(requirement.name), frozenset(requirement.extras)))
    return found


def installed_closure(root: str, extras: frozenset[str] = frozenset()) -> dict[str, str]:
    """Every distribution the root needs (with the given extras), each with the one that
    asked for it first."""
    seen: dict[str, str] = {_canonical(root): ""}
    queue = [(_canonical(root), extras)]
    while queue:
        name, wanted = queue.pop()
        for child, child_extras in _requirements(name, wanted):
            if child not in seen:
                seen[child] = name
                queue.append((child, child_extras))
    return seen


def test_the_walk_finds_what_a_requirement_brings_in() -> None:
    """The check below can fail: the walk reaches transitive requirements (fastembed brings
    onnxruntime; the server extra brings uvicorn)."""
    closure = installed_closure("vectoros-tui", frozenset({"server"}))
    assert closure["onnxruntime"] == "fastembed"
    assert "uvicorn" in closure and "numpy" in closure
    assert "uvicorn" not in installed_closure("vectoros-tui")


def test_no_deep_learning_framework_is_required() -> None:
    for extras in (frozenset(), frozenset({"server"}), frozenset({"dev"})):
        closure = installed_closure("vectoros-tui", extras)
        heavy = {
            name: parent
            for name, parent in closure.items()
            if name in FORBIDDEN or name.startswith(FORBIDDEN_PREFIXES)
        }
        assert not heavy, f"with extras {sorted(extras)}: {heavy} (name: required by)"


def test_installed_requirements_are_consistent() -> None:
    checked = subprocess.run(
        [sys.executable, "-m", "pip", "check"], capture_output=True, text=True, timeout=120
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
