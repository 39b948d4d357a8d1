"""Where settings come from (the config file, ``VECTOROS_*`` variables), without pydantic.

Validating settings means importing pydantic, a fifth of a second at start-up; the app's
first frame only needs to know that there is nothing to validate (see launch.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from vectoros_tui.locations import Locations
from vectoros_tui.store.urls import DatabaseURLError, normalise_database_url

ENV_PREFIX = "VECTOROS_"
# Variables with the prefix that are not settings (read elsewhere).
NOT_SETTINGS = frozenset(
    {
        "VECTOROS_HOME",
        "VECTOROS_CONFIG",
        "VECTOROS_API_TOKEN",
        "VECTOROS_QDRANT_API_KEY",
        "VECTOROS_TEST_PG_URL",
    }
)


def config_file_path(locations: Locations, environ: Mapping[str, str]) -> Path:
    explicit = environ.get("VECTOROS_CONFIG")
    return Path(explicit).expanduser() if explicit else locations.config_file


# The settings a shared server commonly gives in the environment alone. Neither has a check
# of pydantic's own: the URL's is normalise_database_url's, and a workspace is any text.
_PLAIN = frozenset({"VECTOROS_DATABASE_URL", "VECTOROS_WORKSPACE"})


@dataclass(frozen=True)
class PlainSettings:
    """The settings when every other one is its default."""

    database_url: str | None  # None: the data folder's own SQLite file
    workspace: str | None


def plain_settings(locations: Locations, environ: Mapping[str, str]) -> PlainSettings | None:
    """The settings when there is no config file and the environment sets at most
    VECTOROS_DATABASE_URL and VECTOROS_WORKSPACE, as config.load_settings would read them;
    None when there is more to read and check (or a URL to refuse): load_settings does it,
    and says what is wrong."""
    if any(n.startswith(ENV_PREFIX) and n not in NOT_SETTINGS | _PLAIN for n in environ):
        return None
    if environ.get("VECTOROS_CONFIG"):
        return None  # named on purpose: read and checked (a missing one is an error)
    if config_file_path(locations, environ).exists():
        return None
    url = environ.get("VECTOROS_DATABASE_URL")
    if url is not None and url.strip():
        try:
            url = normalise_database_url(url)
        except DatabaseURLError:
            return None
    else:
        url = None
    return PlainSettings(url, environ.get("VECTOROS_WORKSPACE"))


def settings_are_defaults(locations: Locations, environ: Mapping[str, str]) -> bool:
    """No config file and no setting in the environment: the settings are the defaults."""
    return plain_settings(locations, environ) == PlainSettings(None, None)
