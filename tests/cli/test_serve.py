"""``serve``: loopback by default; any other address refused without --public, warned with it;
the database URI never on a visitor's command line."""

from __future__ import annotations

import os
from typing import Any

import pytest
from typer.testing import CliRunner

from helpdesk_tui import cli
from helpdesk_tui import serve as web


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> list[tuple[str, str, int]]:
    """Every (command, host, port) the server would have been started with."""
    calls: list[tuple[str, str, int]] = []
    monkeypatch.setattr(web, "run", lambda command, host, port: calls.append((command, host, port)))
    monkeypatch.delenv("HELPDESK_TUI_MONGO_URI", raising=False)
    config = tmp_path / "config.toml"
    config.write_text("")  # the defaults, whatever the machine's own config says
    monkeypatch.setenv("HELPDESK_TUI_CONFIG", str(config))
    return calls


def serve(*args: str) -> Any:
    return CliRunner().invoke(cli.app, ["serve", *args])


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "helpdesk.example.com"])
def test_serve_refuses_a_public_bind_without_the_flag(host: str, served: list[Any]) -> None:
    result = serve("--demo", "--host", host)
    assert result.exit_code == 2
    assert served == []  # nothing was started
    assert "no authentication" in result.stderr and "--public" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_serve_binds_to_loopback_by_default_without_a_warning(served: list[Any]) -> None:
    result = serve("--demo")
    assert result.exit_code == 0, result.output
    ((command, host, port),) = served
    assert (host, port) == ("127.0.0.1", 8000)
    assert command.endswith("-m helpdesk_tui demo")
    assert "WARNING" not in result.stderr


def test_serve_on_a_public_address_with_the_flag_warns_that_nobody_is_authenticated(
    served: list[Any],
) -> None:
    result = serve("--demo", "--host", "0.0.0.0", "--port", "8080", "--public")
    assert result.exit_code == 0, result.output
    assert served[0][1:] == ("0.0.0.0", 8080)
    assert "WARNING" in result.stderr and "NO authentication" in result.stderr
    assert "ana@helpdesk.example" in result.stderr  # says whose identity visitors get


def test_the_uri_reaches_visitors_by_environment_not_on_their_command_line(
    served: list[Any],
) -> None:
    uri = "mongodb://agent:s3cret@db.internal:27017/"
    result = CliRunner().invoke(
        cli.app, ["--uri", uri, "--as", "bo@helpdesk.example", "serve", "--demo"]
    )
    assert result.exit_code == 0, result.output
    ((command, _, _),) = served
    assert "s3cret" not in command and "s3cret" not in result.output
    assert "--as bo@helpdesk.example" in command
    assert os.environ["HELPDESK_TUI_MONGO_URI"] == uri


def test_serve_help_says_there_is_no_authentication() -> None:
    result = CliRunner().invoke(cli.app, ["serve", "--help"], env={"COLUMNS": "120"})
    assert "no authentication" in " ".join(result.stdout.split())


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("10.0.0.1", False),
        ("example.org", False),
    ],
)
def test_which_addresses_are_loopback(host: str, loopback: bool) -> None:
    assert web.is_loopback(host) is loopback


def test_serve_refuses_a_public_bind_that_signs_in_without_tls(served: list[Any]) -> None:
    result = serve("--host", "0.0.0.0", "--public")
    assert result.exit_code == 2
    assert served == []
    assert "without TLS" in result.stderr and "--tls-cert" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_serve_needs_both_tls_files(served: list[Any], tmp_path: Any) -> None:
    result = serve("--tls-cert", str(tmp_path / "cert.pem"))
    assert result.exit_code == 2
    assert "both --tls-cert and --tls-key" in result.stderr


def test_serve_refuses_a_database_that_lets_anyone_in(
    served: list[Any], server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session's test server has no authentication: a sign-in would prove nothing."""
    monkeypatch.setenv("HELPDESK_TUI_MONGO_URI", server.uri)
    result = serve()
    assert result.exit_code == 2, result.output
    assert served == []
    assert "answers without a login" in result.stderr


def test_serve_does_not_take_an_identity_from_the_command_line(served: list[Any]) -> None:
    result = CliRunner().invoke(cli.app, ["--as", "sam@helpdesk.example", "serve"])
    assert result.exit_code == 2
    assert "drop --as" in result.stderr
    assert served == []
