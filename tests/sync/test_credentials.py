"""Where the sync token lives: environment variable, OS keyring, or the private file.

The file fallback runs for real: every test starts with keyring's own fail backend, which is
what keyring picks on this machine (no D-Bus session) and on any headless server, so a
developer's real keyring is never touched. The keyring path is exercised with small
in-process backends (real ``keyring.backend.KeyringBackend`` subclasses that keep passwords
in a dict, block, or fail). They stand in for the OS keyring, which cannot run here; the
code under test talks to them through ``keyring.get_keyring()`` exactly as it would to the
Secret Service, macOS Keychain or Windows Credential Locker.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import PasswordDeleteError, PasswordSetError

from vectoros_tui.locations import Locations, current_locations
from vectoros_tui.sync.credentials import (
    ENV_VAR,
    KEYRING_SERVICE,
    CredentialsError,
    Token,
    TokenStore,
    normalize_server_url,
)
from vectoros_tui.sync.errors import SyncError

SERVER = "https://crm.example.com"
OTHER = "https://other.example.org:8443"
SECRET = "vx_live_9f8e7d6c5b4a39281706"
SECRET_2 = "vx_live_0a1b2c3d4e5f60718293"


class _ExplicitOnly:
    """A ``priority`` that makes keyring skip the class when it picks a backend by itself,
    so these test backends are only ever used when a test installs one explicitly."""

    def __get__(self, instance: object, owner: type) -> float:
        raise RuntimeError("test backend: used only when set with keyring.set_keyring")


class DictKeyring(KeyringBackend):
    """Stands in for the OS keyring: keeps passwords in a dict, in this process."""

    priority = _ExplicitOnly()

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.passwords:
            raise PasswordDeleteError("not found")
        del self.passwords[(service, username)]


class BlockingKeyring(KeyringBackend):
    """A locked keyring: every call waits (for an unlock prompt nobody answers)."""

    priority = _ExplicitOnly()

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.calls = 0

    def _block(self) -> None:
        self.calls += 1
        self.release.wait(30)

    def get_password(self, service: str, username: str) -> str | None:
        self._block()
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self._block()

    def delete_password(self, service: str, username: str) -> None:
        self._block()


class BrokenKeyring(KeyringBackend):
    """A keyring whose errors (carelessly) quote the password."""

    priority = _ExplicitOnly()

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise PasswordSetError(f"cannot store {password!r} for {username}")

    def delete_password(self, service: str, username: str) -> None:
        raise PasswordDeleteError("not found")


@pytest.fixture(autouse=True)
def no_system_keyring() -> Iterator[None]:
    """Start every test on keyring's fail backend; restore whatever was there afterwards."""
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def locations() -> Locations:
    return current_locations()  # under the isolated VECTOROS_HOME


@pytest.fixture
def tokens(locations: Locations) -> TokenStore:
    return TokenStore(locations, environ={})


@pytest.fixture
def dict_keyring() -> DictKeyring:
    backend = DictKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
def blocking_keyring() -> Iterator[BlockingKeyring]:
    backend = BlockingKeyring()
    keyring.set_keyring(backend)
    yield backend
    backend.release.set()  # let the abandoned worker threads finish


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- file fallback (no keyring: the real situation on this machine) ------------------------


def test_file_round_trip_without_a_keyring(tokens: TokenStore, locations: Locations) -> None:
    path = locations.config_dir / "credentials.toml"
    assert tokens.file_path == path
    assert tokens.get(SERVER) is None

    result = tokens.set(SERVER, SECRET)

    assert result.location == str(path)
    assert result.plain_text is True
    assert result.notes == (
        "warning: no system keyring is available; the token is stored in plain text in "
        f"{path} (readable only by you)",
    )
    assert tokens.keyring_problem == "no system keyring is available"
    assert tokens.get(SERVER) == Token(SECRET, "file")
    # Another process (a fresh store) reads the same file.
    assert TokenStore(locations, environ={}).get(SERVER) == Token(SECRET, "file")

    assert tokens.delete(SERVER)
    assert tokens.get(SERVER) is None
    assert not path.exists()  # the last token gone: no file left
    assert not tokens.delete(SERVER)


def test_set_replaces_the_token_and_strips_whitespace(tokens: TokenStore) -> None:
    tokens.set(SERVER, SECRET)
    tokens.set(SERVER, f"  {SECRET_2}\n")
    assert tokens.get(SERVER) == Token(SECRET_2, "file")


def test_empty_token_is_refused(tokens: TokenStore) -> None:
    with pytest.raises(CredentialsError, match="the token is empty"):
        tokens.set(SERVER, " \n")


def test_file_is_0600_and_folder_0700_whatever_the_umask(locations: Locations) -> None:
    old_umask = os.umask(0)  # the most permissive umask: nothing may depend on it
    try:
        TokenStore(locations, environ={}).set(SERVER, SECRET)
    finally:
        os.umask(old_umask)
    path = locations.config_dir / "credentials.toml"
    assert mode_of(path) == 0o600
    assert mode_of(path.parent) == 0o700


def test_file_is_written_atomically_as_valid_toml(tokens: TokenStore) -> None:
    tokens.set(SERVER, SECRET)
    first_inode = tokens.file_path.stat().st_ino
    tokens.set(OTHER, 'odd "token" \\ with\ttab')

    # Replaced by rename, not rewritten in place; no temporary files left behind.
    assert tokens.file_path.stat().st_ino != first_inode
    assert sorted(p.name for p in tokens.file_path.parent.iterdir()) == ["credentials.toml"]
    document = tomllib.loads(tokens.file_path.read_text(encoding="utf-8"))
    assert document == {
        SERVER: {"token": SECRET},
        OTHER: {"token": 'odd "token" \\ with\ttab'},
    }
    assert mode_of(tokens.file_path) == 0o600


def test_tokens_for_two_servers_are_kept_apart(tokens: TokenStore) -> None:
    tokens.set(SERVER, SECRET)
    tokens.set(OTHER, SECRET_2)
    assert tokens.get(SERVER) == Token(SECRET, "file")
    assert tokens.get(OTHER) == Token(SECRET_2, "file")
    assert tokens.get("https://third.example.com") is None

    assert tokens.delete(SERVER)
    assert tokens.get(SERVER) is None
    assert tokens.get(OTHER) == Token(SECRET_2, "file")


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_file_readable_by_others_is_refused_with_the_chmod_fix(
    tokens: TokenStore, mode: int
) -> None:
    tokens.set(SERVER, SECRET)
    tokens.file_path.chmod(mode)

    with pytest.raises(CredentialsError) as caught:
        tokens.get(SERVER)
    message = str(caught.value)
    assert f"run `chmod 600 {tokens.file_path}`" in message
    assert f"mode {mode:04o}" in message
    assert SECRET not in message
    # Writing is refused too (it would have to read the other tokens first).
    with pytest.raises(CredentialsError, match="chmod 600"):
        tokens.set(OTHER, SECRET_2)
    # Status output reports the problem instead of crashing.
    status = tokens.where(SERVER)
    assert status.source is None
    assert status.problem is not None and "chmod 600" in status.problem

    tokens.file_path.chmod(0o600)
    assert tokens.get(SERVER) == Token(SECRET, "file")


@pytest.mark.parametrize(
    "content",
    [
        b'["https://crm.example.com"]\ntoken = "' + SECRET.encode() + b"\n",  # unterminated
        b"this is not toml at all " + SECRET.encode() + b"\n",
        b'["https://crm.example.com"]\ntoken = 42\n',  # not a string
        b'"https://crm.example.com" = "' + SECRET.encode() + b'"\n',  # not a table
        b"\xff\xfe\x00garbage",  # not UTF-8
    ],
)
def test_damaged_file_gives_a_clear_error(
    tokens: TokenStore, locations: Locations, content: bytes
) -> None:
    path = tokens.file_path
    path.parent.mkdir(parents=True, mode=0o700)
    path.write_bytes(content)
    path.chmod(0o600)

    with pytest.raises(CredentialsError) as caught:
        tokens.get(SERVER)
    message = str(caught.value)
    assert message.startswith(f"the credentials file {path} ")
    assert "delete it and run `vectoros login` again" in message
    assert SECRET not in message
    # No chained parser exception: the CLI shows one line, not a traceback's worth.
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__
    assert isinstance(caught.value, SyncError)  # the CLI reports every sync error alike


# -- environment variable --------------------------------------------------------------------


def test_environment_variable_wins_and_set_delete_leave_it_alone(
    locations: Locations, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_VAR, SECRET_2)
    tokens = TokenStore(locations)  # reads os.environ

    assert tokens.get(SERVER) == Token(SECRET_2, "environment")
    result = tokens.set(SERVER, SECRET)
    assert result.plain_text
    assert any(ENV_VAR in note and "overrides" in note for note in result.notes)
    assert tokens.get(SERVER) == Token(SECRET_2, "environment")
    assert tokens.where(SERVER).source == "environment"
    assert tokens.where(SERVER).location == ENV_VAR

    deleted = tokens.delete(SERVER)
    assert deleted  # the stored token is gone ...
    assert any(ENV_VAR in note and "not changed" in note for note in deleted.notes)
    assert os.environ[ENV_VAR] == SECRET_2  # ... the environment variable is not
    assert tokens.get(SERVER) == Token(SECRET_2, "environment")

    monkeypatch.delenv(ENV_VAR)
    assert tokens.get(SERVER) is None


def test_empty_environment_variable_is_ignored(locations: Locations) -> None:
    tokens = TokenStore(locations, environ={ENV_VAR: "  "})
    tokens.set(SERVER, SECRET)
    assert tokens.get(SERVER) == Token(SECRET, "file")


# -- server URL normalisation ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://crm.example.com", "https://crm.example.com"),
        ("https://crm.example.com/", "https://crm.example.com"),
        ("HTTPS://CRM.Example.com:443/", "https://crm.example.com"),
        ("https://crm.example.com/api/v1?x=1#top", "https://crm.example.com"),
        ("http://crm.example.com:80", "http://crm.example.com"),
        ("http://crm.example.com:443", "http://crm.example.com:443"),
        ("https://crm.example.com:8443/", "https://crm.example.com:8443"),
        ("  crm.example.com  ", "https://crm.example.com"),
        ("http://[::1]:8000/", "http://[::1]:8000"),
        ("https://rep:pw@crm.example.com/", "https://crm.example.com"),
    ],
)
def test_server_url_normalisation(given: str, expected: str) -> None:
    assert normalize_server_url(given) == expected


def test_equivalent_urls_share_a_token_and_ports_do_not(tokens: TokenStore) -> None:
    tokens.set("https://crm.example.com/", SECRET)
    assert tokens.get("HTTPS://crm.example.com:443") == Token(SECRET, "file")
    assert tokens.get("https://crm.example.com:8443") is None
    assert tokens.get("http://crm.example.com") is None
    assert tokens.delete("https://CRM.example.com")
    assert tokens.get("https://crm.example.com/") is None


@pytest.mark.parametrize(
    "bad", ["", "   ", "ftp://crm.example.com", "https://", "https://rep:s3cret@host:99999"]
)
def test_bad_server_url_is_refused_without_echoing_it(tokens: TokenStore, bad: str) -> None:
    with pytest.raises(CredentialsError) as caught:
        tokens.get(bad)
    assert "s3cret" not in str(caught.value)


# -- keyring ---------------------------------------------------------------------------------


def test_real_keyring_backend_is_used(tokens: TokenStore, dict_keyring: DictKeyring) -> None:
    """DictKeyring stands in for the OS keyring, which cannot run on this machine."""
    result = tokens.set(SERVER + "/", SECRET)

    assert result.location == "keyring"
    assert not result.plain_text
    assert result.notes == ()
    assert dict_keyring.passwords == {(KEYRING_SERVICE, SERVER): SECRET}
    assert not tokens.file_path.exists()  # nothing in plain text
    assert tokens.get(SERVER) == Token(SECRET, "keyring")
    assert tokens.where(SERVER).source == "keyring"
    assert tokens.keyring_problem is None

    assert tokens.delete(SERVER).locations == ("keyring",)
    assert dict_keyring.passwords == {}
    assert tokens.get(SERVER) is None
    assert not tokens.delete(SERVER)


def test_keyring_store_removes_the_plain_text_copy(locations: Locations) -> None:
    """DictKeyring stands in for the OS keyring, which cannot run on this machine."""
    TokenStore(locations, environ={}).set(SERVER, SECRET)  # no keyring yet: into the file
    TokenStore(locations, environ={}).set(OTHER, SECRET_2)
    backend = DictKeyring()
    keyring.set_keyring(backend)
    tokens = TokenStore(locations, environ={})

    assert tokens.get(SERVER) == Token(SECRET, "file")  # still found while only in the file
    tokens.set(SERVER, SECRET)
    assert tokens.get(SERVER) == Token(SECRET, "keyring")
    content = tokens.file_path.read_text(encoding="utf-8")
    assert SECRET not in content
    assert SECRET_2 in content  # the other server's file entry is untouched


def test_locked_keyring_falls_back_to_the_file_within_the_timeout(
    locations: Locations, blocking_keyring: BlockingKeyring
) -> None:
    """BlockingKeyring stands in for a locked OS keyring waiting for an unlock prompt."""
    tokens = TokenStore(locations, keyring_timeout=0.2, environ={})

    started = time.monotonic()
    result = tokens.set(SERVER, SECRET)
    elapsed = time.monotonic() - started

    assert elapsed < 2.0
    assert result.plain_text
    assert result.location == str(tokens.file_path)
    assert result.notes[0].startswith(
        "warning: the system keyring did not answer within 0.2 s (is it locked?); "
        f"the token is stored in plain text in {tokens.file_path}"
    )
    assert tokens.keyring_problem is not None
    assert "did not answer within 0.2 s" in tokens.keyring_problem

    # The same store does not ask (and wait for) the keyring again ...
    assert tokens.get(SERVER) == Token(SECRET, "file")
    assert tokens.delete(OTHER).removed is False
    assert blocking_keyring.calls == 1

    # ... a new one (the next command) waits once, then reads the file and says why.
    fresh = TokenStore(locations, keyring_timeout=0.2, environ={})
    started = time.monotonic()
    assert fresh.get(SERVER) == Token(SECRET, "file")
    assert time.monotonic() - started < 2.0
    status = fresh.where(SERVER)
    assert status.source == "file"
    assert any("did not answer within 0.2 s" in note for note in status.notes)
    assert "did not answer within 0.2 s" in str(status)


def test_failing_keyring_falls_back_and_its_error_never_shows_the_token(
    locations: Locations, caplog: pytest.LogCaptureFixture
) -> None:
    """BrokenKeyring stands in for an OS keyring that refuses to store passwords."""
    keyring.set_keyring(BrokenKeyring())
    tokens = TokenStore(locations, environ={})

    with caplog.at_level(logging.DEBUG, logger="vectoros_tui.sync.credentials"):
        result = tokens.set(SERVER, SECRET)

    assert result.plain_text
    assert tokens.get(SERVER) == Token(SECRET, "file")
    assert tokens.keyring_problem is not None
    assert "PasswordSetError" in tokens.keyring_problem
    assert "***" in tokens.keyring_problem
    assert "PasswordSetError" in result.notes[0]
    everything = [*result.notes, tokens.keyring_problem, caplog.text, str(tokens.where(SERVER))]
    assert caplog.text  # the fallback was logged ...
    assert all(SECRET not in text for text in everything)  # ... without the token


# -- the token never shows -------------------------------------------------------------------


def test_token_repr_and_str_hide_the_value() -> None:
    token = Token(SECRET, "file")
    assert repr(token) == "Token(source='file', value='***')"
    assert str(token) == repr(token)
    for rendered in (repr(token), str(token), f"{token}", f"{token!r}", repr([token])):
        assert SECRET not in rendered


def test_results_and_status_never_contain_the_token(
    locations: Locations, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    tokens = TokenStore(locations)
    with caplog.at_level(logging.DEBUG):
        stored = tokens.set(SERVER, SECRET)
        monkeypatch.setenv(ENV_VAR, SECRET_2)
        env_status = tokens.where(SERVER)
        deleted = tokens.delete(SERVER)
    rendered = [
        repr(stored),
        str(stored),
        *stored.notes,
        repr(env_status),
        str(env_status),
        repr(deleted),
        *deleted.notes,
        caplog.text,
    ]
    for text in rendered:
        assert SECRET not in text
        assert SECRET_2 not in text
