"""Who "me" is: the configured user, else the operating-system user.

Deals a rep creates are theirs and "mine" means theirs, so every command needs an answer
that stays the same from run to run: ``[user] email`` in the config (or
``VECTOROS_USER__EMAIL``) when set, else the login name at this machine's name. Against
the team backend the token's user is who you are there (see ``vectoros whoami``).
"""

from __future__ import annotations

import getpass
import re
import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class Identity:
    email: str
    name: str | None
    source: str  # where the answer came from, for `vectoros whoami`


def os_identity() -> Identity:
    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container's arbitrary uid)
        login = "user"
    login = re.sub(r"[^a-z0-9._-]+", "-", login.casefold()).strip("-.") or "user"
    host = re.sub(r"[^a-z0-9.-]+", "-", socket.gethostname().casefold()).strip("-.")
    host = host or "localhost"
    # An address needs a dot in its domain; a bare host name gets mDNS's ".local".
    domain = host if "." in host else f"{host}.local"
    return Identity(f"{login}@{domain}", login, f"the OS user {login!r} on this machine")


def who_am_i(email: str | None, name: str | None, origin: str | None) -> Identity:
    """The identity from the settings (``email``/``name`` and where they came from), else
    the OS user's."""
    if email:
        return Identity(email.strip().casefold(), name, origin or "the config")
    found = os_identity()
    return Identity(found.email, name or found.name, found.source)
