"""Bad settings and flags are the user's to fix: exit 2, a clear message, no traceback and
never "unexpected error"."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import Cli, invoke, ok, one_line, user_error


def test_a_config_file_named_but_missing_is_an_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VECTOROS_CONFIG", str(tmp_path / "nonexistent.toml"))
    result = user_error(invoke(capsys, ["deals", "list"]))
    assert "VECTOROS_CONFIG names" in one_line(result.err) and "not a file" in result.err


def test_a_config_file_that_is_not_utf8_is_an_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes(b'[similar]\nmodel = "\xff\xfe"\n')
    monkeypatch.setenv("VECTOROS_CONFIG", str(config))
    result = user_error(invoke(capsys, ["deals", "list"]))
    assert "not UTF-8 text" in one_line(result.err)


def test_a_data_folder_that_is_a_file_is_an_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    not_a_folder = tmp_path / "passwd"
    not_a_folder.write_text("root:x:0:0\n")
    monkeypatch.setenv("VECTOROS_HOME", str(not_a_folder))
    result = user_error(invoke(capsys, ["deals", "list"]))
    assert "VECTOROS_HOME" in result.err and "not a folder" in result.err
    assert "unexpected" not in result.err


def test_an_offset_past_any_database_integer_is_refused(cli: Cli) -> None:
    ok(cli("workspace", "create", "Team"))
    result = user_error(cli("deals", "list", "--offset", "9223372036854775808"))
    assert "--offset" in result.err
    assert "0 of 0" in ok(cli("deals", "list", "--offset", "9007199254740992")).out


def test_dates_read_as_written(cli: Cli) -> None:
    ok(cli("workspace", "create", "Team"))
    dotted = cli("deals", "add", "--title", "Dotted", "--close-date", "01.10.2026", "--json")
    assert dotted.json()["closeDate"] == "2026-10-01"
    result = user_error(cli("deals", "add", "--title", "Typo", "--close-date", "0001-01-01"))
    assert "close_date: 0001-01-01 is out of range" in one_line(result.err)


def test_a_theme_nobody_has_is_an_error_before_anything_is_made(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    isolated_home: Path,
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[ui]\ntheme = "nrod"\n')
    monkeypatch.setenv("VECTOROS_CONFIG", str(config))
    result = user_error(invoke(capsys, ["ui"]))
    assert "[ui] theme: no theme is called 'nrod'" in one_line(result.err)
    assert "nord" in result.err and "vectoros-16" in result.err
    assert not list(isolated_home.rglob("*.sqlite3"))  # no database made for a typo
