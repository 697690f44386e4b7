"""The manual page, written from the CLI's own commands and options (never out of date).

``helpdesk-tui man`` prints it as roff: ``helpdesk-tui man | man -l -`` reads it, and
``helpdesk-tui man > ~/.local/share/man/man1/helpdesk-tui.1`` installs it for ``man helpdesk-tui``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import click

SECTIONS = """\
.SH CONFIGURATION
A TOML file: \\fB\\-\\-config\\fR, else \\fB$HELPDESK_TUI_CONFIG\\fR, else
\\fB$XDG_CONFIG_HOME/helpdesk\\-tui/config.toml\\fR. Environment:
\\fB$HELPDESK_TUI_MONGO_URI\\fR (or \\fB$MONGODB_URI\\fR), \\fB$HELPDESK_TUI_DB\\fR,
\\fB$HELPDESK_TUI_AGENT\\fR. The example file config.example.toml documents every key.
.SH FILES
.TP
.B $XDG_STATE_HOME/helpdesk\\-tui/drafts
reply drafts, saved as you type
.TP
.B $XDG_STATE_HOME/helpdesk\\-tui/crash.log
details of an unexpected error (private, mode 0600); the screen shows one line
.SH EXIT STATUS
0 on success, 1 on an error (one line on standard error), 2 on a usage error, 70 after an
unexpected error.
.SH SEE ALSO
\\fBhelpdesk\\-tui doctor\\fR checks the connection, change streams, indexes and privileges.
"""


def roff(text: str) -> str:
    """Text as roff sees it literally: backslashes, hyphens, and a leading dot or quote."""
    text = " ".join(text.split())
    text = text.replace("\\", "\\e").replace("-", "\\-")
    if text[:1] in (".", "'"):
        text = "\\&" + text
    return text


def _commands(
    group: Any, ctx: click.Context, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Any, click.Context]]:
    if path:
        yield path, group, ctx
    if hasattr(group, "list_commands"):  # a group (typer's own click classes, so by shape)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            yield from _commands(
                command, click.Context(command, parent=ctx, info_name=name), (*path, name)
            )


def _options(command: Any, ctx: click.Context) -> list[str]:
    lines: list[str] = []
    for param in command.get_params(ctx):
        if getattr(param, "param_type_name", "") != "option" or getattr(param, "hidden", False):
            continue
        record = param.get_help_record(ctx)
        if record is None:
            continue
        names, help_text = record
        lines += [".TP", f".B {roff(names)}", roff(help_text) or "\\&"]
    return lines


def manpage(command: click.Command, name: str = "helpdesk-tui") -> str:
    """The whole page for ``command`` (the CLI's root group)."""
    ctx = click.Context(command, info_name=name)
    summary = (command.help or "").strip().splitlines()[0] if command.help else ""
    lines = [
        f'.TH {roff(name.upper())} 1 "" "{roff(name)}" "User Commands"',
        ".SH NAME",
        f"{roff(name)} \\- {roff(summary)}",
        ".SH SYNOPSIS",
        f".B {roff(name)}",
        "[\\fIOPTIONS\\fR] [\\fICOMMAND\\fR]",
        ".SH DESCRIPTION",
        roff(command.help or ""),
        ".SH OPTIONS",
        *_options(command, ctx),
        ".SH COMMANDS",
    ]
    for path, sub, sub_ctx in _commands(command, ctx):
        lines += [".SS " + roff(" ".join((name, *path))), roff(sub.help or sub.short_help or "")]
        lines += _options(sub, sub_ctx)
    return "\n".join(lines) + "\n" + SECTIONS
