"""Database URLs checked without SQLAlchemy when they are in their plainest forms: the
answer must be the one SQLAlchemy's parser gives, for every such URL."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vectoros_tui.store.urls import (
    _PLAIN_URL,
    DatabaseURLError,
    checked_database_url,
    normalise_database_url,
)


@settings(max_examples=300, deadline=None)
@given(st.from_regex(_PLAIN_URL, fullmatch=True))
def test_every_plain_url_is_one_the_parser_accepts_as_it_is(url: str) -> None:
    assert checked_database_url(url) == url
    assert normalise_database_url(url) == url.strip() or url != url.strip()


@pytest.mark.parametrize(
    "url",
    [
        "postgres://rep:pw@db.example.com:5432/sales",
        "postgresql+psycopg://rep@127.0.0.1:5432/test?options=-csearch_path%3Dt_1",
        "postgresql+psycopg://db.example.com/sales",  # no user: the parser decides
        "postgresql+psycopg://rep@[::1]:5432/sales",
        "postgresql+psycopg2://rep@h/db",
        "postgresql+psycopg://rep@h:port/db",
        "mysql://rep@h/db",
        "sqlite:///tmp/x.sqlite3?mode=ro",
        "not a url",
        "sqlite:////tmp/pipeline.sqlite3",
    ],
)
def test_the_answer_is_the_parsers(url: str) -> None:
    text = url.replace("postgres://", "postgresql+psycopg://", 1)
    try:
        expected: str | None = checked_database_url(text)
        problem = None
    except DatabaseURLError as exc:
        expected, problem = None, str(exc)
    if problem is None:
        assert normalise_database_url(url) == expected
    else:
        with pytest.raises(DatabaseURLError) as info:
            normalise_database_url(url)
        assert str(info.value) == problem


def test_a_plain_url_is_checked_without_importing_sqlalchemy() -> None:
    probe = (
        "import sys\n"
        "from vectoros_tui.store.urls import normalise_database_url\n"
        "normalise_database_url('postgres://rep:pw@db.example.com:5432/sales')\n"
        "normalise_database_url('sqlite:////home/rep/vectoros.sqlite3')\n"
        "print('sqlalchemy' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "False"
