"""``serve`` on a server with authentication: each visitor is who their own login says.

The child a visitor gets (``helpdesk-tui --sign-in``, what textual-serve runs per browser tab)
is run here in a real pty, typed into as a visitor would: a wrong password is refused in one
line and never drawn, the right one opens the helpdesk as that login.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from ptyrun import Terminal, clean_env, helpdesk_tui
from typer.testing import CliRunner

from helpdesk_tui import cli
from helpdesk_tui import serve as web

from .conftest import ANA, DATABASE, PASSWORDS, AuthServer


def bare_uri(auth_server: AuthServer) -> str:
    return f"mongodb://127.0.0.1:{auth_server.server.port}/?replicaSet=secantus&authSource=admin"


def test_serve_starts_each_visitor_on_the_sign_in_without_the_servers_credentials(
    auth_server: AuthServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(web, "run", lambda command, host, port, **_: calls.append(command))
    admin_uri = auth_server.uri("admin")  # the operator's own login: never the visitors'
    result = CliRunner().invoke(cli.app, ["--uri", admin_uri, "--db", DATABASE, "serve"])
    assert result.exit_code == 0, result.output
    (command,) = calls
    assert "--sign-in" in command
    assert PASSWORDS["admin"] not in command
    passed_on = os.environ["HELPDESK_TUI_MONGO_URI"]
    assert "@" not in passed_on  # no user:password@ of anyone's
    assert PASSWORDS["admin"] not in passed_on


def test_a_visitor_signs_in_with_their_own_login_and_a_wrong_password_is_never_drawn(
    auth_server: AuthServer, tmp_path: Path
) -> None:
    env = clean_env(tmp_path, HELPDESK_TUI_MONGO_URI=bare_uri(auth_server))
    terminal = Terminal(helpdesk_tui("--db", DATABASE, "--sign-in"), env, cols=100, rows=30)
    wrong = "not-" + PASSWORDS[ANA]
    try:
        terminal.wait_for(b"sign in with your database login", 30)
        terminal.send(f"{ANA}\r{wrong}\r")
        terminal.wait_for(b"wrong login or password", 30)
        terminal.send(f"{PASSWORDS[ANA]}\r")
        terminal.wait_for(b"signed in as", 30)
        terminal.settle()
        screen: Any = terminal.output
        assert wrong.encode() not in screen
        assert PASSWORDS[ANA].encode() not in screen
        assert b"Ana Alvarez" in screen
        terminal.send("q")
        assert terminal.wait_exit() == 0
    finally:
        terminal.kill()
