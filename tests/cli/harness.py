"""Running ``vectoros`` in-process through ``run(argv)`` and checking how it ended.

Exit codes: 0 success, 2 bad input, 1 anything else; no ending ever prints a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from vectoros_tui.cli import run


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        assert self.code == 0, f"exit {self.code}; stderr:\n{self.err}"
        assert "Traceback" not in self.err
        return json.loads(self.out)

    @property
    def both(self) -> str:
        return self.out + self.err


Cli = Callable[..., Result]


def invoke(capsys: pytest.CaptureFixture[str], argv: list[str]) -> Result:
    capsys.readouterr()  # drop anything printed before
    code = run(argv)
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def ok(result: Result) -> Result:
    assert result.code == 0, f"exit {result.code}\nstdout:\n{result.out}\nstderr:\n{result.err}"
    assert "Traceback" not in result.both
    return result


def user_error(result: Result) -> Result:
    """Exit 2, a message on stderr, and no traceback."""
    assert result.code == 2, f"exit {result.code}\nstdout:\n{result.out}\nstderr:\n{result.err}"
    assert "Traceback" not in result.both
    assert result.err.strip(), "a user mistake must say what is wrong"
    return result


def failure(result: Result) -> Result:
    """Exit 1 (not a user mistake, not a crash), a message on stderr, no traceback."""
    assert result.code == 1, f"exit {result.code}\nstdout:\n{result.out}\nstderr:\n{result.err}"
    assert "Traceback" not in result.both
    assert "unexpected error" not in result.err, result.err
    assert result.err.strip()
    return result


def one_line(text: str) -> str:
    """stderr with line breaks (if any) turned into spaces, for substring checks."""
    return " ".join(text.split())


def all_deals(cli: Cli, *args: object) -> list[dict[str, Any]]:
    return cli("deals", "list", "--limit", 10_000, "--json", *args).json()["deals"]
