"""Settings: config file < VECTOROS_* variables < command-line flags, and helpful errors."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from vectoros_tui.cli import run
from vectoros_tui.config import ConfigError, Settings, load_settings
from vectoros_tui.config_sources import PlainSettings, plain_settings, settings_are_defaults
from vectoros_tui.locations import current_locations


@pytest.fixture(autouse=True)
def _no_harness_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    # conftest keeps VECTOROS_TEST_PG_URL for itself (read at import); the CLI must not see it.
    monkeypatch.delenv("VECTOROS_TEST_PG_URL", raising=False)


@pytest.fixture
def config_file(isolated_home: Path) -> Path:
    return isolated_home / "config" / "config.toml"


def write_config(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def new_db(tmp_path: Path, sqlite_template: Path) -> Callable[[str], str]:
    """A fresh migrated SQLite database; returns its URL."""

    def make(name: str) -> str:
        path = tmp_path / f"{name}.sqlite3"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"

    return make


def cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def workspace_names(capsys: pytest.CaptureFixture[str], *db: str) -> list[str]:
    code, out, err = cli(capsys, *db, "workspace", "list", "--json")
    assert code == 0, err
    return [w["name"] for w in json.loads(out)["workspaces"]]


def simulations_used(capsys: pytest.CaptureFixture[str], *args: object) -> int:
    code, out, err = cli(capsys, *args, "forecast", "--json", "--seed", "1")
    assert code == 0, err
    return json.loads(out)["simulation_stats"]["num_simulations"]


# --- precedence ------------------------------------------------------------------------


def test_defaults_without_any_configuration(config_file: Path) -> None:
    settings, path = load_settings()
    assert path == config_file
    assert settings.database_url is None
    assert settings.workspace is None
    assert settings.forecast.simulations == 10_000
    assert settings.forecast.timeframe == "30d"
    assert settings.resolved_database_url(current_locations()).endswith(
        str(config_file.parent.parent / "data" / "vectoros.sqlite3")
    )


def test_file_then_environment(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, new_db: Callable[[str], str]
) -> None:
    in_file, in_env = new_db("file"), new_db("env")
    write_config(
        config_file,
        f'database_url = "{in_file}"\nworkspace = "FromFile"\n\n[forecast]\nsimulations = 300\n',
    )
    settings, _ = load_settings()
    assert (settings.database_url, settings.workspace) == (in_file, "FromFile")
    assert settings.forecast.simulations == 300

    monkeypatch.setenv("VECTOROS_DATABASE_URL", in_env)
    monkeypatch.setenv("VECTOROS_FORECAST__SIMULATIONS", "400")
    monkeypatch.setenv("VECTOROS_WORKSPACE", "FromEnv")
    settings, _ = load_settings()
    assert settings.database_url == in_env
    assert settings.forecast.simulations == 400
    assert settings.workspace == "FromEnv"
    # Settings the environment does not mention still come from the file.
    write_config(config_file, '[forecast]\nsimulations = 300\ntimeframe = "60d"\n')
    assert load_settings()[0].forecast.timeframe == "60d"
    assert load_settings()[0].forecast.simulations == 400


def test_load_settings_takes_an_explicit_environment(config_file: Path, tmp_path: Path) -> None:
    write_config(config_file, "[forecast]\nsimulations = 300\n")
    env = {"VECTOROS_HOME": str(config_file.parent.parent), "VECTOROS_FORECAST__SIMULATIONS": "700"}
    settings, path = load_settings(env)
    assert settings.forecast.simulations == 700
    assert path == config_file


def test_database_precedence_through_the_cli(
    capsys: pytest.CaptureFixture[str],
    config_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    new_db: Callable[[str], str],
) -> None:
    """file < VECTOROS_DATABASE_URL < --db, seen through which database a command uses."""
    urls = {name: new_db(name) for name in ("file", "env", "flag")}
    for name, url in urls.items():
        code, _, err = cli(capsys, "--db", url, "workspace", "create", f"in-{name}")
        assert code == 0, err

    write_config(config_file, f'database_url = "{urls["file"]}"\n')
    assert workspace_names(capsys) == ["in-file"]

    monkeypatch.setenv("VECTOROS_DATABASE_URL", urls["env"])
    assert workspace_names(capsys) == ["in-env"]

    assert workspace_names(capsys, "--db", urls["flag"]) == ["in-flag"]


def test_forecast_settings_precedence_through_the_cli(
    capsys: pytest.CaptureFixture[str],
    config_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    new_db: Callable[[str], str],
) -> None:
    db = new_db("forecast")
    code, _, err = cli(capsys, "--db", db, "demo", "--deals", "30", "--seed", "1")
    assert code == 0, err
    assert simulations_used(capsys, "--db", db) == 10_000

    write_config(config_file, "[forecast]\nsimulations = 300\n")
    assert simulations_used(capsys, "--db", db) == 300

    monkeypatch.setenv("VECTOROS_FORECAST__SIMULATIONS", "400")
    assert simulations_used(capsys, "--db", db) == 400

    code, out, err = cli(capsys, "--db", db, "forecast", "--json", "--simulations", "200")
    assert code == 0, err
    assert json.loads(out)["simulation_stats"]["num_simulations"] == 200


def test_default_workspace_from_config(
    capsys: pytest.CaptureFixture[str],
    config_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    new_db: Callable[[str], str],
) -> None:
    db = new_db("workspaces")
    for name in ("Alpha", "Beta"):
        assert cli(capsys, "--db", db, "workspace", "create", name)[0] == 0

    code, _, err = cli(capsys, "--db", db, "deals", "add", "--title", "Where?")
    assert code == 2, "two workspaces and no default: the user must choose"
    assert "Alpha" in err and "Beta" in err

    write_config(config_file, 'workspace = "Beta"\n')
    code, out, err = cli(capsys, "--db", db, "deals", "add", "--title", "Here", "--json")
    assert code == 0, err
    listing = json.loads(cli(capsys, "--db", db, "workspace", "list", "--json")[1])
    beta = next(w for w in listing["workspaces"] if w["name"] == "Beta")
    assert json.loads(out)["workspaceId"] == beta["id"]
    assert cli(capsys, "--db", db, "score", "--json")[0] == 0

    monkeypatch.setenv("VECTOROS_WORKSPACE", "Alpha")
    code, out, err = cli(capsys, "--db", db, "deals", "list", "--json")
    assert code == 0, err
    assert json.loads(out)["total"] == 0, "VECTOROS_WORKSPACE=Alpha beats the file's Beta"

    code, out, err = cli(capsys, "--db", db, "deals", "list", "-w", "Beta", "--json")
    assert json.loads(out)["total"] == 1, "--workspace beats both"

    monkeypatch.setenv("VECTOROS_WORKSPACE", "Gamma")
    code, _, err = cli(capsys, "--db", db, "deals", "list")
    assert code == 2
    assert "Gamma" in err


def test_vectoros_config_points_to_another_file(
    capsys: pytest.CaptureFixture[str],
    config_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_config(config_file, 'workspace = "Default"\n')
    other = write_config(tmp_path / "elsewhere" / "team.toml", 'workspace = "Team"\n')
    monkeypatch.setenv("VECTOROS_CONFIG", str(other))
    settings, path = load_settings()
    assert path == other
    assert settings.workspace == "Team"

    code, out, err = cli(capsys, "doctor", "--json")
    assert json.loads(out)["paths"]["config_file"] == str(other)
    assert json.loads(out)["config_file_exists"] is True

    write_config(other, "[forecast]\nsimulations = 'many'\n")
    code, _, err = cli(capsys, "workspace", "list")
    assert code == 2
    assert str(other) in err

    # A file named on purpose but missing is a mistake to report, not the defaults.
    monkeypatch.setenv("VECTOROS_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match=r"missing\.toml, which is not a file"):
        load_settings()
    code, _, err = cli(capsys, "workspace", "list")
    assert code == 2 and "VECTOROS_CONFIG names" in err


# --- database URLs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            "postgres://u:pw@db.example.com:5432/sales",
            "postgresql+psycopg://u:pw@db.example.com:5432/sales",
        ),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("  sqlite:////tmp/x.sqlite3 ", "sqlite:////tmp/x.sqlite3"),
        ("", None),
    ],
)
def test_database_url_normalised(given: str, expected: str | None) -> None:
    assert Settings(database_url=given).database_url == expected


def test_postgres_url_from_the_environment_is_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VECTOROS_DATABASE_URL", "postgres://rep@localhost/pipeline")
    assert load_settings()[0].database_url == "postgresql+psycopg://rep@localhost/pipeline"


# --- invalid configuration -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('colour = "red"\n', "colour"),
        ("[forecast]\nsimulation = 500\n", "forecast.simulation"),
        ('[forecast]\nsimulations = "many"\n', "forecast.simulations"),
        ("[forecast]\nsimulations = 5\n", "forecast.simulations"),
        ('[forecast]\nscenario = "rosy"\n', "forecast.scenario"),
        ('[forecast]\ntimeframe = "3 weeks"\n', "forecast.timeframe"),
        # The forecast reads "30d" and " 30D ", not "30 d": refused here, not at the forecast.
        ('[forecast]\ntimeframe = "30 d"\n', "forecast.timeframe"),
        ('database_url = "mysql://x"\n', "database_url"),
        ('log_level = "LOUD"\n', "log_level"),
    ],
)
def test_invalid_config_file(
    capsys: pytest.CaptureFixture[str], config_file: Path, text: str, key: str
) -> None:
    write_config(config_file, text)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert key in str(caught.value)
    assert str(config_file) in str(caught.value)

    code, _, err = cli(capsys, "workspace", "list")
    assert code == 2, err
    assert key in err
    assert str(config_file) in err
    assert "Traceback" not in err


def test_bad_toml_syntax(capsys: pytest.CaptureFixture[str], config_file: Path) -> None:
    write_config(config_file, "[forecast\nsimulations = \n")
    code, _, err = cli(capsys, "workspace", "list")
    assert code == 2
    assert str(config_file) in err
    assert "TOML" in err
    assert "line" in err, "say where in the file"
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("VECTOROS_FORECAST__SIMULATIONS", "many"),
        ("VECTOROS_DATABASE_URL", "mysql://x"),
        ("VECTOROS_DATABSE_URL", "sqlite:///x.sqlite3"),
        ("VECTOROS_FORECAST__SCENARIO", "rosy"),
    ],
)
def test_invalid_environment_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=variable):
        load_settings()
    code, _, err = cli(capsys, "workspace", "list")
    assert code == 2, err
    assert variable in err
    assert "Traceback" not in err


def test_unsupported_database_flag(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "--db", "mysql://rep:HUNTER2@db/sales", "workspace", "list")
    assert code == 2, err
    assert "mysql" in err
    assert "--db" in err, "say which setting was wrong: the --db flag"
    assert "HUNTER2" not in out + err
    assert "Traceback" not in err


def test_config_errors_never_show_the_password(
    capsys: pytest.CaptureFixture[str], config_file: Path
) -> None:
    write_config(config_file, 'database_url = "mysql://rep:HUNTER2@db/sales"\n')
    code, out, err = cli(capsys, "workspace", "list")
    assert code == 2
    assert "HUNTER2" not in out + err


def test_settings_are_defaults_only_without_file_or_variables(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What lets `vectoros` skip pydantic before its first frame: true only when there is
    nothing that could change (or break) the settings."""
    locations = current_locations()
    quiet = {"VECTOROS_HOME": "x", "VECTOROS_API_TOKEN": "t", "PATH": "/bin"}
    assert not config_file.exists()
    assert settings_are_defaults(locations, quiet)
    assert not settings_are_defaults(locations, {**quiet, "VECTOROS_WORKSPACE": "Demo"})
    assert not settings_are_defaults(locations, {**quiet, "VECTOROS_UI__THEME": "nord"})
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text("")  # even an empty file: it is read and checked
    assert not settings_are_defaults(locations, quiet)
    other = config_file.with_name("other.toml")
    # A config file named explicitly is always read (and a missing one reported).
    assert not settings_are_defaults(locations, {**quiet, "VECTOROS_CONFIG": str(other)})
    with pytest.raises(ConfigError):
        load_settings({**quiet, "VECTOROS_CONFIG": str(other)})


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({}, PlainSettings(None, None)),
        ({"VECTOROS_DATABASE_URL": "  "}, PlainSettings(None, None)),
        ({"VECTOROS_WORKSPACE": "Acme"}, PlainSettings(None, "Acme")),
        (
            {"VECTOROS_DATABASE_URL": " postgres://rep@db:5432/crm ", "VECTOROS_WORKSPACE": ""},
            PlainSettings("postgresql+psycopg://rep@db:5432/crm", ""),
        ),
        (
            {"VECTOROS_DATABASE_URL": "postgresql+psycopg://rep:p%40ss@db/crm?sslmode=require"},
            PlainSettings("postgresql+psycopg://rep:p%40ss@db/crm?sslmode=require", None),
        ),
    ],
)
def test_plain_settings_read_as_load_settings_reads_them(
    config_file: Path, variables: dict[str, str], expected: PlainSettings
) -> None:
    """The database URL and workspace alone, from the environment, are read without
    pydantic (the app's first frame and the quick answers): as load_settings reads them."""
    environ = {"VECTOROS_HOME": "x", "PATH": "/bin", **variables}
    assert plain_settings(current_locations(), environ) == expected
    settings, _ = load_settings(environ)
    assert (settings.database_url, settings.workspace) == (
        expected.database_url,
        expected.workspace,
    )
    assert settings.model_dump(exclude={"database_url", "workspace"}) == Settings().model_dump(
        exclude={"database_url", "workspace"}
    )


def test_anything_more_is_left_to_load_settings(config_file: Path) -> None:
    locations = current_locations()
    url = {"VECTOROS_HOME": "x", "VECTOROS_DATABASE_URL": "postgresql+psycopg://rep@db/crm"}
    assert plain_settings(locations, url) is not None
    # Another setting, a URL to refuse (load_settings says why), a config file named or
    # present: each is read and checked by load_settings.
    assert plain_settings(locations, {**url, "VECTOROS_FORECAST__SIMULATIONS": "500"}) is None
    refused = {**url, "VECTOROS_DATABASE_URL": "mysql://rep@db/crm"}
    assert plain_settings(locations, refused) is None
    with pytest.raises(ConfigError, match="unsupported database"):
        load_settings(refused)
    assert plain_settings(locations, {**url, "VECTOROS_CONFIG": str(config_file)}) is None
    write_config(config_file, 'workspace = "Acme"\n')
    assert plain_settings(locations, url) is None
