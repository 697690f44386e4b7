"""The rules behind identity, without a server: roles from the login, the audit origin shown
sanitised, and the [identity] config refused in one line when it cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest
from bson import ObjectId

from helpdesk_tui.config import ConfigError, load_config
from helpdesk_tui.domain.errors import PermissionDenied
from helpdesk_tui.domain.models import User
from helpdesk_tui.domain.people import DECLARED, Identity, Role, audit_origin

ROLES = {"agent_role": "helpdeskAgent", "supervisor_role": "helpdeskSupervisor"}


def user(role: str = "customer") -> User:
    return User.from_mongo(
        {"_id": ObjectId(), "name": "Ana", "email": "ana@helpdesk.example", "role": role}
    )


def test_the_login_s_roles_decide_whatever_users_role_says() -> None:
    # users.role "supervisor" but the login holds the agent role: an agent.
    me = Identity.from_login(user("supervisor"), "ana", {"helpdeskAgent", "readWrite"}, **ROLES)
    boss = Identity.from_login(user("agent"), "sam", {"helpdeskSupervisor"}, **ROLES)

    assert (me.role, me.is_supervisor, me.proof) == (Role.AGENT, False, "signed in as ana")
    assert boss.role is Role.SUPERVISOR


def test_a_login_without_a_helpdesk_role_is_refused_naming_both_roles_unless_read_only() -> None:
    with pytest.raises(PermissionDenied) as refused:
        Identity.from_login(user("supervisor"), "ana", {"readWrite"}, **ROLES)

    assert "helpdeskAgent" in str(refused.value) and "helpdeskSupervisor" in str(refused.value)
    observer = Identity.from_login(user(), "ana", set(), **ROLES, read_only=True)
    assert observer.read_only and not observer.is_supervisor


def test_a_declared_identity_says_so() -> None:
    me = Identity.from_user(user("agent"), agent_roles=["agent"], supervisor_roles=["supervisor"])

    assert me.login is None and me.proof == DECLARED == "declared, not proven"
    assert me.names_someone_else("sam@helpdesk.example")
    assert not me.names_someone_else(" ANA@helpdesk.example ")
    assert not me.names_someone_else(None)


def test_the_audit_origin_is_one_sanitised_line() -> None:
    hostile = {"login": "a\x1b]52;c;x\x07\u202e", "osUser": "r\x9b1m", "host": "h\nost"}

    shown = audit_origin(hostile)

    assert shown == "login a\\x1b]52;c;x\\x07\\u202e, r\\x9b1m@h ost"
    assert audit_origin({"osUser": "ana", "host": "jump1"}) == f"{DECLARED}, ana@jump1"
    assert audit_origin({"osUser": "ana", "host": "jump1"}, declared=False) == ""
    assert audit_origin({}) == ""


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('users_field = "$where"', "identity.users_field"),
        ('users_field = "a..b"', "identity.users_field"),
        ('agent_role = "x y"', "identity.agent_role"),
        ('agent_role = "same"\nsupervisor_role = "same"', "must differ"),
        ("logins = 3", "identity.logins"),
    ],
)
def test_a_broken_identity_section_is_one_line(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f"[identity]\n{text}\n", encoding="utf-8")

    with pytest.raises(ConfigError) as error:
        load_config(path, env={})

    assert fragment in str(error.value) and "\n" not in str(error.value)


def test_the_identity_section_reads_a_login_map(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[identity]\nusers_field = "ldapUid"\nlogins = { "auid42" = "ana@helpdesk.example" }\n'
        'supervisor_role = "hdLead"\n',
        encoding="utf-8",
    )

    identity = load_config(path, env={}).identity

    assert identity.users_field == "ldapUid"
    assert identity.logins == {"auid42": "ana@helpdesk.example"}
    assert (identity.agent_role, identity.supervisor_role) == ("helpdeskAgent", "hdLead")
