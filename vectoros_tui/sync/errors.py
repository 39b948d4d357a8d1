"""What can go wrong talking to the team's backend, as messages a rep can act on.

Every exception here is a :class:`SyncError`; its ``str()`` is meant to be shown to the
user as is. None of them ever contains the access token: the HTTP layer raises them
``from None`` (so no httpx exception holding the request headers is chained) and redacts
the token from anything the server echoes back.
"""

from __future__ import annotations


class SyncError(Exception):
    """Base class: syncing failed; ``str(exc)`` is a user-facing message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class RemoteError(SyncError):
    """The server refused a request (a 4xx other than 401/403), with its own message.

    ``status`` is the HTTP status, ``code`` the server's error code if it sent one
    (``None`` otherwise), ``message`` the server's message (or the start of its body).
    Not retried: sending the same request again would fail the same way.
    """

    def __init__(self, status: int, code: str | None, message: str, *, request: str = "") -> None:
        self.status = status
        self.code = code
        self.server_message = message
        self.request = request
        where = f" ({request})" if request else ""
        label = f"{status} {code}" if code else str(status)
        super().__init__(f"The sync server refused the request{where}: {label}: {message}")

    def __repr__(self) -> str:
        return (
            f"RemoteError(status={self.status!r}, code={self.code!r}, "
            f"message={self.server_message!r}, request={self.request!r})"
        )


class AuthError(SyncError):
    """401/403: the token is missing, expired, revoked, or lacks access."""

    def __init__(self, status: int, message: str = "", *, request: str = "") -> None:
        self.status = status
        self.server_message = message
        self.request = request
        if status == 403:
            what = "The sync server denied access"
        else:
            what = "The sync server did not accept your sign-in"
        detail = f" ({message})" if message else ""
        where = f" for {request}" if request else ""
        super().__init__(f"{what}{where}{detail}. Run `vectoros login` to sign in again.")


class RemoteUnavailableError(SyncError):
    """Gave up after retrying timeouts, connection errors, 5xx or 429 answers.

    ``attempts`` is how many requests were sent, ``last_problem`` what the last one met.
    Your local changes are kept; syncing again later is safe.
    """

    def __init__(self, request: str, attempts: int, last_problem: str) -> None:
        self.request = request
        self.attempts = attempts
        self.last_problem = last_problem
        plural = "s" if attempts != 1 else ""
        super().__init__(
            f"The sync server is unavailable: {request} failed {attempts} time{plural} "
            f"(last: {last_problem}). Your local changes are kept; try syncing again later."
        )


class TLSError(SyncError):
    """The server's TLS certificate could not be verified (or it does not speak TLS).

    Not retried: it will not fix itself. Point ``verify`` at your company's CA bundle
    if the server uses a private certificate authority.
    """

    def __init__(self, request: str, problem: str) -> None:
        self.request = request
        self.problem = problem
        super().__init__(
            f"Could not open a secure connection to the sync server for {request}: {problem}. "
            "Check the backend URL (https:// needs a TLS server), or set the CA bundle "
            "of your company's certificate authority."
        )


class MalformedResponseError(SyncError):
    """The server answered, but not with what the API promises.

    ``field`` is where in the JSON the problem is (``data.items[3].value``, or ``None``
    for the body as a whole), ``problem`` what is wrong, ``request`` which request
    (``GET /api/v1/deals/<id>``; never the token, never the query string's secrets:
    the client puts none there). Nothing of such a response is used: no partial results.
    """

    def __init__(self, problem: str, *, field: str | None = None, request: str = "") -> None:
        self.problem = problem
        self.field = field
        self.request = request
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = f" to {self.request}" if self.request else ""
        what = f"{self.field}: {self.problem}" if self.field else self.problem
        return f"Unexpected response from the sync server{where}: {what}"

    def at(self, request: str) -> MalformedResponseError:
        """Fill in the request if it is not known yet (returns self, for ``raise``)."""
        if not self.request:
            self.request = request
            self.message = self._compose()
            self.args = (self.message,)
        return self

    def within(self, prefix: str) -> MalformedResponseError:
        """Prefix the field path (``deal`` -> ``data.items[3].deal``)."""
        self.field = f"{prefix}.{self.field}" if self.field else prefix
        self.message = self._compose()
        self.args = (self.message,)
        return self

    def __repr__(self) -> str:
        return (
            f"MalformedResponseError(problem={self.problem!r}, field={self.field!r}, "
            f"request={self.request!r})"
        )
