"""What reaches the terminal for a changed part of a line (helpdesk_tui/terminal_output.py)."""

from __future__ import annotations

import io

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual._compositor import ChopsUpdate
from textual.strip import Strip

from helpdesk_tui.terminal_output import install

install()
RED = Style(color="red")


def written(text: str, x1: int, x2: int) -> str:
    strip = Strip([Segment(text, RED)])
    update = ChopsUpdate([{0: strip}], [(0, x1, x2)], [[strip.cell_length]])
    console = Console(file=io.StringIO(), color_system="standard", force_terminal=True)
    return update.render_segments(console)


def test_a_changed_countdown_mid_line_writes_only_its_characters() -> None:
    line = "    ● 2h 13m  TKT-000001"
    assert written(line, 10, 12) == "\x1b[1;11H\x1b[31m3m\x1b[0m"


def test_a_change_after_a_wide_character_cut_writes_from_the_line_start() -> None:
    line = "界 2h 13m"  # the change starts inside the double-width character's cells
    assert written(line, 1, 4) == "\x1b[1;1H\x1b[31m界 2\x1b[0m"


def test_the_next_chop_after_the_span_gets_no_stray_cursor_move() -> None:
    rows, bar = Strip([Segment("abc", RED)]), Strip([Segment("|", RED)])  # e.g. a scrollbar
    update = ChopsUpdate([{0: rows, 3: bar}], [(0, 0, 3)], [[3, 4]])
    console = Console(file=io.StringIO(), color_system="standard", force_terminal=True)
    assert update.render_segments(console) == "\x1b[1;1H\x1b[31mabc\x1b[0m"
