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


# --- the one rendering rule: bidi/zero-width, markup, JSON ----------------------------------

ATTACKS = {
    "osc52 clipboard": "\x1b]52;c;ZXZpbA==\x07",
    "osc2 title st": "\x1b]2;PWNED\x1b\\",
    "osc8 link": "\x1b]8;;https://evil.example\x1b\\x\x1b]8;;\x1b\\",
    "dcs": "\x1bP1$r\x1b\\",
    "csi clear": "\x1b[2J\x1b[3J",
    "c1 csi": "\x9b2J",
    "c1 osc": "\x9d0;t\x9c",
}


@pytest.mark.parametrize("attack", list(ATTACKS.values()), ids=list(ATTACKS))
def test_literal_leaves_no_escape_or_c1_control_in_any_attack(attack: str) -> None:
    shown = literal(f"Eve{attack}")

    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in shown)


@pytest.mark.parametrize(
    ("char", "shown"),
    [
        ("\u202e", "\\u202e"),  # right-to-left override
        ("\u202a", "\\u202a"),
        ("\u2066", "\\u2066"),  # left-to-right isolate
        ("\u2069", "\\u2069"),
        ("\u200b", "\\u200b"),  # zero-width space
        ("\u200f", "\\u200f"),  # right-to-left mark
        ("\ufeff", "\\ufeff"),  # zero-width no-break space (BOM)
        ("\u2028", "\\u2028"),  # line separator
        ("\u2029", "\\u2029"),
        ("\u061c", "\\u061c"),  # Arabic letter mark
        ("\udc80", "\\udc80"),  # a lone surrogate from undecodable input
    ],
)
def test_literal_spells_out_bidi_and_zero_width_formatting(char: str, shown: str) -> None:
    assert literal(f"invoice{char}fdp.exe") == f"invoice{shown}fdp.exe"


def test_literal_accepts_a_non_string_from_a_malformed_document() -> None:
    assert literal(42) == "42"
    assert one_line(None) == "None"


def test_safe_content_never_parses_markup() -> None:
    from helpdesk_tui.widgets.safe import safe

    content = safe("[/]x [bold]b[/bold] [@click=app.quit]q[/]")

    assert content.plain == "[/]x [bold]b[/bold] [@click=app.quit]q[/]"
    assert not content.spans


def test_safe_content_spells_out_escapes() -> None:
    from helpdesk_tui.widgets.safe import safe, safe_text

    assert safe("a\x1b]2;t\x1b\\").plain == "a\\x1b]2;t\\x1b\\"
    assert safe_text("\u202eabc", style="bold").plain == "\\u202eabc"


def test_json_text_escapes_c1_and_bidi_that_json_dumps_writes_raw() -> None:
    import json

    from helpdesk_tui.domain.text import json_text

    data = {"name": "Eve\x9b2J\u202e\x1b]0;t\x07\x7f\udc80", "city": "Zürich"}

    out = json_text(data)

    assert all(c not in out for c in "\x9b\u202e\x1b\x07\x7f\udc80")
    assert "Zürich" in out  # ordinary non-ASCII stays readable
    assert json.loads(out)["name"] == data["name"]
