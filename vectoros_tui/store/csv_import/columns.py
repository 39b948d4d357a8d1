"""Which column holds which deal field."""

from __future__ import annotations

from collections.abc import Mapping

from vectoros_tui.store.csv_import.results import CsvImportError
from vectoros_tui.store.csv_import.vocabulary import COLUMN_ALIASES, IMPORT_FIELDS, SOURCE_ID, _key


def _match_column(columns: list[str], wanted: str) -> list[int]:
    exact = [i for i, c in enumerate(columns) if c == wanted]
    if exact:
        return exact
    key = _key(wanted)
    return [i for i, c in enumerate(columns) if c and _key(c) == key]


def _map_columns(
    columns: list[str], mapping: Mapping[str, str | None] | None
) -> tuple[dict[str, int], list[str]]:
    available = ", ".join(f'"{c}"' for c in columns if c) or "(none)"
    chosen: dict[str, int] = {}
    skipped: set[str] = set()
    for raw_field, column in (mapping or {}).items():
        name = raw_field.strip().lower().replace("-", "_").replace(" ", "_")
        name = {"id": SOURCE_ID}.get(name, name)
        if name not in IMPORT_FIELDS:
            raise CsvImportError(
                f"--map {raw_field}=...: {raw_field!r} is not a deal field; use one of "
                f"{', '.join(IMPORT_FIELDS)}"
            )
        if column is None or not str(column).strip():
            skipped.add(name)  # field=  means: do not import this field
            continue
        found = _match_column(columns, str(column).strip())
        if not found:
            raise CsvImportError(
                f"--map {raw_field}={column}: the file has no column {column!r}; "
                f"its columns are {available}"
            )
        if len(found) > 1:
            raise CsvImportError(
                f"--map {raw_field}={column}: {len(found)} columns are named {column!r}; "
                "rename one of them"
            )
        chosen[name] = found[0]

    taken = set(chosen.values())
    keys = [_key(c) if c else "" for c in columns]
    for name, aliases in COLUMN_ALIASES.items():
        if name in chosen or name in skipped:
            continue
        for alias in aliases:
            hits = [i for i, k in enumerate(keys) if k == _key(alias) and i not in taken]
            if len(hits) > 1:
                raise CsvImportError(
                    f"{len(hits)} columns could be the {name} ("
                    + ", ".join(f'"{columns[i]}"' for i in hits)
                    + f"); choose one with --map {name}=COLUMN"
                )
            if hits:
                chosen[name] = hits[0]
                taken.add(hits[0])
                break
    if "title" not in chosen:
        raise CsvImportError(
            f"no title column found (looked for {', '.join(COLUMN_ALIASES['title'])}); "
            f"its columns are {available}; choose one with --map title=COLUMN"
        )
    ignored = [c for i, c in enumerate(columns) if c and i not in set(chosen.values())]
    return chosen, ignored
