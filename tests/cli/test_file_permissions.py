"""On a shared server nothing the program creates is readable by other users: files 0600
and folders 0700, in its own data folder and wherever --db or --output point."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _vectoros(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VECTOROS_")}
    env["VECTOROS_HOME"] = str(home)
    # A permissive umask, as many shared servers have: the program must not rely on it.
    script = "import os, sys; os.umask(0o022); from vectoros_tui.launch import main; main()"
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_files_and_folders_the_program_creates_are_private(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    home = tmp_path / "home"
    database = shared / "team.sqlite3"
    db = ["--db", f"sqlite:///{database}"]
    done = _vectoros(home, *db, "demo", "--deals", "20", "--seed", "3")
    assert done.returncode == 0, done.stderr
    export = shared / "deals.csv"
    done = _vectoros(home, *db, "export", "-o", str(export))
    assert done.returncode == 0, done.stderr
    done = _vectoros(home, "workspace", "create", "Mine")  # the default database in home
    assert done.returncode == 0, done.stderr

    created = [database, export, *shared.glob("team.sqlite3-*")]
    created += [p for p in home.rglob("*")]
    assert len(created) > 4
    for path in created:
        wanted = 0o700 if path.is_dir() else 0o600
        assert _mode(path) & 0o077 == 0, f"{path} is {oct(_mode(path))}, wanted {oct(wanted)}"
    assert _mode(home) == 0o700


def test_doctor_warns_when_the_database_is_readable_by_others(tmp_path: Path) -> None:
    home = tmp_path / "home"
    database = tmp_path / "old.sqlite3"
    db = ["--db", f"sqlite:///{database}"]
    assert _vectoros(home, *db, "workspace", "create", "Team").returncode == 0
    assert "readable by other" not in _vectoros(home, *db, "doctor").stdout
    database.chmod(0o644)  # as an older version or a permissive umask left it
    report = _vectoros(home, *db, "doctor")
    assert report.returncode == 0, report.stderr
    assert "can be read by other users" in report.stdout and "chmod 600" in report.stdout
    listed = json.loads(_vectoros(home, *db, "doctor", "--json").stdout)
    assert f"{database} (-rw-r--r--)" in listed["database"]["readable_by_others"]
