"""Who you are is proven, not declared (issue 26, parts 1-3): on a SecantusDB with
authentication, the database login is the person, the MongoDB roles it holds are its powers, and
the audit trail names it. The CLI runs in-process through typer's CliRunner, as
tests/cli/test_cli.py runs it, with the login's URI on the command line (--uri) and no --as.
"""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pytest
from pymongo.errors import OperationFailure
from typer.testing import CliRunner, Result

import helpdesk_tui.cli as cli
from helpdesk_tui.config import load_config
from helpdesk_tui.domain.people import Role
from helpdesk_tui.store.tickets import TicketStore

from .conftest import AL, ANA, BO, DATABASE, PASSWORDS, SAM, AuthServer


def run(uri: str, *args: str) -> Result:
    return invoke("--uri", uri, *args)


def invoke(*args: str) -> Result:
    """The CLI in-process; the clients it opened are closed after it (a process would end), so
    no "unclosed MongoClient" warning of one run lands in the next run's stderr."""
    opened: list[TicketStore] = []
    real = cli.connect

    def connect(config: Any) -> TicketStore:
        opened.append(real(config))
        return opened[-1]

    with mock.patch.object(cli, "connect", connect):
        result = CliRunner().invoke(cli.app, list(args))
    for store in opened:
        store.db.client.close()
    return result


def one_error_line(result: Result, *fragments: str) -> str:
    """Non-zero, one line on stderr, no traceback, every fragment in it."""
    assert result.exit_code != 0, result.stdout
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def test_anas_login_alone_opens_the_cli_as_ana(auth_server: AuthServer, new_ticket: Any) -> None:
    number = new_ticket()

    result = run(auth_server.uri(ANA), "tickets", "assign", number, "me", "--json")

    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["assignee"]["email"] == ANA


def test_as_someone_else_with_anas_login_is_refused_naming_both(
    auth_server: AuthServer, new_ticket: Any, admin_store: TicketStore
) -> None:
    number = new_ticket()

    result = run(auth_server.uri(ANA), "--as", SAM, "tickets", "assign", number, BO)

    assert result.exit_code == 2
    line = one_error_line(result, ANA, SAM, "--as")
    assert "signed in to the database as" in line
    assert admin_store.find_ticket(number).assigned_to is None  # nothing written


def test_as_naming_yourself_is_accepted(auth_server: AuthServer) -> None:
    result = run(auth_server.uri(ANA), "--as", ANA.upper(), "tickets", "list", "--json")

    assert result.exit_code == 0, result.stderr


def test_agent_email_in_the_config_naming_someone_else_is_refused_too(
    auth_server: AuthServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELPDESK_TUI_AGENT", SAM)

    result = run(auth_server.uri(ANA), "tickets", "list")

    assert result.exit_code == 2
    one_error_line(result, ANA, SAM, "$HELPDESK_TUI_AGENT")


def test_ana_editing_her_users_document_to_supervisor_still_cannot_assign_to_bo(
    auth_server: AuthServer, new_ticket: Any, admin_store: TicketStore
) -> None:
    number = new_ticket()
    # Her readWrite lets her rewrite her own users document: the old rule would trust it.
    with auth_server.client(ANA) as ana:
        changed = ana[DATABASE].users.update_one({"email": ANA}, {"$set": {"role": "supervisor"}})
    assert changed.modified_count == 1
    try:
        result = run(auth_server.uri(ANA), "tickets", "assign", number, BO)

        one_error_line(result, "only a supervisor")
        assert admin_store.find_ticket(number).assigned_to is None
        # ...and the identity the app would run with is an agent's.
        me = _identify(auth_server, ANA)
        assert me.role is Role.AGENT and not me.is_supervisor
        assert me.user.role == "supervisor"  # shown as the document says, trusted for nothing
    finally:
        admin_store.users.update_one({"email": ANA}, {"$set": {"role": "agent"}})


def test_sams_login_can_assign_and_the_audit_entry_names_his_login(
    auth_server: AuthServer, new_ticket: Any, admin_store: TicketStore
) -> None:
    number = new_ticket()

    result = run(auth_server.uri(SAM), "tickets", "assign", number, BO, "--json")

    assert result.exit_code == 0, result.stderr
    ticket = admin_store.find_ticket(number)
    assert ticket.assigned_to == auth_server.ids[BO]
    (entry,) = [e for e in admin_store.history(ticket.id) if e["action"] == "assign"]
    assert entry["login"] == SAM
    assert entry["actor"] == auth_server.ids[SAM]
    assert entry["osUser"] and entry["host"]
    history = json.loads(result.stdout)["history"]
    assert [h["login"] for h in history if h["action"] == "assign"] == [SAM]


def test_tickets_show_prints_the_login_beside_each_entry(
    auth_server: AuthServer, new_ticket: Any
) -> None:
    number = new_ticket()
    assert run(auth_server.uri(SAM), "tickets", "assign", number, BO).exit_code == 0

    result = run(auth_server.uri(ANA), "tickets", "show", number)

    assert result.exit_code == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if ": assign " in line]
    assert "Sam Sato: assign nobody → Bo Berg" in line
    assert f"[login {SAM}, " in line


def test_a_hostile_login_in_the_audit_trail_is_shown_spelled_out(
    auth_server: AuthServer, new_ticket: Any, admin_store: TicketStore
) -> None:
    number = new_ticket()
    ticket = admin_store.find_ticket(number)
    admin_store.events.insert_one(
        {
            "ticket": ticket.id,
            "actor": None,
            "action": "status",
            "from": "open",
            "to": "in_progress",
            "at": admin_store.now(),
            "login": "evil\x1b]2;pwned\x07[/]\u202e",
            "osUser": "x\x9b2J",
            "host": "h\nnext",
        }
    )

    result = run(auth_server.uri(ANA), "tickets", "show", number)

    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x9b" not in result.stdout
    assert "\u202e" not in result.stdout
    assert "login evil\\x1b]2;pwned\\x07[/]\\u202e, x\\x9b2J@h next" in result.stdout


def test_a_wrong_password_exits_in_one_line_without_printing_it(auth_server: AuthServer) -> None:
    secret = "Wr0ng-S3cret-pw"

    result = run(auth_server.uri(ANA, password=secret), "tickets", "list")

    assert result.exit_code == 2
    line = one_error_line(result, "authentication failed")
    assert secret not in result.output and PASSWORDS[ANA] not in result.output
    assert "****" in line


def test_a_login_that_matches_no_user_is_refused_in_one_line(
    auth_server: AuthServer, admin_store: TicketStore
) -> None:
    admin_store.users.update_one({"email": ANA}, {"$set": {"email": "ana.old@helpdesk.example"}})
    try:
        result = run(auth_server.uri(ANA), "tickets", "list")

        one_error_line(result, ANA, "matches nobody", "[identity]")
    finally:
        admin_store.users.update_one(
            {"email": "ana.old@helpdesk.example"}, {"$set": {"email": ANA}}
        )


def test_identity_logins_maps_a_login_to_another_email(
    auth_server: AuthServer, tmp_path: Any
) -> None:
    """The map is for logins that name nobody in users (here "admin", as an LDAP uid would);
    one that names someone (ana's e-mail) cannot be remapped: test_secwalk_logins_map.py."""
    config = tmp_path / "mapped.toml"
    config.write_text(f'[identity]\nlogins = {{ "admin" = "{BO}" }}\n', encoding="utf-8")
    config.chmod(0o600)
    uri = auth_server.uri("admin")

    result = invoke("--config", str(config), "--uri", uri, "--read-only", "tickets", "list")

    assert result.exit_code == 0, result.stderr
    me = _identify(auth_server, "admin", config=config, read_only=True)
    assert me.user.email == BO and me.login == "admin"


def _identify(
    auth_server: AuthServer, login: str, config: Any = None, *, read_only: bool = False
) -> Any:
    """The identity the app would run with on ``login``'s connection (no --as)."""
    cfg = load_config(config, overrides={"uri": auth_server.uri(login)})
    store = cli.connect(cfg)
    try:
        return cli.identify(store, cfg, None, read_only)
    finally:
        store.db.client.close()


def test_the_roles_come_from_the_database(auth_server: AuthServer) -> None:
    ana = _identify(auth_server, ANA)
    sam = _identify(auth_server, SAM)

    assert (ana.role, ana.login, ana.proof) == (Role.AGENT, ANA, f"signed in as {ANA}")
    assert (sam.role, sam.login) == (Role.SUPERVISOR, SAM)


def test_ana_cannot_grant_herself_the_supervisor_role(auth_server: AuthServer) -> None:
    with auth_server.client(ANA) as ana, pytest.raises(OperationFailure) as refused:
        ana.admin.command(
            "grantRolesToUser", ANA, roles=[{"role": "helpdeskSupervisor", "db": DATABASE}]
        )

    assert refused.value.code == 13  # Unauthorized: only a user administrator grants roles
    assert _identify(auth_server, ANA).role is Role.AGENT


def test_the_agent_role_alone_is_enough_for_an_agents_work(
    auth_server: AuthServer, new_ticket: Any, admin_store: TicketStore
) -> None:
    """al holds helpdeskAgent and nothing else (no readWrite): take, reply, move, show."""
    number = new_ticket()
    uri = auth_server.uri(AL)

    assert run(uri, "tickets", "assign", number, "me").exit_code == 0
    replied = run(uri, "tickets", "reply", number, "-m", "On its way.", "--status", "waiting")
    shown = run(uri, "tickets", "show", number, "--json")

    assert replied.exit_code == 0, replied.stderr
    assert shown.exit_code == 0, shown.stderr
    ticket = admin_store.find_ticket(number)
    assert (ticket.assigned_to, ticket.status.value) == (auth_server.ids[AL], "waiting")
    logins = {(h["action"], h["login"]) for h in json.loads(shown.stdout)["history"]}
    # the ticket was opened through the admin login (the fixture), the rest by al's
    assert logins == {("created", "admin"), ("assign", AL), ("reply", AL), ("status", AL)}
    refused = run(uri, "tickets", "assign", number, BO)
    one_error_line(refused, "only a supervisor")


def test_a_role_that_inherits_the_supervisor_role_makes_a_supervisor(
    auth_server: AuthServer, admin_store: TicketStore
) -> None:
    """lead holds teamLead, which inherits helpdeskSupervisor (and may read its own roles: the
    viewRole SecantusDB asks for, which MongoDB does not)."""
    admin = admin_store.db
    lead = "lead@helpdesk.example"
    admin.command(
        "createRole",
        "teamLead",
        privileges=[{"resource": {"db": DATABASE, "collection": ""}, "actions": ["viewRole"]}],
        roles=[{"role": "helpdeskSupervisor", "db": DATABASE}],
    )
    admin.client.admin.command(
        "createUser",
        lead,
        pwd="lead-Pw-1",
        roles=[{"role": "teamLead", "db": DATABASE}],
        mechanisms=["SCRAM-SHA-256"],
    )
    admin.users.insert_one({"name": "Lee Lead", "email": lead, "role": "agent"})
    PASSWORDS[lead] = "lead-Pw-1"
    try:
        me = _identify(auth_server, lead)

        assert me.role is Role.SUPERVISOR and me.login == lead
    finally:
        del PASSWORDS[lead]
        admin.users.delete_one({"email": lead})
        admin.client.admin.command("dropUser", lead)
        admin.command("dropRole", "teamLead")
