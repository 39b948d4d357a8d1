"""The app's colours stay distinct in a 16-colour terminal (TERM=xterm, many SSH sessions).

Textual exports screenshots in truecolor only, so the check is on the colours themselves,
reduced to the 16 ANSI colours the way Rich reduces them for such a terminal.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.color import Color, ColorSystem

from vectoros_tui.app import VectorOSApp
from vectoros_tui.config import Settings

ROLES = ("primary", "accent", "warning", "error", "success")


def ansi(colour: str) -> int | None:
    return Color.parse(colour).downgrade(ColorSystem.STANDARD).number


async def test_each_role_has_its_own_colour_in_16_colours(
    demo_database: str, make_app: Callable[..., VectorOSApp]
) -> None:
    app = make_app(demo_database)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        variables = app.get_css_variables()
        reduced = {role: ansi(variables[role]) for role in ROLES}
    # The accent marks the selected window and the focused column; red means overdue.
    assert reduced["accent"] != reduced["error"], reduced
    assert len(set(reduced.values())) == len(ROLES), reduced
    assert reduced["error"] in (1, 9)  # red, still
    assert reduced["warning"] in (3, 11)  # yellow, still


def test_textual_default_was_the_problem() -> None:
    """Why the app has its own theme: the default's accent and error collapse into one."""
    assert ansi("#ffa62b") == ansi("#ba3c5b")


async def test_a_configured_theme_still_wins(
    demo_database: str, make_app: Callable[..., VectorOSApp]
) -> None:
    settings = Settings.model_validate({"ui": {"theme": "nord"}})
    app = make_app(demo_database, settings=settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == "nord"
