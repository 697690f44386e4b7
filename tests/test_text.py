"""Untrusted customer text on a terminal: control sequences are shown, never obeyed."""

from __future__ import annotations

import pytest

from helpdesk_tui.domain.text import literal, one_line


def test_literal_spells_out_escape_so_ansi_colours_do_not_reach_the_terminal() -> None:
    shown = literal("before \x1b[31mred\x1b[0m after")

    assert "\x1b" not in shown
    assert shown == "before \\x1b[31mred\\x1b[0m after"


def test_literal_spells_out_osc_hyperlinks_and_their_bell_terminator() -> None:
    hostile = "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07"

    shown = literal(hostile)

    assert shown == "\\x1b]8;;https://evil.example\\x07click\\x1b]8;;\\x07"


def test_literal_spells_out_osc_with_string_terminator_and_clear_screen() -> None:
    shown = literal("\x1b]0;pwned title\x1b\\ then \x1b[2J")

    assert shown == "\\x1b]0;pwned title\\x1b\\ then \\x1b[2J"


@pytest.mark.parametrize(
    ("char", "shown"),
    [
        ("\x9b", "\\x9b"),  # one-byte CSI
        ("\x9d", "\\x9d"),  # one-byte OSC
        ("\x85", "\\x85"),  # C1 next line
        ("\x7f", "\\x7f"),  # DEL
        ("\x00", "\\x00"),
        ("\x08", "\\x08"),  # backspace: could overwrite what was shown
        ("\x0b", "\\x0b"),
        ("\x0c", "\\x0c"),
    ],
)
def test_literal_spells_out_c0_c1_and_del(char: str, shown: str) -> None:
    assert literal(f"a{char}b") == f"a{shown}b"


def test_literal_keeps_newlines_and_tabs_as_layout() -> None:
    assert literal("line one\n\tindented\nline three") == "line one\n\tindented\nline three"


def test_literal_turns_crlf_into_newline_but_shows_a_lone_carriage_return() -> None:
    # A lone CR would move the cursor back and let text overwrite what came before it.
    assert literal("one\r\ntwo") == "one\ntwo"
    assert literal("safe text\rEVIL") == "safe text\\x0dEVIL"


def test_literal_leaves_rich_markup_and_unicode_untouched() -> None:
    text = "[bold red]URGENT[/] café — 東京 ✓"

    assert literal(text) == text


def test_one_line_folds_newlines_tabs_and_runs_of_spaces_into_single_spaces() -> None:
    assert one_line("  Parcel\n\nnever\tarrived  ") == "Parcel never arrived"


def test_one_line_also_spells_out_control_characters() -> None:
    assert one_line("red \x1b[31mtext") == "red \\x1b[31mtext"


def test_one_line_truncates_to_width_with_an_ellipsis() -> None:
    cell = one_line("Tracking not updating for 6 days", 12)

    assert cell == "Tracking no…"
    assert len(cell) == 12


def test_one_line_keeps_text_that_fits_exactly() -> None:
    assert one_line("exactly12chr", 12) == "exactly12chr"


def test_one_line_without_width_never_truncates() -> None:
    long = "word " * 200

    assert one_line(long) == long.strip()


def test_one_line_with_width_one_shows_only_the_ellipsis() -> None:
    assert one_line("subject", 1) == "…"


def test_one_line_counts_escaped_control_characters_towards_the_width() -> None:
    # The escape is spelled out first, so the cell never exceeds its width on screen.
    cell = one_line("\x1b[2J\x1b[2J", 6)

    assert len(cell) == 6
    assert "\x1b" not in cell
