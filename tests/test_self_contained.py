"""Comments and docs in the repository stand on their own: none points to notes that live
outside it."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE = ("ENGINEERING_NOTES", "STYLE.md", "../shared")


def test_no_file_refers_to_notes_outside_the_repository() -> None:
    offenders = []
    for folder in ("vectoros_tui", "tests", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            if path == Path(__file__).resolve():
                continue
            text = path.read_text(encoding="utf-8")
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in OUTSIDE if n in text]
    for name in ("README.md", "Makefile", "pyproject.toml", "vectoros.tcss"):
        text = (ROOT / name).read_text(encoding="utf-8")
        offenders += [f"{name}: {n}" for n in OUTSIDE if n in text]
    assert not offenders
