"""Fuzzing `vectoros import FILE`: CSV files with known and junk headers, hostile cells
(control characters, NUL, cells past the csv module's field limit) in UTF-8, UTF-8 with a
BOM, UTF-16 and Latin-1. Exit 0 or 2, never a traceback; a refused file writes nothing; an
imported file imported again changes nothing."""

from __future__ import annotations

import csv
import io
import itertools
import shutil
from collections.abc import Callable
from pathlib import Path

from fuzz_harness import FUZZ, WORKSPACE, Workspace, refused_wrote_nothing, well_behaved
from fuzz_strategies import (
    STAGES,
    amounts,
    huge_numbers,
    odd_dates,
    past_dates,
    plausible_dates,
    typed_text,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from vectoros_tui.store.csv_import import COLUMN_ALIASES, CRM_STAGE_ALIASES
from vectoros_tui.store.store import open_store

ALIASES = {field: names for field, names in COLUMN_ALIASES.items()}
# The headers the issue names, as CRMs spell them.
NAMED = ["Deal Name", "Amount", "Stage", "Close Date", "Owner", "Next Step"]

# Cell text of a file: any character but surrogates (no encoding can write them).
_CELL_CHAR = st.characters(exclude_categories=("Cs",))
hostile_cell = st.one_of(
    st.text(_CELL_CHAR, max_size=20),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "\x1b[2J",
            "line\nbreak",
            "cr\rhere",
            '"',
            '""',
            'a"b',
            "'=1+1",
            '=HYPERLINK("x")',
            "\ufeff",
            "\u202e",
            "N/A",
            "-",
            "TRUE",
            "1.200,50",
            "1,200.50",
            "(1200)",
        ]
    ),
    huge_numbers,
    odd_dates,
)
emails = st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.com", fullmatch=True)
VALID: dict[str, st.SearchStrategy[str]] = {
    "title": typed_text,
    "company": typed_text,
    "value": amounts,
    "stage": st.sampled_from([*STAGES, *CRM_STAGE_ALIASES]),
    "probability": st.one_of(st.integers(0, 100).map(str), st.sampled_from(["0.5", "60%"])),
    "contact_name": typed_text,
    "contact_email": emails,
    "close_date": st.one_of(plausible_dates, st.sampled_from(["12/31/2026", "Dec 31 2026"])),
    "outcome": st.sampled_from(["won", "lost", ""]),
    "lost_reason": typed_text,
    "next_step": typed_text,
    "next_step_due": plausible_dates,
    "owner": st.one_of(emails, st.sampled_from(["me@example.com", "Ana", ""])),
    "source_id": st.integers(0, 50).map(str),
    "created_at": past_dates,
    "closed_at": past_dates,
}
# Valid alone, but not in every combination (an outcome needs stage closed...).
NOT_CLEAN = ("outcome", "lost_reason")
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "latin-1"]
Column = tuple[str, str | None, st.SearchStrategy[str]]  # header, field, cells


@st.composite
def columns(draw: st.DrawFn, clean: bool) -> list[Column]:
    """Headers with the cells each column gets: known aliases (with valid cells, or at
    times hostile ones) and junk headers; ``clean``: a title column and valid cells."""
    picked: list[Column] = []
    known = sorted(f for f in VALID if not (clean and f in NOT_CLEAN))
    fields = draw(st.lists(st.sampled_from(known), max_size=6, unique=True))
    if clean or draw(st.booleans()):
        fields = ["title", *[f for f in fields if f != "title"]]
    for field in fields:
        header = draw(
            st.sampled_from([*ALIASES[field], *(n for n in NAMED if n.lower() in ALIASES[field])])
        )
        header = draw(st.sampled_from([header, header.upper(), header.title(), f" {header} "]))
        cells = VALID[field] if clean else st.one_of(VALID[field], hostile_cell)
        picked.append((header, field, cells))
    for _ in range(draw(st.integers(0, 0 if clean else 2))):
        junk = draw(st.one_of(st.text(_CELL_CHAR, max_size=12), st.sampled_from(["", "Title"])))
        picked.append((junk, None, hostile_cell))
    return draw(st.permutations(picked))


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, str]:
    """A CSV file's bytes, and a word on how it was made (for failure reports)."""
    kind = draw(st.sampled_from(["clean", "csv", "clean", "csv", "raw", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300)), "random bytes"
    clean = kind == "clean"
    cols = draw(columns(clean))
    headers = [h for h, _, _ in cols]
    rows = [
        # A clean file's titles differ (two rows with one title and company are refused).
        [draw(cells) + (f" {n}" if clean and f == "title" else "") for _, f, cells in cols]
        for n in range(draw(st.integers(1 if clean else 0, 5)))
    ]
    # Rare (Hypothesis favours small numbers, so not 0): past csv's field limit (131072).
    if not clean and draw(st.integers(0, 9)) == 5 and cols:
        rows.append(["x" * 140_000 for _ in cols])
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    if kind != "raw":
        out = io.StringIO()
        writer = csv.writer(
            out, delimiter=delimiter, lineterminator=draw(st.sampled_from(["\r\n", "\n"]))
        )
        writer.writerows([headers, *rows])
        text = out.getvalue()
    else:  # joined by hand: stray quotes, ragged rows
        lines = [
            delimiter.join(headers),
            *(delimiter.join(r[: draw(st.integers(0, len(r)))]) for r in rows),
        ]
        text = "\n".join(lines)
    encoding = draw(st.sampled_from(ENCODINGS[:3] if clean else ENCODINGS))
    data = text.encode(encoding, errors="replace")
    if not clean and draw(st.integers(0, 9)) == 5:  # a NUL past the 8 KiB the binary check reads
        data = data + b"\n" + b"y" * 9000 + b"\x00\n"
    return data, f"{kind}, {encoding}, delimiter {delimiter!r}"


def fuzz(prop: Callable[[], None], ws: Workspace, sqlite_examples: int) -> None:
    postgres = not ws.url.startswith("sqlite")
    count = max(5, sqlite_examples // 4) if postgres else sqlite_examples
    settings(FUZZ, max_examples=count)(prop)()


def test_import(ws: Workspace, tmp_path: Path) -> None:
    counter = itertools.count()

    @given(
        file=csv_files(),
        dry_run=st.booleans(),
        flags=st.sets(st.sampled_from(["--json", "--day-first"])),
        suffix=st.sampled_from([".csv", ".CSV", ".txt", ""]),
    )
    def prop(file: tuple[bytes, str], dry_run: bool, flags: set[str], suffix: str) -> None:
        data, how = file
        path = tmp_path / f"deals-{next(counter)}{suffix}"
        path.write_bytes(data)
        argv = ["import", str(path), "-w", WORKSPACE, *sorted(flags)]
        argv += ["--dry-run"] if dry_run else []
        before = ws.snapshot()
        result = well_behaved(ws.run(*argv))
        after = ws.snapshot()
        refused_wrote_nothing(result, before, after)
        note = f"file ({how}): {data[:2000]!r}"
        if dry_run:
            assert after == before, f"a dry run wrote:\n{result.explain()}\n{note}"
        elif result.code == 0:
            again = well_behaved(ws.run(*argv))
            assert again.code == 0, f"{again.explain()}\n{note}"
            assert ws.snapshot() == after, f"a re-import changed deals:\n{again.explain()}\n{note}"

    fuzz(prop, ws, 60)


def test_first_import_names_the_workspace_after_the_file(
    sqlite_template: Path, tmp_path: Path
) -> None:
    """Into an empty database the first import makes the workspace, named after -w or the
    file: odd names make a workspace or are refused (writing nothing), never a crash."""
    counter = itertools.count()
    name = st.text(
        st.characters(exclude_categories=("Cs",), exclude_characters="/\x00"),
        min_size=1,
        max_size=40,
    ).filter(lambda s: s not in (".", ".."))

    @given(stem=name, workspace=st.one_of(st.none(), name, st.just("  ")))
    def prop(stem: str, workspace: str | None) -> None:
        folder = tmp_path / str(next(counter))
        folder.mkdir()
        db = folder / "vectoros.sqlite3"
        shutil.copy(sqlite_template, db)
        path = folder / f"{stem}.csv"
        path.write_text("Deal Name,Amount\nAcme,1200\n", encoding="utf-8")
        store = open_store(f"sqlite:///{db}", upgrade=False)
        try:
            ws = Workspace(f"sqlite:///{db}", store)
            argv = ["import", str(path), *([] if workspace is None else ["-w", workspace])]
            before = ws.snapshot()
            result = well_behaved(ws.run(*argv))
            refused_wrote_nothing(result, before, ws.snapshot())
            if result.code == 0:
                assert ws.count("workspaces") == 1 and ws.count("deals") == 1
        finally:
            store.close()

    settings(FUZZ, max_examples=25)(prop)()
