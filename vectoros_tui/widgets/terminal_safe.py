"""A line filter that keeps stored text from driving the terminal the app draws on.

Textual strips only a few control characters (BEL, backspace, CR, VT, FF); an ESC in a deal
title would reach the terminal inside a painted line. Every line the app paints passes
through :class:`TerminalSafeFilter`, whichever widget drew it, so no screen has to remember.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

from vectoros_tui.text_safety import is_safe, visible


class TerminalSafeFilter(LineFilter):
    """Shows control and bidi characters as escapes (``\\x1b``), keeping the line's width."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        if all(segment.control or is_safe(segment.text) for segment in segments):
            return segments
        width = Segment.get_line_length(segments)
        safe = [
            segment
            if segment.control or is_safe(segment.text)
            else Segment(visible(segment.text), segment.style)
            for segment in segments
        ]
        # An escape is wider than the character it replaces: cut the line back to the width
        # the layout gave it (the tail of hostile text is the part lost).
        return list(Segment.adjust_line_length(safe, width))
