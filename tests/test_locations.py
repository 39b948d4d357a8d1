"""Where VectorOS keeps its files: VECTOROS_HOME, else the XDG folders; created only on use."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vectoros_tui.cli import run
from vectoros_tui.locations import APP_NAME, current_locations, ensure_dir

XDG_VARIABLES = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME")


@pytest.fixture(autouse=True)
def _no_harness_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    # conftest keeps VECTOROS_TEST_PG_URL for itself (read at import); the CLI must not see it.
    monkeypatch.delenv("VECTOROS_TEST_PG_URL", raising=False)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_vectoros_home_puts_everything_under_it(isolated_home: Path) -> None:
    where = current_locations()
    root = isolated_home.resolve()
    assert where.config_dir == root / "config"
    assert where.data_dir == root / "data"
    assert where.cache_dir == root / "cache"
    assert where.log_dir == root / "logs"
    assert where.config_file == root / "config" / "config.toml"
    assert where.database_file == root / "data" / "vectoros.sqlite3"
    assert where.log_file == root / "logs" / "vectoros.log"
    for value in where.as_dict().values():
        assert Path(value).is_relative_to(root)


def test_vectoros_home_from_an_explicit_environment(tmp_path: Path) -> None:
    where = current_locations({"VECTOROS_HOME": str(tmp_path / "elsewhere")})
    assert where.data_dir == (tmp_path / "elsewhere" / "data").resolve()


def test_vectoros_home_expands_the_user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("VECTOROS_HOME", "~/vectoros-home")
    assert current_locations().data_dir == tmp_path.resolve() / "vectoros-home" / "data"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG applies on Linux")
def test_xdg_folders_without_vectoros_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VECTOROS_HOME")
    for name in XDG_VARIABLES:
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    where = current_locations()
    assert where.config_dir == tmp_path / "xdg_config_home" / APP_NAME
    assert where.data_dir == tmp_path / "xdg_data_home" / APP_NAME
    assert where.cache_dir == tmp_path / "xdg_cache_home" / APP_NAME
    assert where.log_dir.is_relative_to(tmp_path / "xdg_state_home" / APP_NAME)
    assert where.config_file == tmp_path / "xdg_config_home" / APP_NAME / "config.toml"
    assert where.database_file == tmp_path / "xdg_data_home" / APP_NAME / "vectoros.sqlite3"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG applies on Linux")
def test_xdg_defaults_follow_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VECTOROS_HOME")
    for name in XDG_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    where = current_locations()
    assert where.config_dir == tmp_path / ".config" / APP_NAME
    assert where.data_dir == tmp_path / ".local" / "share" / APP_NAME
    assert where.cache_dir == tmp_path / ".cache" / APP_NAME


def test_resolving_locations_creates_nothing(tmp_path: Path) -> None:
    current_locations({"VECTOROS_HOME": str(tmp_path / "home")})
    assert not (tmp_path / "home").exists()


def test_ensure_dir_is_private(tmp_path: Path) -> None:
    made = ensure_dir(tmp_path / "a" / "b")
    assert made.is_dir()
    assert mode(made) == 0o700
    assert ensure_dir(made) == made, "ensuring twice is fine"


SIDE_EFFECT_FREE = textwrap.dedent(
    """
    import importlib, pkgutil
    import vectoros_tui.locations, vectoros_tui.config, vectoros_tui.store
    from vectoros_tui.locations import current_locations
    for module in pkgutil.walk_packages(vectoros_tui.store.__path__, "vectoros_tui.store."):
        importlib.import_module(module.name)
    importlib.import_module("vectoros_tui.cli")
    current_locations()
    print("imported")
    """
)


def _fresh_env(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("VECTOROS_", "XDG_")) and k not in ("HOME", "PYTHONPYCACHEPREFIX")
    }
    env["HOME"] = str(home)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def test_importing_creates_no_directories(tmp_path: Path) -> None:
    """With a fresh HOME (XDG defaults) and with VECTOROS_HOME: nothing appears."""
    home = tmp_path / "user"
    home.mkdir()
    env = _fresh_env(home)
    result = subprocess.run(
        [sys.executable, "-c", SIDE_EFFECT_FREE],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "imported" in result.stdout
    assert sorted(p.relative_to(home) for p in home.rglob("*")) == []

    env["VECTOROS_HOME"] = str(tmp_path / "vectoros-home")
    result = subprocess.run(
        [sys.executable, "-c", SIDE_EFFECT_FREE],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "vectoros-home").exists()
    assert sorted(p.relative_to(home) for p in home.rglob("*")) == []


def test_cli_makes_data_dir_and_log_file_private(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["workspace", "create", "Private"]) == 0, capsys.readouterr().err
    where = current_locations()
    assert where.database_file.is_file()
    assert mode(where.data_dir) == 0o700
    assert where.log_file.is_file()
    assert mode(where.log_file) == 0o600
    assert mode(where.log_dir) == 0o700


def test_log_file_is_private_even_with_a_permissive_umask(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = os.umask(0o000)
    try:
        assert run(["version"]) == 0
    finally:
        os.umask(old)
    where = current_locations()
    assert mode(where.log_file) == 0o600
    assert mode(where.log_dir) == 0o700
