"""A bug in the app never prints customer data: one line, a private log, exit 70 (issue 11.3)."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from ptyrun import Terminal, clean_env, python

# The real CLI (``helpdesk-tui --uri ...`` on the demo data) with a bug planted where the ticket
# screen receives its data: the ticket, its customer and their messages are in scope when it
# raises.
CRASHING_DEMO = textwrap.dedent(
    """
    import json, sys
    from helpdesk_tui import cli
    from helpdesk_tui.screens.ticket import TicketScreen

    SEEN, URI, DB, EMAIL = sys.argv[1:5]

    def loaded_with_a_bug(self, result):
        customer = result.users[result.ticket.user]
        secrets = [customer.name, customer.email, result.ticket.subject]
        with open(SEEN, "w") as seen:
            json.dump(secrets, seen)
        raise RuntimeError(f"cannot show {customer.email}: {result.ticket.subject}")

    TicketScreen._loaded = loaded_with_a_bug
    sys.argv = ["helpdesk-tui", "--uri", URI, "--db", DB, "--as", EMAIL]
    cli.main()
    """
)


@pytest.fixture
def demo_uri(demo_store: Any, server: Any) -> list[str]:
    """The demo team and tickets in a fresh database of the tests' server."""
    from helpdesk_tui.demo.seed import DEMO_AGENT_EMAIL

    return [server.uri, demo_store.db.name, DEMO_AGENT_EMAIL]


def run_crashing_demo(
    tmp_path: Path, demo_uri: list[str], **env: str
) -> tuple[Terminal, list[str], int]:
    secrets_file = tmp_path / "secrets.json"
    argv = python("-c", CRASHING_DEMO, str(secrets_file), *demo_uri)
    terminal = Terminal(argv, clean_env(tmp_path, **env))
    try:
        terminal.wait_for(b"My tickets")
        terminal.settle()
        terminal.send("3")  # All open
        terminal.settle()
        terminal.send("\r")  # open the first ticket: its screen raises
        status = terminal.wait_exit()
    finally:
        terminal.kill()
    return terminal, json.loads(secrets_file.read_text()), status


def test_a_crash_in_the_app_prints_one_line_without_customer_data_and_logs_it_privately(
    tmp_path: Path, demo_uri: list[str]
) -> None:
    terminal, secrets, status = run_crashing_demo(tmp_path, demo_uri)

    assert status == 70
    written = terminal.output.decode("utf-8", "replace")
    # The queue shows names and subjects while the app runs; what stays on the terminal
    # after it left the alternate screen must hold none of them, nor the e-mail anywhere.
    after_exit = written[written.rindex("\x1b[?1049l") + len("\x1b[?1049l") :]
    for secret in secrets:
        assert secret not in after_exit
    assert secrets[1] not in written  # the customer's e-mail (never on the queue screen)
    assert "Traceback" not in written
    log = tmp_path / "state" / "helpdesk-tui" / "crash.log"
    lines = re.sub(r"\x1b\[[?0-9;]*[A-Za-z]", "", after_exit).strip().splitlines()
    assert lines == [
        f"helpdesk-tui: internal error (RuntimeError); details in {log}. "
        "Set HELPDESK_TUI_DEBUG=1 to see the traceback."
    ]
    assert log.stat().st_mode & 0o777 == 0o600
    assert log.parent.stat().st_mode & 0o777 == 0o700
    details = log.read_text()
    assert "Traceback" in details and "loaded_with_a_bug" in details
    assert secrets[1] in details  # the details are all there, in the private file


def test_helpdesk_tui_debug_still_shows_the_traceback(tmp_path: Path, demo_uri: list[str]) -> None:
    terminal, _, status = run_crashing_demo(tmp_path, demo_uri, HELPDESK_TUI_DEBUG="1")

    assert status == 70
    assert b"Traceback" in terminal.output
