"""The app's colours stay distinct in a 16-colour terminal (TERM=xterm, many SSH sessions).

Textual exports screenshots in truecolor only, so the check is on the colours themselves,
reduced to the 16 ANSI colours the way Rich reduces them for such a terminal.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pilot_helpers import wait_for, wait_for_snapshot
from rich.color import Color, ColorSystem, ColorType
from rich.style import Style
from rich.terminal_theme import DEFAULT_TERMINAL_THEME
from rich.text import Text

from vectoros_tui.app import VectorOSApp
from vectoros_tui.config import Settings
from vectoros_tui.screens.forecast import ForecastScreen
from vectoros_tui.theme import ANSI_THEME_NAME, theme_for, theme_problem
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


# --- the 16-colour theme --------------------------------------------------------------

# Rich's stand-in for a terminal's 16 colours (the VGA/xterm values); WCAG's contrast of
# 3:1 is its floor for large text and the parts of a control a user has to see.
LEAST_CONTRAST = 3.0
# Frames, rules and scrollbar thumbs: drawn around text, not read.
FRAME = set("─│╭╮╰╯┌┐└┘━┃┏┓┗┛▁▂▃▄▅▆▇█▊▌▐")


def _luminance(number: int) -> float:
    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = DEFAULT_TERMINAL_THEME.ansi_colors[number]
    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast(foreground: int, background: int) -> float:
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _number(colour: Color | None, default: int) -> int:
    if colour is None or colour.is_default:
        return default
    reduced = colour.downgrade(ColorSystem.STANDARD).number
    return default if reduced is None else reduced


# A terminal's own colours (text, background): white on black, or plain xterm's black on
# white. Text drawn in them must be readable either way.
DARK_TERMINAL, LIGHT_TERMINAL = (7, 0), (0, 15)


def unreadable_text(
    app: VectorOSApp, terminal: tuple[int, int] = DARK_TERMINAL
) -> list[tuple[str, int, int, float]]:
    """Every piece of text on the screen whose colours, reduced to the 16 ANSI colours as
    a 16-colour terminal shows them, fall below :data:`LEAST_CONTRAST` (dim text is quiet
    on purpose and left out); ``terminal``: what the terminal's own colours are. On a
    light terminal only coloured text on the terminal's background is checked: the
    marks (a terminal's own text on its own background is its user's choice)."""
    rendered = app.screen._compositor.render_update(full=True, screen_stack=[])
    poor = []
    for segment in app.console.render(rendered):
        style = segment.style
        text = segment.text.strip()
        if style is None or style.dim or not text or all(ch in FRAME for ch in text):
            continue
        foreground = _number(style.color, terminal[0])
        background = _number(style.bgcolor, terminal[1])
        own_background = style.bgcolor is None or style.bgcolor.is_default
        if terminal == LIGHT_TERMINAL and not (own_background and foreground != terminal[0]):
            continue
        if style.reverse:
            foreground, background = background, foreground
        ratio = contrast(foreground, background)
        if ratio < LEAST_CONTRAST:
            poor.append((text, foreground, background, round(ratio, 2)))
    return poor


def readable_in_any_terminal(app: VectorOSApp) -> list[tuple[str, int, int, float]]:
    return unreadable_text(app, DARK_TERMINAL) + unreadable_text(app, LIGHT_TERMINAL)


@pytest.fixture
def sixteen_colours(monkeypatch: pytest.MonkeyPatch) -> None:
    """A terminal that announces 16 colours, as TERM=xterm over many SSH sessions."""
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.delenv("COLORTERM", raising=False)


async def test_a_16_colour_terminal_gets_the_16_colour_theme_and_can_read_every_screen(
    demo_database: str, make_app: Callable[..., VectorOSApp], sixteen_colours: None
) -> None:
    app = make_app(demo_database)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_snapshot(app, pilot)
        await pilot.pause()
        assert app.console.color_system == "standard"
        assert app.theme == ANSI_THEME_NAME
        # The board: the focused card is the cursor, with its health, overdue and ageing
        # marks on it; the other columns' highlighted cards sit beside it.
        focused = app.focused
        assert isinstance(focused, StageDeals) and focused.highlighted == 0
        assert (poor := readable_in_any_terminal(app)) == [], set(poor)
        await pilot.press("e")
        await wait_for(lambda: type(app.screen).__name__ == "DealEditorScreen", pilot)
        await pilot.pause()
        assert (poor := readable_in_any_terminal(app)) == [], set(poor)
        await pilot.press("escape", "f4")
        await wait_for(lambda: type(app.screen).__name__ == "InsightsScreen", pilot)
        await wait_for(lambda: app.screen.regenerations >= 1, pilot)  # type: ignore[attr-defined]
        await pilot.pause()
        assert (poor := readable_in_any_terminal(app)) == [], set(poor)
        await pilot.press("f3")
        await wait_for(lambda: isinstance(app.screen, ForecastScreen), pilot)
        forecast = app.screen
        assert isinstance(forecast, ForecastScreen)
        await wait_for(lambda: forecast.result is not None and not forecast.pending, pilot)
        await pilot.pause()
        assert (poor := readable_in_any_terminal(app)) == [], set(poor)


async def test_the_truecolour_theme_reduced_to_16_colours_was_unreadable(
    demo_database: str, make_app: Callable[..., VectorOSApp], sixteen_colours: None
) -> None:
    """Why a 16-colour terminal gets a theme of its own: ``vectoros`` reduced there put the
    focused card's marks on cyan and the other columns' cards on bright black."""
    settings = Settings.model_validate({"ui": {"theme": "vectoros"}})
    app = make_app(demo_database, settings=settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_snapshot(app, pilot)
        await pilot.pause()
        assert app.theme == "vectoros"
        assert len(unreadable_text(app)) >= 3


async def test_a_terminal_with_more_colours_keeps_the_full_theme(
    demo_database: str, make_app: Callable[..., VectorOSApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("COLORTERM")
    app = make_app(demo_database)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == "vectoros"


@pytest.mark.parametrize("theme", ["ansi-dark", ANSI_THEME_NAME])
async def test_themes_in_the_terminals_own_colours_draw_the_marks(
    theme: str, demo_database: str, make_app: Callable[..., VectorOSApp]
) -> None:
    """Marks drawn in code name the theme's colours; an ANSI theme names them ``ansi_red``,
    which Rich cannot read (the board failed to draw at all)."""
    settings = Settings.model_validate({"ui": {"theme": theme}})
    app = make_app(demo_database, settings=settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_snapshot(app, pilot)
        await pilot.pause()
        assert app.theme == theme
        palette = Palette.of(app)
        assert Style.parse(palette.overdue()).color.type == ColorType.STANDARD  # type: ignore[union-attr]
        await pilot.press("f3")
        await wait_for(lambda: type(app.screen).__name__ == "ForecastScreen", pilot)
        await pilot.pause()
        assert app.screen.query("BarChart")  # drawn in the theme's accent


def test_an_unknown_theme_is_a_config_error() -> None:
    assert theme_problem("auto") is None and theme_problem("nord") is None
    problem = theme_problem("nrod")
    assert problem is not None and "'nrod'" in problem and ANSI_THEME_NAME in problem
    assert theme_for("auto", "standard") == ANSI_THEME_NAME
    assert theme_for("auto", "256") == theme_for("auto", "truecolor") == "vectoros"
    assert theme_for("nord", "standard") == "nord"
