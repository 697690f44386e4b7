"""Shell completion is on, and ``--help`` names what an option takes (a flag takes nothing)."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from helpdesk_tui import cli


def help_of(*args: str) -> str:
    result = CliRunner().invoke(cli.app, [*args, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    return result.stdout


def option_row(text: str, option: str) -> str:
    return next(line for line in text.splitlines() if re.search(rf"\s{option}\s", line))


def test_help_offers_shell_completion() -> None:
    text = help_of()
    assert "--install-completion" in text and "--show-completion" in text


def test_show_completion_prints_a_bash_script() -> None:
    result = CliRunner().invoke(cli.app, ["--show-completion", "bash"])
    assert result.exit_code == 0
    assert "_HELPDESK_TUI_COMPLETE" in result.stdout and "complete " in result.stdout


def test_flags_show_no_value_type_and_values_show_what_they_take() -> None:
    text = help_of()
    for flag in ("--read-only", "--help", "--install-completion"):
        assert "<bool>" not in option_row(text, flag), flag
    assert "<email>" in option_row(text, "--as")
    assert "<uri>" in option_row(text, "--uri")
    assert "<file>" in option_row(text, "--config")
    reply = help_of("tickets", "reply")
    assert "<bool>" not in reply
    assert "<open|in_progress" in option_row(reply, "--status")
    assert "<text>" in option_row(reply, "--attach")
    assert "<tag>" in option_row(help_of("tickets", "create"), "--tag")
