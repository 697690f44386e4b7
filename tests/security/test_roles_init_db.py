"""`init-db` creates the helpdesk's roles with least privilege (issue 26, part 2), and `doctor`
says how the identity is known: on the authenticated server of this folder's conftest, and on
the suite's server without authentication (declared, not proven)."""

from __future__ import annotations

from typing import Any

from helpdesk_tui.config import Config
from helpdesk_tui.doctor import identity_check
from helpdesk_tui.store.tickets import StoreSettings, TicketStore

from .conftest import ANA, DATABASE, AuthServer
from .test_identity import invoke, run


def _role(admin_store: TicketStore, name: str) -> dict[str, Any]:
    answer = admin_store.db.command(
        {"rolesInfo": [{"role": name, "db": DATABASE}], "showPrivileges": True}
    )
    (role,) = answer["roles"]
    return dict(role)


def test_init_db_with_an_admin_login_makes_both_roles_and_prints_each_grant(
    auth_server: AuthServer, admin_store: TicketStore
) -> None:
    first = run(auth_server.uri("admin"), "init-db")
    again = run(auth_server.uri("admin"), "init-db")

    assert first.exit_code == 0, first.stderr
    assert again.exit_code == 0, again.stderr  # idempotent: the roles exist, they are updated
    out = again.stdout
    assert "role updated: helpdeskAgent on helpdesk" in out
    assert "role updated: helpdeskSupervisor on helpdesk" in out
    (events,) = [line for line in out.splitlines() if line.strip().startswith("ticket_events ")]
    assert "find, insert " in events and "append-only" in events
    assert "no createIndex, no user or role management" in out
    agent = _role(admin_store, "helpdeskAgent")
    grants = {p["resource"]["collection"]: set(p["actions"]) for p in agent["privileges"]}
    # Collection by collection, as MongoDB scopes them.
    assert all(p["resource"]["db"] == DATABASE for p in agent["privileges"])
    assert grants["ticket_events"] == {"find", "insert"}
    assert grants["users"] == {"find", "listIndexes"}
    assert "remove" not in grants["tickets"]
    every = set().union(*grants.values())
    assert not every & {"createIndex", "dropCollection", "createUser", "grantRole", "createRole"}
    supervisor = _role(admin_store, "helpdeskSupervisor")
    assert supervisor["roles"] == [{"role": "helpdeskAgent", "db": DATABASE}]
    # Its one privilege of its own: the pulse's stored state (store/pulse.py), nothing else.
    (kept,) = supervisor["privileges"]
    assert kept["resource"] == {"db": DATABASE, "collection": "pulse_state"}
    assert set(kept["actions"]) == {"find", "insert", "update", "remove"}
    assert "pulse_state" not in grants


def test_init_db_without_the_privilege_says_what_to_ask_the_dba_for(
    auth_server: AuthServer,
) -> None:
    result = run(auth_server.uri(ANA), "init-db")

    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    (line,) = lines
    assert "Traceback" not in result.output
    assert f"login {ANA} may not create roles on database helpdesk" in line
    assert "ask your DBA" in line and "userAdmin" in line
    assert "helpdeskAgent and helpdeskSupervisor" in line
    assert "index ok:" in result.stdout  # what readWrite allows was done


def test_doctor_says_signed_in_as_the_login(auth_server: AuthServer) -> None:
    result = run(auth_server.uri(ANA), "doctor")

    (line,) = [line for line in result.stdout.splitlines() if " identity:" in line]
    expected = f"signed in as {ANA}: Ana Alvarez (helpdeskAgent; users.role is display only)"
    assert line == f"[ok  ] identity: {expected}"


def test_doctor_without_authentication_says_declared_not_proven(db: Any) -> None:
    store = TicketStore(db, StoreSettings())
    config = Config()
    config.agent.email = "ann@helpdesk.test"

    check = identity_check(store, config)

    assert check.level == "warn"
    assert check.detail.startswith("declared, not proven: ")
    assert "ann@helpdesk.test" in check.detail


def test_doctor_with_a_login_and_agent_email_naming_someone_else_fails(
    auth_server: AuthServer, tmp_path: Any
) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[agent]\nemail = "sam@helpdesk.example"\n', encoding="utf-8")

    result = invoke("--config", str(config), "--uri", auth_server.uri(ANA), "doctor")

    assert result.exit_code == 1
    (line,) = [line for line in result.stdout.splitlines() if " identity:" in line]
    assert line.startswith("[FAIL] identity: signed in as ana@helpdesk.example")
    assert "sam@helpdesk.example names someone else" in line


def test_doctor_with_an_admin_login_that_is_nobody_in_users_warns(auth_server: AuthServer) -> None:
    result = run(auth_server.uri("admin"), "doctor")

    (line,) = [line for line in result.stdout.splitlines() if " identity:" in line]
    assert line.startswith("[warn] identity: signed in as admin, but database login admin")
    assert "matches nobody" in line
