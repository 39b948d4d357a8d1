"""The two REST dialects of the team backend, behind one interface (:class:`Dialect`).

``documented``
    The API as documented (:mod:`vectoros_tui.sync.documented_dialect`).
``deployed``
    What the deployed server actually speaks: an envelope around every answer, numbered
    pages, ``PATCH`` updates (:mod:`vectoros_tui.sync.deployed_dialect`).

Both map deals to and from :class:`~vectoros_tui.sync.records.RemoteDeal` (local names, local
stages, won/lost as the outcome), validating every field's type: a response that is not what
the API promises raises :class:`MalformedResponseError` naming the field, and nothing of it
is used. The dialects know paths and shapes only; sending, retrying and status handling live
in :mod:`vectoros_tui.sync.http`, which hands each dialect operation a
:class:`~vectoros_tui.sync.wire.Call`.
"""

from __future__ import annotations

from typing import Final

from vectoros_tui.sync.deployed_dialect import DeployedDialect
from vectoros_tui.sync.dialect_base import Dialect
from vectoros_tui.sync.documented_dialect import DocumentedDialect
from vectoros_tui.sync.wire import Reply, parse_json

DIALECT_NAMES: Final = ("documented", "deployed")
_DIALECTS: Final[dict[str, type[Dialect]]] = {
    "documented": DocumentedDialect,
    "deployed": DeployedDialect,
}


def detect_dialect(reply: Reply) -> str:
    """Which dialect answered ``GET /health``.

    A JSON object with a boolean ``success`` and a ``data`` key (the deployed server's
    envelope, ``{"success": true, "data": {...}}``) means ``"deployed"``. Anything else, a
    plain JSON object such as ``{"status": "ok"}`` or even a non-JSON body, means
    ``"documented"``: the documented API has no envelope. Only a successful (2xx) answer is
    ever looked at; errors are raised by the HTTP layer before detection.
    """
    try:
        body = parse_json(reply.text)
    except ValueError:
        return "documented"
    if isinstance(body, dict) and isinstance(body.get("success"), bool) and "data" in body:
        return "deployed"
    return "documented"


def dialect_for(name: str) -> Dialect:
    """The dialect called ``name`` (``documented`` or ``deployed``)."""
    key = name.strip().lower() if isinstance(name, str) else None
    if key not in _DIALECTS:
        raise ValueError(f"unknown dialect {name!r}; use auto, {' or '.join(DIALECT_NAMES)}")
    return _DIALECTS[key]()
