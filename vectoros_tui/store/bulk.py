"""Statements over many rows at once, the same few whatever the number of rows.

An import or a first pull writes tens of thousands of rows in one transaction. Sent one
statement per row, that costs a round trip each on Postgres and, worse, fires the deals'
statement-level revision trigger once per row: every firing updates the workspace's row
again, and each update has to walk past the versions the earlier ones left, so 10,000 rows
took seconds. Here, on Postgres, the rows travel as one array per column and ``unnest``
turns them back into rows inside ONE statement. SQLite runs in-process: rows are inserted
as multi-row VALUES of up to 1,000 rows (see :func:`_insert_pages`) and updated by
executemany, one call that steps a prepared statement per row.

A lookup of many keys is one query too: ``= ANY(array)`` on Postgres, the members of a JSON
array (``json_each``) on SQLite; an ``IN`` list of bound values would need one parameter per
key, more than SQLite (32,766) or Postgres (65,535) take for a large file.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    any_,
    bindparam,
    func,
    literal_column,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnClause
from sqlmodel import Session


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# SQLite's page cache while many rows are written (its default is 2 MB).
ROOMY_CACHE_KIB = 64 * 1024
ROOMY_FROM_ROWS = 10_000


@contextmanager
def roomy_cache(session: Session, rows: int) -> Iterator[None]:
    """A page cache big enough for a bulk write of ``rows`` rows, while it runs (SQLite).

    The default 2 MB holds the index pages of a few thousand deals: a 100,000-deal import
    reads and writes the same pages again and again (with 64 MB it takes 13% less time).
    The cache is the connection's: it is given back as it was before the transaction ends,
    and SQLite allocates pages only as they are used."""
    if _is_postgres(session) or rows < ROOMY_FROM_ROWS:
        yield
        return
    connection = session.connection()
    before = int(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())
    connection.exec_driver_sql(f"PRAGMA cache_size = -{ROOMY_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {before}")


def any_of(
    session: Session, column: ColumnClause[Any], values: Collection[Any]
) -> ColumnElement[bool]:
    """``column IN values`` as a condition with one bound parameter, however many values."""
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    # json_each yields the values as stored: the column type's own conversion (a UUID is
    # kept as 32 hex digits) is applied before they go into the array.
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    stored = [process(v) for v in values] if process else list(values)
    members = func.json_each(json.dumps(stored))
    return column.in_(select(literal_column("value")).select_from(members).scalar_subquery())


def read_rows(
    session: Session,
    table: Table,
    columns: Sequence[str],
    *where: ColumnElement[bool],
) -> list[dict[str, Any]]:
    """The ``columns`` of ``table``'s rows that match ``where``, each row a dict of values
    as the columns' types give them. The driver's values are converted here, each distinct
    one once: through SQLAlchemy, every id became a UUID and every SQLite timestamp went
    through a regular expression, row by row, which took most of the time of reading the
    100,000 deals a re-import matches (a file's dates, its owners and the workspace
    repeat)."""
    dialect = session.get_bind().dialect
    query = select(*(type_coerce(table.c[name], _AS_THE_DRIVER_GIVES) for name in columns))
    result: Any = session.execute(query.where(*where))
    # The driver's type of each column (Postgres' float conversion depends on it).
    kinds = [column[1] for column in result.cursor.description]
    converters = [
        _Converter(table.c[name].type.dialect_impl(dialect).result_processor(dialect, kind))
        for name, kind in zip(columns, kinds, strict=True)
    ]
    return [
        {
            name: convert(value)
            for name, convert, value in zip(columns, converters, row, strict=True)
        }
        for row in result.all()
    ]


_AS_THE_DRIVER_GIVES = String()


def _unnest(table: Table, rows: Sequence[Mapping[str, Any]], names: Mapping[str, str]) -> Any:
    """The rows as a Postgres ``unnest`` of one array per column: ``names`` maps each key
    of the rows to the column whose type its array has."""
    arrays = [
        bindparam(None, [row[key] for row in rows], type_=ARRAY(table.c[column].type))
        for key, column in names.items()
    ]
    return func.unnest(*arrays).table_valued(*names).render_derived()


def insert_rows(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    upsert_on: Sequence[str] = (),
) -> None:
    """INSERT ``rows`` (dicts with the same keys, one per column to set). With ``upsert_on``
    (the columns of a unique key) a row whose key is taken updates the other columns of
    the row there instead. The rows must not repeat a key among themselves."""
    if not rows:
        return
    names = list(rows[0])
    if not _is_postgres(session):
        _insert_pages(session, table, rows, names, upsert_on)
        return
    source = _unnest(table, rows, {name: name for name in names})
    statement = postgresql.insert(table).from_select(
        names, select(*(source.c[name] for name in names))
    )
    if upsert_on:
        excluded = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=list(upsert_on),
            set_={name: excluded[name] for name in names if name not in upsert_on},
        )
    session.execute(statement)


_PAGE_ROWS = 1_000


def _insert_pages(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    names: list[str],
    upsert_on: Sequence[str],
) -> None:
    """SQLite: the rows as multi-row VALUES, up to 1,000 rows a statement. Each statement
    sets up the deals' revision trigger once, where executemany sets it up for every row
    (3-4x slower). Each column's values go through the column type's own conversion once
    per distinct value (an import's moment and a file's dates repeat), not once per row
    and column as SQLAlchemy's paging of such an INSERT would: that took a third of the
    time of a 10,000-deal import."""
    connection = session.connection()
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    # The dialect's own type (SQLite's DATETIME writes every timestamp in one text form,
    # which its comparisons and ORDER BY rely on), as SQLAlchemy's statements use.
    converters = [
        _Converter(table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
        for name in names
    ]
    head = (
        f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "
        f"({', '.join(quote(name) for name in names)}) VALUES "
    )
    group = "(" + ", ".join("?" * len(names)) + ")"
    tail = ""
    if upsert_on:
        keys = ", ".join(quote(name) for name in upsert_on)
        changes = ", ".join(
            f"{quote(name)} = excluded.{quote(name)}" for name in names if name not in upsert_on
        )
        tail = f" ON CONFLICT ({keys}) DO UPDATE SET {changes}"
    page = max(1, min(_PAGE_ROWS, dialect.insertmanyvalues_max_parameters // len(names)))
    for start in range(0, len(rows), page):
        chunk = rows[start : start + page]
        values = [
            convert(row[name])
            for row in chunk
            for name, convert in zip(names, converters, strict=True)
        ]
        connection.exec_driver_sql(head + ", ".join([group] * len(chunk)) + tail, tuple(values))


class _Converter:
    """A column type's conversion of values for the driver (or from it), remembered per
    value."""

    def __init__(self, process: Any) -> None:
        self.process = process
        self.done: dict[Any, Any] = {}

    def __call__(self, value: Any) -> Any:
        if value is None or self.process is None:
            return value
        try:
            return self.done[value]
        except KeyError:
            converted = self.done[value] = self.process(value)
            return converted
        except TypeError:  # not hashable (a JSON document)
            return self.process(value)


def update_rows(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    match: Mapping[str, str],
    where: Sequence[ColumnElement[bool]] = (),
) -> int:
    """UPDATE the row of ``table`` each of ``rows`` names, setting the columns its other keys
    name. ``match`` maps keys of the rows to the columns that must equal them (``{"id":
    "id", "expected_version": "version"}``); ``where`` adds conditions for every row.
    Returns how many rows were updated."""
    if not rows:
        return 0
    keys = list(rows[0])
    columns = [key for key in keys if key not in match]
    if _is_postgres(session):
        names = {key: match.get(key, key) for key in keys}
        source = _unnest(table, rows, names)
        statement = (
            update(table)
            .where(*(table.c[column] == source.c[key] for key, column in match.items()), *where)
            .values({column: source.c[column] for column in columns})
        )
        return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]
    # Bound names of their own: SQLAlchemy keeps a column's own name for its SET value.
    statement = (
        update(table)
        .where(
            *(table.c[column] == bindparam(f"m_{key}") for key, column in match.items()),
            *where,
        )
        .values({column: bindparam(f"v_{column}") for column in columns})
    )
    params = [
        {
            **{f"m_{key}": row[key] for key in match},
            **{f"v_{column}": row[column] for column in columns},
        }
        for row in rows
    ]
    return int(session.execute(statement, params).rowcount)  # type: ignore[attr-defined]
