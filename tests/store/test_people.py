"""Who is using the app and what they may do: roles, assignment rules, read-only mode."""

from __future__ import annotations

import pytest
from bson import ObjectId

from helpdesk_tui.domain.errors import PermissionDenied
from helpdesk_tui.domain.models import User
from helpdesk_tui.domain.people import Identity, Role

AGENT_ROLES = ("agent", "support")
SUPERVISOR_ROLES = ("supervisor", "admin")


def user(role: str, email: str = "ann@helpdesk.test") -> User:
    return User.from_mongo({"_id": ObjectId(), "name": "Ann", "email": email, "role": role})


def identity(role: str, *, read_only: bool = False) -> Identity:
    return Identity.from_user(
        user(role),
        agent_roles=AGENT_ROLES,
        supervisor_roles=SUPERVISOR_ROLES,
        read_only=read_only,
    )


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("agent", Role.AGENT),
        ("support", Role.AGENT),
        ("supervisor", Role.SUPERVISOR),
        ("admin", Role.SUPERVISOR),
    ],
)
def test_from_user_maps_configured_roles(role: str, expected: Role) -> None:
    me = identity(role)

    assert me.role is expected
    assert me.is_supervisor is (expected is Role.SUPERVISOR)


def test_from_user_uses_the_role_lists_from_config_not_fixed_names() -> None:
    me = Identity.from_user(user("lead"), agent_roles=("staff",), supervisor_roles=("lead",))

    assert me.role is Role.SUPERVISOR
    with pytest.raises(PermissionDenied):
        Identity.from_user(user("agent"), agent_roles=("staff",), supervisor_roles=("lead",))


def test_a_role_listed_as_both_agent_and_supervisor_gets_supervisor_rights() -> None:
    me = Identity.from_user(user("lead"), agent_roles=("lead",), supervisor_roles=("lead",))

    assert me.role is Role.SUPERVISOR


def test_customer_is_refused_with_a_message_naming_the_staff_roles() -> None:
    with pytest.raises(PermissionDenied) as refused:
        identity("customer")

    message = str(refused.value)
    assert "ann@helpdesk.test" in message
    assert "'customer'" in message
    for role in (*AGENT_ROLES, *SUPERVISOR_ROLES):
        assert role in message
    assert "\n" not in message


def test_user_without_a_role_is_refused() -> None:
    with pytest.raises(PermissionDenied, match="none"):
        identity("")


def test_identity_id_is_the_users_object_id() -> None:
    person = user("agent")

    me = Identity.from_user(person, agent_roles=AGENT_ROLES, supervisor_roles=SUPERVISOR_ROLES)

    assert me.id == person.id


def test_agent_may_take_an_unassigned_ticket() -> None:
    me = identity("agent")

    me.check_assign(None, me.id)


def test_agent_may_give_up_their_own_ticket_and_reassign_it_to_themselves() -> None:
    me = identity("agent")

    me.check_assign(me.id, None)
    me.check_assign(me.id, me.id)


def test_agent_may_not_take_over_another_agents_ticket() -> None:
    me = identity("agent")

    with pytest.raises(PermissionDenied, match="supervisor"):
        me.check_assign(ObjectId(), me.id)


def test_agent_may_not_unassign_another_agents_ticket() -> None:
    me = identity("agent")

    with pytest.raises(PermissionDenied, match="supervisor"):
        me.check_assign(ObjectId(), None)


def test_agent_may_not_assign_a_ticket_to_someone_else() -> None:
    me = identity("agent")

    with pytest.raises(PermissionDenied, match="someone else"):
        me.check_assign(None, ObjectId())
    with pytest.raises(PermissionDenied, match="someone else"):
        me.check_assign(me.id, ObjectId())


def test_supervisor_may_assign_anyone_to_anything() -> None:
    me = identity("supervisor")
    agent, other = ObjectId(), ObjectId()

    me.check_assign(agent, other)
    me.check_assign(agent, None)
    me.check_assign(None, agent)


def test_agent_cannot_do_supervisor_only_actions() -> None:
    with pytest.raises(PermissionDenied, match="only a supervisor can run bulk actions"):
        identity("agent").require_supervisor("run bulk actions")

    identity("supervisor").require_supervisor("run bulk actions")


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_read_only_refuses_every_write_even_for_supervisors(role: str) -> None:
    me = identity(role, read_only=True)

    with pytest.raises(PermissionDenied, match="read-only"):
        me.require_write()
    with pytest.raises(PermissionDenied, match="read-only"):
        me.check_assign(None, me.id)
    with pytest.raises(PermissionDenied, match="read-only"):
        me.require_supervisor("reassign tickets")


def test_writable_identity_passes_require_write() -> None:
    identity("agent").require_write()
