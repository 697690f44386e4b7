"""CLI input errors (issue 12, item 7): one line on stderr, exit 2 for usage errors, 1 for
refused operations, 70 only for a real bug. Run as a user runs it: a real process, real stdin."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hostile_world import SUPERVISOR_EMAIL, build
from ptyrun import clean_env, helpdesk_tui, python
from typer.testing import CliRunner

import helpdesk_tui.cli as cli

TICKET = "T-11[/]"  # a ticket of the hostile world with a plain enough number to type


@pytest.fixture
def on_server(db: Any, server: Any) -> list[str]:
    """The hostile world in a fresh database of the tests' server; the options to reach it."""
    build(db, datetime.now(UTC))
    return ["--uri", server.uri, "--db", db.name]


def run_cli(home: Path, *args: str, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        helpdesk_tui(*args),
        env=clean_env(home),
        capture_output=True,
        timeout=60,
        check=False,
        **kwargs,  # type: ignore[arg-type]
    )


def one_line(stderr: bytes) -> str:
    text = stderr.decode("utf-8", "replace")
    assert "Traceback" not in text
    lines = text.splitlines()
    assert len(lines) == 1, text
    assert lines[0].startswith("helpdesk-tui: ")
    return lines[0]


def test_non_utf8_bytes_on_stdin_are_refused_in_one_line_with_exit_2(
    tmp_path: Path, on_server: list[str], db: Any
) -> None:
    done = run_cli(
        tmp_path,
        *on_server,
        "--as",
        SUPERVISOR_EMAIL,
        "tickets",
        "reply",
        TICKET,
        input=b"caf\xe9 \xff\n",
    )

    assert done.returncode == 2, done.stderr
    assert "not UTF-8" in one_line(done.stderr)
    assert done.stdout == b""
    assert len(db.tickets.find_one({"ticketNumber": TICKET})["messages"]) == 3  # none added


def test_closed_stdin_without_message_is_a_usage_error_in_one_line(
    tmp_path: Path, on_server: list[str]
) -> None:
    done = run_cli(
        tmp_path,
        *on_server,
        "--as",
        SUPERVISOR_EMAIL,
        "tickets",
        "reply",
        TICKET,
        stdin=None,
        preexec_fn=lambda: os.close(0),
    )

    assert done.returncode == 2, done.stderr
    assert "--message" in one_line(done.stderr)


def test_as_a_user_whose_id_is_a_string_is_refused_in_one_line(
    tmp_path: Path, on_server: list[str]
) -> None:
    done = run_cli(tmp_path, *on_server, "--as", "hand@staff.test", "tickets", "list")

    assert done.returncode == 1, done.stderr
    assert "hand@staff.test" in one_line(done.stderr)


def test_a_missing_tls_ca_file_is_one_line_not_a_crash() -> None:
    result = CliRunner().invoke(
        cli.app,
        ["--uri", "mongodb://127.0.0.1:1/?tls=true&tlsCAFile=/nonexistent/ca.pem", "doctor"],
    )

    assert result.exit_code == 1, (result.stderr, result.exception)
    assert isinstance(result.exception, SystemExit)
    line = one_line(result.stderr.encode())
    assert "tlscafile" in line.lower()


def test_pymongo_warnings_do_not_make_an_error_more_than_one_line(tmp_path: Path) -> None:
    uri = "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=100&notAnOption=1&alsoBogus=2"

    done = subprocess.run(
        python(
            "-c", "from helpdesk_tui.launch import main; main()", "--uri", uri, "tickets", "list"
        ),
        env=clean_env(tmp_path),
        capture_output=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 1, done.stderr
    line = one_line(done.stderr)
    assert "cannot reach MongoDB" in line
    assert "Unknown option" in line  # pymongo's warning, folded into the line


def test_a_non_utf8_argument_is_a_usage_error_in_one_line(tmp_path: Path) -> None:
    argv: list[str | bytes] = [*python("-c", "from helpdesk_tui.launch import main; main()")]
    argv += ["tickets", "list", "-s", b"caf\xe9"]
    done = subprocess.run(
        argv,
        env=clean_env(tmp_path),
        capture_output=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2, done.stderr
    assert "not UTF-8" in one_line(done.stderr)
