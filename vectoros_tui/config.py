"""Typed settings: the TOML config file, overridden by ``VECTOROS_*`` variables, overridden
by command-line flags (the CLI applies those last with :meth:`Settings.with_overrides`).

Errors name the key and where it came from (the file, or the variable), so the user can
fix it; the CLI turns :class:`ConfigError` into exit code 2.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from vectoros_tui.config_sources import (
    ENV_PREFIX,
    NOT_SETTINGS,
    config_file_path,
)
from vectoros_tui.forecast_defaults import (
    FORECAST_SCENARIO,
    FORECAST_SIMULATIONS,
    FORECAST_TIMEFRAME,
)
from vectoros_tui.locations import Locations, current_locations
from vectoros_tui.store.urls import DatabaseURLError, normalise_database_url, sqlite_url_for


class ConfigError(ValueError):
    pass


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ForecastSettings(_Section):
    timeframe: str = Field(default=FORECAST_TIMEFRAME, pattern=r"^\s*[1-9]\d{0,3}[dD]\s*$")
    scenario: Literal["worst", "likely", "best"] = FORECAST_SCENARIO
    simulations: int = Field(default=FORECAST_SIMULATIONS, ge=100, le=1_000_000)
    goal: float | None = Field(default=None, ge=0)


class UISettings(_Section):
    # "auto": the app's own theme for the terminal (its 16-colour one where there are 16).
    theme: str = Field(default="auto", min_length=1)
    keys: dict[str, str] = Field(default_factory=dict)


class SimilarSettings(_Section):
    # "builtin" (packaged all-MiniLM-L6-v2, offline) or a fastembed model name.
    model: str = Field(default="builtin", min_length=1)
    # A folder with the model's ONNX and tokenizer files, loaded without network.
    model_path: Path | None = None
    # onnxruntime threads: capped so one rep's indexing leaves cores for the others.
    threads: int = Field(default=2, ge=1, le=64)
    # A Qdrant server for the team; unset = the embedded index in the data folder.
    qdrant_url: str | None = Field(default=None, pattern=r"^(https?://\S+|:memory:)$")
    # Indexing commits the index every this many deals: a killed `vectoros reindex` keeps
    # what it committed and the next run goes on from there. A commit costs 15-150 ms.
    flush_every: int = Field(default=512, ge=1, le=1_000_000)

    @field_validator("model_path")
    @classmethod
    def _folder(cls, value: Path | None) -> Path | None:
        if value is None or not str(value).strip():
            return None
        folder = value.expanduser()
        if not folder.is_dir():
            raise ValueError(f"{folder} is not a folder")
        return folder


class ServerSettings(_Section):
    # `vectoros serve` refuses a request body over this many bytes (413) before reading it.
    max_body_bytes: int = Field(default=1_000_000, ge=1_024, le=100_000_000)


class UserSettings(_Section):
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    name: str | None = Field(default=None, max_length=200)


class Settings(_Section):
    database_url: str | None = None
    workspace: str | None = None
    user: UserSettings = Field(default_factory=UserSettings)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    forecast: ForecastSettings = Field(default_factory=ForecastSettings)
    ui: UISettings = Field(default_factory=UISettings)
    similar: SimilarSettings = Field(default_factory=SimilarSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)

    @field_validator("database_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            return normalise_database_url(value)
        except DatabaseURLError as exc:
            raise ValueError(str(exc)) from None

    def resolved_database_url(self, locations: Locations) -> str:
        return self.database_url or sqlite_url_for(locations.database_file)


def _env_overrides(environ: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Nested dict of env settings and, for messages, dotted key -> variable name.

    ``VECTOROS_FORECAST__SIMULATIONS`` sets ``forecast.simulations``.
    """
    data: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name in NOT_SETTINGS:
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        node = data
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{name}: conflicts with another VECTOROS_ variable")
        node[path[-1]] = value
        origin[".".join(path)] = name
    return data, origin


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


def _describe(error: Any, origin: Mapping[str, str], config_file: Path) -> str:
    key = ".".join(str(p) for p in error["loc"])
    if key in origin:
        where = f"environment variable {origin[key]}"
    else:
        where = f"{config_file}, key '{key}'"
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown setting (check the spelling; see README 'Configuration')"
    return f"{where}: {message}"


def load_settings(
    environ: Mapping[str, str] | None = None, locations: Locations | None = None
) -> tuple[Settings, Path]:
    """Read the config file (if any) and the environment. Returns settings and the file."""
    env = os.environ if environ is None else environ
    where = locations or current_locations(env)
    path = config_file_path(where, env)
    file_data: dict[str, Any] = {}
    if env.get("VECTOROS_CONFIG") and not path.is_file():
        # Named on purpose: running on the defaults instead would hide the mistake.
        raise ConfigError(f"VECTOROS_CONFIG names {path}, which is not a file")
    if path.exists():
        try:
            file_data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"{path}: not UTF-8 text (byte {exc.start + 1}); save it as UTF-8"
            ) from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the config file: {exc.strerror}") from None
    env_data, origin = _env_overrides(env)
    try:
        return Settings.model_validate(_merge(file_data, env_data)), path
    except ValidationError as exc:
        problems = "\n  ".join(_describe(e, origin, path) for e in exc.errors())
        raise ConfigError(f"invalid configuration:\n  {problems}") from None
