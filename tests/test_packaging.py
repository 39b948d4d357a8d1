"""The wheel carries what an installed app needs: the stylesheet, the migrations and the
built-in model's tokenizer."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from vectoros_tui.locations import STYLESHEET_FILE

ROOT = Path(__file__).resolve().parents[1]


def test_stylesheet_is_found_from_the_package() -> None:
    assert STYLESHEET_FILE.is_file()
    assert STYLESHEET_FILE.read_text() == (ROOT / "vectoros.tcss").read_text()


def test_wheel_contains_stylesheet_migrations_and_console_script(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("vectoros_tui-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        scripts = archive.read(entry_points).decode()
    assert "vectoros_tui/vectoros.tcss" in names
    # The built-in model's tokenizer ships inside the package (no model package carries it).
    assert "vectoros_tui/similar/model_files/tokenizer.json" in names
    assert "vectoros_tui/store/migrations/env.py" in names
    assert any(n.startswith("vectoros_tui/store/migrations/versions/0001") for n in names)
    assert any(n.startswith("vectoros_tui/store/migrations/versions/0002") for n in names)
    assert "vectoros = vectoros_tui.launch:main" in scripts
