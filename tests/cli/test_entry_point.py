"""The installed ``vectoros`` console script and ``python -m vectoros_tui``, as users run them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vectoros_tui import __version__

TIMEOUT = 60


@pytest.fixture
def vectoros() -> str:
    script = shutil.which("vectoros", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.fail(f"the vectoros console script is not installed beside {sys.executable}")
    return script


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VECTOROS_")}
    clean["VECTOROS_HOME"] = str(tmp_path / "home")
    clean["COLUMNS"] = "120"
    return clean


def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


def test_version(vectoros: str, env: dict[str, str]) -> None:
    result = run([vectoros, "version"], env)
    assert result.returncode == 0, result.stderr
    assert f"vectoros {__version__}" in result.stdout


def test_demo_then_forecast_json(vectoros: str, env: dict[str, str]) -> None:
    demo = run([vectoros, "demo", "--deals", "50", "--seed", "1"], env)
    assert demo.returncode == 0, demo.stderr
    assert (Path(env["VECTOROS_HOME"]) / "data" / "vectoros.sqlite3").is_file()

    forecast = run([vectoros, "forecast", "--json", "--seed", "1"], env)
    assert forecast.returncode == 0, forecast.stderr
    result = json.loads(forecast.stdout)
    assert result["deals_analyzed"] > 0
    assert result["worst_case"] <= result["likely_case"] <= result["best_case"]


def test_user_mistakes_exit_2_without_traceback(vectoros: str, env: dict[str, str]) -> None:
    created = run([vectoros, "workspace", "create", "Solo"], env)
    assert created.returncode == 0, created.stderr
    for args in (
        ["forecast", "--workspace", "Nope"],
        ["deals", "add", "--title", "X", "--value", "abc"],
    ):
        result = run([vectoros, *args], env)
        assert "Traceback" not in result.stderr + result.stdout, args
        assert result.stderr.strip(), args
        assert result.returncode == 2, (args, result.stderr)


def test_no_arguments_prints_help(vectoros: str, env: dict[str, str]) -> None:
    result = run([vectoros], env)
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


def test_python_dash_m(env: dict[str, str]) -> None:
    result = run([sys.executable, "-m", "vectoros_tui", "version"], env)
    assert result.returncode == 0, result.stderr
    assert f"vectoros {__version__}" in result.stdout
