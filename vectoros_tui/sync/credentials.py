"""Where the sync token lives: environment variable, OS keyring, or a private file.

The same order gh, twine and Poetry use:

1. ``VECTOROS_API_TOKEN`` in the environment wins (CI, containers, one-off runs). ``set`` and
   ``delete`` never touch it, and say so.
2. The OS keyring, when the ``keyring`` package finds a real backend (not its fail or null
   backend). Every keyring call runs in a daemon thread and is abandoned after
   ``keyring_timeout`` seconds: a locked keyring can block forever waiting for an unlock prompt
   nobody sees. After a timeout or an error this store stops asking the keyring and uses the
   file, with a note saying why (``TokenStore.keyring_problem``).
3. ``<config_dir>/credentials.toml``: mode 0600 in a 0700 folder, written atomically, one table
   per server. It is plain text, so storing there returns a warning for the CLI to print, and
   it is refused (with the ``chmod 600`` fix) if other users can read it.

Tokens are keyed by the server URL reduced to scheme, host and port (``normalize_server_url``).
A token's value never appears in a repr, an exception message, a note or a log line.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
import tomllib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NoReturn
from urllib.parse import urlsplit

from vectoros_tui.locations import Locations, ensure_dir
from vectoros_tui.sync.errors import SyncError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

log = logging.getLogger(__name__)

ENV_VAR = "VECTOROS_API_TOKEN"
KEYRING_SERVICE = "vectoros"
CREDENTIALS_FILENAME = "credentials.toml"
DEFAULT_KEYRING_TIMEOUT = 3.0
KEYRING = "keyring"

Source = Literal["environment", "keyring", "file"]
_DEFAULT_PORTS = {"http": 80, "https": 443}


class CredentialsError(SyncError):
    """A token could not be read or stored. The message is for the user, never has the token."""


class _KeyringUnusable(Exception):
    """Internal: the keyring is absent, timed out or failed; the message says which."""


@dataclass(frozen=True, repr=False)
class Token:
    """A sync token and where it came from. Printing it never shows the value."""

    value: str
    source: Source

    def __repr__(self) -> str:
        return f"Token(source={self.source!r}, value='***')"

    __str__ = __repr__


@dataclass(frozen=True)
class SetResult:
    """Where ``TokenStore.set`` put the token, and what the CLI should print.

    ``location`` is ``"keyring"`` or the credentials file's path. ``plain_text`` is true when
    the token went to the file; ``notes`` then starts with the plain-text warning. Notes also
    explain a keyring that failed or timed out, and an environment variable that overrides
    the stored token.
    """

    location: str
    plain_text: bool
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.location


@dataclass(frozen=True)
class DeleteResult:
    """What ``TokenStore.delete`` removed. Truthy when a stored token was removed."""

    removed: bool
    locations: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.removed


@dataclass(frozen=True)
class TokenLocation:
    """For status output: where the token for a server comes from (never the token).

    ``source`` is None when no token was found; ``location`` is the environment variable's
    name, ``"keyring"`` or the file path; ``problem`` explains a file that could not be read.
    """

    server: str
    source: Source | None
    location: str | None
    notes: tuple[str, ...] = ()
    problem: str | None = None

    def __str__(self) -> str:
        if self.source == "environment":
            text = f"{self.server}: token from the environment variable {ENV_VAR}"
            text += " (it overrides any stored token)"
        elif self.source == "keyring":
            text = f"{self.server}: token in the system keyring"
        elif self.source == "file":
            text = f"{self.server}: token in {self.location} (plain text, readable only by you)"
        elif self.problem:
            text = f"{self.server}: token unavailable: {self.problem}"
        else:
            text = f"{self.server}: no token stored"
        return "\n".join([text, *self.notes])


def normalize_server_url(server_url: str) -> str:
    """Reduce a server URL to ``scheme://host[:port]``: lower case, no default port, no path.

    A bare host name means https. Error messages never repeat the URL (it may carry a
    password in its user-info part).
    """
    raw = server_url.strip()
    if not raw:
        raise CredentialsError("the server URL is empty")
    if "://" not in raw:
        raw = "https://" + raw
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise CredentialsError("the server URL must start with http:// or https://")
    host = parts.hostname
    if not host:
        raise CredentialsError("the server URL has no host name")
    try:
        port = parts.port
    except ValueError:
        raise CredentialsError("the server URL has an invalid port") from None
    if ":" in host:  # IPv6 literal: urlsplit strips the brackets
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


class TokenStore:
    """Reads and stores sync tokens per server: environment, then keyring, then file."""

    def __init__(
        self,
        locations: Locations,
        *,
        keyring_timeout: float = DEFAULT_KEYRING_TIMEOUT,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        self._locations = locations
        self._keyring_timeout = keyring_timeout
        self._environ = environ
        self._keyring_problem: str | None = None
        # True when a keyring exists but timed out or failed: worth a note, unlike a machine
        # that simply has no keyring (the plain-text warning covers that).
        self._keyring_failed = False

    @property
    def file_path(self) -> Path:
        return self._locations.config_dir / CREDENTIALS_FILENAME

    @property
    def keyring_problem(self) -> str | None:
        """Why the keyring is not used (absent, timed out, failed), once a call found out."""
        return self._keyring_problem

    # -- public API -------------------------------------------------------------------------

    def get(self, server_url: str) -> Token | None:
        """The token for ``server_url``, or None. Raises CredentialsError for an unsafe or
        unreadable credentials file."""
        server = normalize_server_url(server_url)
        env_value = self._env_token()
        if env_value is not None:
            return Token(env_value, "environment")
        try:
            value = self._keyring_call(lambda kr: kr.get_password(KEYRING_SERVICE, server))
        except _KeyringUnusable:
            value = None
        if value:
            return Token(value, "keyring")
        # Also read the file when the keyring is up: a token stored there while the keyring
        # was locked or absent still counts.
        value = self._read_file().get(server)
        if value:
            return Token(value, "file")
        return None

    def set(self, server_url: str, token: str) -> SetResult:
        """Store ``token`` for ``server_url`` in the keyring, else in the file (with a
        plain-text warning among the notes)."""
        server = normalize_server_url(server_url)
        value = token.strip()
        if not value:
            raise CredentialsError("the token is empty")
        notes: list[str] = []
        try:
            self._keyring_call(
                lambda kr: kr.set_password(KEYRING_SERVICE, server, value), secret=value
            )
        except _KeyringUnusable:
            path = self._write_entry(server, value)
            notes.append(self._plain_text_warning(path))
            location, plain_text = str(path), True
        else:
            location, plain_text = KEYRING, False
            # No stale plain-text copy left behind once the keyring holds the token.
            try:
                self._remove_entry(server)
            except CredentialsError as exc:
                notes.append(f"note: an older token may remain in {self.file_path}: {exc}")
        if self._env_token() is not None:
            notes.append(self._env_note("set"))
        return SetResult(location, plain_text, tuple(notes))

    def delete(self, server_url: str) -> DeleteResult:
        """Remove the stored token for ``server_url`` from the keyring and the file. The
        environment variable is left alone (a note says so)."""
        server = normalize_server_url(server_url)
        removed: list[str] = []
        notes: list[str] = []
        try:
            if self._keyring_call(lambda kr: _keyring_delete(kr, server)):
                removed.append(KEYRING)
        except _KeyringUnusable:
            if self._keyring_failed:
                notes.append(f"note: any keyring entry was not removed: {self._keyring_problem}")
        if self._remove_entry(server):
            removed.append(str(self.file_path))
        if self._env_token() is not None:
            notes.append(self._env_note("delete"))
        return DeleteResult(bool(removed), tuple(removed), tuple(notes))

    def where(self, server_url: str) -> TokenLocation:
        """Where the token for ``server_url`` comes from, for status output. Never raises for
        an unreadable file: the problem is reported instead."""
        server = normalize_server_url(server_url)
        try:
            token = self.get(server)
        except CredentialsError as exc:
            return TokenLocation(server, None, None, self._status_notes(), str(exc))
        if token is None:
            return TokenLocation(server, None, None, self._status_notes())
        location = {
            "environment": ENV_VAR,
            "keyring": KEYRING,
            "file": str(self.file_path),
        }[token.source]
        return TokenLocation(server, token.source, location, self._status_notes())

    # -- environment ------------------------------------------------------------------------

    def _env_token(self) -> str | None:
        value = self._environ.get(ENV_VAR, "").strip()
        return value or None

    @staticmethod
    def _env_note(action: str) -> str:
        verb = "stored" if action == "set" else "removed"
        return (
            f"note: {ENV_VAR} is set in the environment; it was not changed and it overrides "
            f"the {verb} token until you unset it"
        )

    # -- keyring ----------------------------------------------------------------------------

    def _keyring_call(self, operation: Callable[[Any], Any], *, secret: str = "") -> Any:
        """Run ``operation(backend)`` in a daemon thread with the timeout.

        Raises _KeyringUnusable (and remembers why, so later calls skip the keyring at once)
        when there is no real backend, the call times out, or it fails.
        """
        if self._keyring_problem is not None:
            raise _KeyringUnusable(self._keyring_problem)
        outcome: dict[str, object] = {}

        def run() -> None:
            try:
                outcome["value"] = operation(_real_backend())
            except BaseException as exc:
                outcome["error"] = exc

        worker = threading.Thread(target=run, name="vectoros-keyring", daemon=True)
        worker.start()
        worker.join(self._keyring_timeout)
        if worker.is_alive():
            problem = (
                f"the system keyring did not answer within {self._keyring_timeout:g} s "
                "(is it locked?)"
            )
            self._keyring_unusable(problem, loud=True)
        error = outcome.get("error")
        if isinstance(error, _NoRealBackend):
            self._keyring_unusable(str(error), loud=False)
        if isinstance(error, BaseException):
            detail = _scrub(f"{type(error).__name__}: {error}", secret)
            self._keyring_unusable(f"the system keyring failed ({detail})", loud=True)
        return outcome.get("value")

    def _keyring_unusable(self, problem: str, *, loud: bool) -> NoReturn:
        self._keyring_problem = problem
        self._keyring_failed = loud
        if loud:
            log.warning("%s; using %s instead", problem, self.file_path)
        else:
            log.info("%s", problem)
        raise _KeyringUnusable(problem)

    def _status_notes(self) -> tuple[str, ...]:
        if self._keyring_failed:
            return (f"note: {self._keyring_problem}; the keyring was not used",)
        return ()

    # -- file -------------------------------------------------------------------------------

    def _plain_text_warning(self, path: Path) -> str:
        reason = (
            self._keyring_problem
            if self._keyring_failed and self._keyring_problem
            else "no system keyring is available"
        )
        return (
            f"warning: {reason}; the token is stored in plain text in {path} (readable only by you)"
        )

    def _read_file(self) -> dict[str, str]:
        """Tokens per normalised server URL; {} when the file does not exist."""
        path = self.file_path
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(path, flags)
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise CredentialsError(
                f"cannot open the credentials file {path}: {exc.strerror or exc}"
            ) from None
        with os.fdopen(fd, "rb") as handle:
            _check_private(os.fstat(handle.fileno()), path)
            data = handle.read()
        try:
            document = tomllib.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            where = f" ({exc})" if isinstance(exc, tomllib.TOMLDecodeError) else ""
            raise CredentialsError(
                f"the credentials file {path} is damaged and cannot be read{where}; "
                "fix it, or delete it and run `vectoros login` again"
            ) from None
        tokens: dict[str, str] = {}
        for server, entry in document.items():
            value = entry.get("token") if isinstance(entry, dict) else None
            if not isinstance(value, str):
                raise CredentialsError(
                    f"the credentials file {path} has an entry without a token string; "
                    "fix it, or delete it and run `vectoros login` again"
                )
            tokens[server] = value
        return tokens

    def _write_entry(self, server: str, value: str) -> Path:
        tokens = self._read_file()
        tokens[server] = value
        self._write_file(tokens)
        return self.file_path

    def _remove_entry(self, server: str) -> bool:
        if not self.file_path.exists():
            return False
        tokens = self._read_file()
        if server not in tokens:
            return False
        del tokens[server]
        self._write_file(tokens)
        return True

    def _write_file(self, tokens: dict[str, str]) -> None:
        """Replace the file atomically (0600 temp file, fsync, rename); remove it when empty."""
        path = self.file_path
        if not tokens:
            path.unlink(missing_ok=True)
            return
        try:
            ensure_dir(path.parent)
            temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            fd = os.open(temp, flags, 0o600)
            try:
                with os.fdopen(fd, "wb") as handle:
                    if hasattr(os, "fchmod"):
                        os.fchmod(handle.fileno(), 0o600)  # whatever the umask did
                    handle.write(_render(tokens).encode("utf-8"))
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temp, path)
            except BaseException:
                temp.unlink(missing_ok=True)
                raise
            _fsync_dir(path.parent)
        except OSError as exc:
            raise CredentialsError(
                f"cannot write the credentials file {path}: {exc.strerror or exc}"
            ) from None


class _NoRealBackend(Exception):
    pass


def _real_backend() -> KeyringBackend:
    """The keyring backend, or _NoRealBackend when it is keyring's fail or null backend."""
    try:
        import keyring
        from keyring.backends import fail, null
    except ImportError:
        raise _NoRealBackend("the keyring package is not installed") from None
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring | null.Keyring):
        raise _NoRealBackend("no system keyring is available")
    return backend


def _keyring_delete(backend: KeyringBackend, server: str) -> bool:
    from keyring.errors import PasswordDeleteError

    if backend.get_password(KEYRING_SERVICE, server) is None:
        return False
    try:
        backend.delete_password(KEYRING_SERVICE, server)
    except PasswordDeleteError:
        return False
    return True


def _check_private(info: os.stat_result, path: Path) -> None:
    if os.name != "posix":
        return
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise CredentialsError(
            f"refusing to read {path}: it belongs to another user; delete it and run "
            "`vectoros login` again"
        )
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise CredentialsError(
            f"refusing to read {path}: other users can access it (mode {mode:04o}); "
            f"run `chmod 600 {path}` and try again"
        )


def _render(tokens: dict[str, str]) -> str:
    lines = [
        "# VectorOS sync tokens, one table per server. Plain text: keep this file mode 0600.",
        "# Written by VectorOS, which prefers the system keyring when one is available.",
    ]
    for server in sorted(tokens):
        lines += ["", f"[{_toml_string(server)}]", f"token = {_toml_string(tokens[server])}"]
    return "\n".join(lines) + "\n"


def _toml_string(text: str) -> str:
    """A TOML basic string: escape quotes, backslashes and control characters."""
    out = []
    for char in text:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _scrub(text: str, secret: str) -> str:
    return text.replace(secret, "***") if secret else text


__all__ = [
    "CREDENTIALS_FILENAME",
    "ENV_VAR",
    "KEYRING_SERVICE",
    "CredentialsError",
    "DeleteResult",
    "SetResult",
    "Token",
    "TokenLocation",
    "TokenStore",
    "normalize_server_url",
]
