"""The app's colours stay distinct in a 16-colour terminal (TERM=xterm, many SSH sessions).

Textual exports screenshots in truecolor only, so the check is on the colours themselves,
reduced to the 16 ANSI colours the way Rich reduces them for such a terminal.
"""

from __future__ import annotations

from collections.abc import Callable

from pilot_helpers import wait_for_snapshot
from rich.color import Color, ColorSystem
from rich.style import Style
from rich.text import Text

from vectoros_tui.app import VectorOSApp
from vectoros_tui.config import Settings
from vectoros_tui.widgets.palette import Palette
from vectoros_tui.widgets.stage_board import StageDeals

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


async def test_marks_drawn_in_code_take_the_themes_colours(
    demo_database: str, make_app: Callable[..., VectorOSApp]
) -> None:
    """Cards, badges and cells are Rich text built in Python: their colours come from the
    running theme's roles, so a theme switch (or a 16-colour-safe theme) reaches them."""
    settings = Settings.model_validate({"ui": {"theme": "nord"}})
    app = make_app(demo_database, settings=settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_snapshot(app, pilot)
        await pilot.pause()
        variables = app.theme_variables
        cards = [
            option.prompt
            for deals in app.screen.query(StageDeals)
            for option in deals.options
            if isinstance(option.prompt, Text) and not option.disabled
        ]
        palette = Palette.of(app)
        assert palette.overdue() == variables["error"]
        marks = {
            card.plain[span.start : span.end]: span.style
            for card in cards
            for span in card.spans
            if card.plain[span.start : span.end].strip(" ") in ("!", "~", "!~")
        }
        assert marks, "the demo has overdue and ageing deals on the board"
        for mark, style in marks.items():
            expected = variables["error"] if "!" in mark else variables["warning"]
            assert Color.parse(expected) == Style.parse(str(style)).color, (mark, style)
        # Health badges too: every band's colour is one of the theme's roles.
        roles = {Color.parse(variables[r]) for r in ("success", "warning", "error")}
        for band in ("excellent", "good", "fair", "poor", "critical"):
            assert Style.parse(palette.health(band)).color in roles


def test_the_palette_keeps_meanings_apart_in_16_colours() -> None:
    palette = Palette()  # the app's own theme
    reduced = {
        name: ansi(Style.parse(style).color.name)  # type: ignore[union-attr]
        for name, style in {
            "overdue": palette.overdue(),
            "ageing": palette.ageing(),
            "won": palette.outcome("won"),
            "recommendation": palette.insight_type("recommendation"),
        }.items()
    }
    assert len(set(reduced.values())) == len(reduced), reduced
    assert palette.health("good") == palette.outcome("won")
    assert palette.health("critical").startswith("bold ")
    assert palette.priority("low") == "dim" and palette.health(None) == ""
