"""Shell completion is on, and ``--help`` names what an option takes (a flag takes nothing)."""

from __future__ import annotations

import re

import pytest
import shellingham
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


def test_show_completion_prints_a_bash_script(monkeypatch: pytest.MonkeyPatch) -> None:
    # `--show-completion` takes no value: Typer asks shellingham for the shell it runs under,
    # found by walking the parent processes. A run whose parents hold no shell (a detached
    # pytest, reparented to init) found none and exited 1, so the shell is given here.
    monkeypatch.setattr(shellingham, "detect_shell", lambda: ("bash", "/bin/bash"))
    result = CliRunner().invoke(cli.app, ["--show-completion"])
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


def test_the_manual_page_names_every_command_and_option_of_the_cli() -> None:
    import click
    import typer

    from helpdesk_tui.cli import app

    result = CliRunner().invoke(app, ["man"])
    assert result.exit_code == 0, result.output
    page = result.stdout
    assert page.startswith(".TH HELPDESK\\-TUI 1")
    root = typer.main.get_command(app)
    ctx = click.Context(root, info_name="helpdesk-tui")
    tickets = root.get_command(ctx, "tickets")  # type: ignore[attr-defined]
    for name in root.list_commands(ctx):  # type: ignore[attr-defined]
        assert f".SS helpdesk\\-tui {name.replace('-', chr(92) + '-')}\n" in page, name
    for name in tickets.list_commands(ctx):
        assert f".SS helpdesk\\-tui tickets {name.replace('-', chr(92) + '-')}\n" in page, name
    for option in ("--config", "--read-only", "--json", "--tickets", "--public"):
        assert option.replace("-", "\\-") in page, option
    # Only the page's own requests start a line with a dot: no help text becomes a request.
    requests = {line.split()[0] for line in page.splitlines() if line.startswith(".")}
    assert requests <= {".TH", ".SH", ".SS", ".TP", ".B"}, requests
