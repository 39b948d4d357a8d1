"""Where settings come from (the config file, ``VECTOROS_*`` variables), without pydantic.

Validating settings means importing pydantic, a fifth of a second at start-up; the app's
first frame only needs to know that there is nothing to validate (see launch.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from vectoros_tui.locations import Locations

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


def settings_are_defaults(locations: Locations, environ: Mapping[str, str]) -> bool:
    """No config file and no setting in the environment: the settings are the defaults."""
    if any(n.startswith(ENV_PREFIX) and n not in NOT_SETTINGS for n in environ):
        return False
    if environ.get("VECTOROS_CONFIG"):
        return False  # named on purpose: read and checked (a missing one is an error)
    return not config_file_path(locations, environ).exists()
