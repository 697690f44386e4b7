"""Found by the security walk: what the CLI prints about a config file is untrusted text too.

A config file's name is chosen by whoever made it (a team's shared file): the warning that it
holds a password others can read printed the path raw, so an ESC, OSC or bidi override in the
name reached the terminal."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import helpdesk_tui.cli as cli

from .conftest import PASSWORDS
from .hostile_input import RAW

EVIL = "team\x1b]2;PWNED\x07\x1b[2J\u202e\x9b31m.toml"


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_the_readable_password_warning_shows_a_hostile_file_name_harmlessly(
    tmp_path: Path,
) -> None:
    path = tmp_path / EVIL
    path.write_text('[mongo]\nuri = "mongodb://ana:s3cret-Pw@127.0.0.1:1/"\n', encoding="utf-8")
    path.chmod(0o644)

    result = CliRunner().invoke(cli.app, ["--config", str(path), "keys"])

    (warning,) = [line for line in result.stderr.splitlines() if "readable by others" in line]
    assert "team\\x1b]2;PWNED\\x07\\x1b[2J\\u202e\\x9b31m.toml holds a MongoDB password" in warning
    assert not RAW.search(result.stderr.replace("\n", ""))
    assert "s3cret-Pw" not in result.output + result.stderr


def test_serve_passes_visitors_no_environment_variable_holding_the_operators_password(
    auth_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The operator's URI in $MONGODB_URI (the other variable the app reads) stayed in every
    visitor's environment, password and all (/proc/PID/environ of each visitor's app)."""
    from helpdesk_tui import serve as web

    seen: list[dict[str, str]] = []
    monkeypatch.setattr(web, "run", lambda *_, **__: seen.append(dict(os.environ)))
    monkeypatch.setenv("MONGODB_URI", auth_server.uri("admin"))
    monkeypatch.setenv("HELPDESK_TUI_MONGO_URI", "")  # restored after: serve sets it

    result = CliRunner().invoke(cli.app, ["--db", "helpdesk", "serve"])

    assert result.exit_code == 0, result.output
    (environ,) = seen
    assert [name for name, value in environ.items() if PASSWORDS["admin"] in value] == []
    assert "@" not in environ["HELPDESK_TUI_MONGO_URI"]
