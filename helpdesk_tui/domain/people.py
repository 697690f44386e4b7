"""Who is using the app and what they may do (PRODUCT.md section 6)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bson import ObjectId

from helpdesk_tui.domain.errors import PermissionDenied
from helpdesk_tui.domain.models import ForeignId, User
from helpdesk_tui.domain.text import one_line

DECLARED = "declared, not proven"
SUPERVISOR_ROLE = "helpdeskSupervisor"  # init-db's default: it inherits helpdeskAgent


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"


@dataclass(frozen=True)
class Identity:
    user: User
    role: Role
    read_only: bool = False
    # The database login that proved who this is (an authenticated connection); None: the
    # identity was only declared (--as / agent.email on a server without authentication).
    login: str | None = None

    @property
    def proof(self) -> str:
        """What the top bar and doctor say about how we know who this is."""
        return f"signed in as {one_line(self.login, 60)}" if self.login else DECLARED

    @classmethod
    def from_login(
        cls,
        user: User,
        login: str,
        held: Collection[str],
        *,
        agent_role: str,
        supervisor_role: str,
        read_only: bool = False,
    ) -> Identity:
        """The person a database login names, with the role the *database* grants: ``held``
        is the MongoDB roles the login holds in the helpdesk database (inherited ones too).
        ``users.role`` is not read: any agent can rewrite their own users document."""
        _refuse_foreign_id(user)
        if supervisor_role in held:
            # Anyone can rename the roles in their own config: a renamed supervisor role counts
            # only beside the agent role (held or inherited, as init-db's supervisor role
            # does), or a login's one helpdesk role could be called the supervisor's.
            if agent_role in held or supervisor_role == SUPERVISOR_ROLE:
                return cls(user, Role.SUPERVISOR, read_only, login)
            raise PermissionDenied(
                f"database login {one_line(login, 60)} holds {supervisor_role} but not "
                f"{agent_role}: a supervisor role named in the config counts only with the "
                f"agent role held too (inherited, or granted directly on a server that does not "
                f"show inherited roles)"
            )
        if agent_role in held or read_only:  # an observer needs no helpdesk role
            return cls(user, Role.AGENT, read_only, login)
        raise PermissionDenied(
            f"database login {one_line(login, 60)} holds neither {agent_role} nor "
            f"{supervisor_role} on this database; ask your DBA to grant one "
            "(`helpdesk-tui init-db` with an administrator's login creates them), "
            "or use --read-only"
        )

    @classmethod
    def from_user(
        cls,
        user: User,
        *,
        agent_roles: Sequence[str],
        supervisor_roles: Sequence[str],
        read_only: bool = False,
    ) -> Identity:
        """Map ``users.role`` to our roles; a customer (or unknown role) is refused, and so is
        a user without an ObjectId ``_id`` (hand-written): nothing could be assigned to them."""
        _refuse_foreign_id(user)
        if user.role in supervisor_roles:
            return cls(user, Role.SUPERVISOR, read_only)
        if user.role in agent_roles:
            return cls(user, Role.AGENT, read_only)
        known = ", ".join([*agent_roles, *supervisor_roles])
        raise PermissionDenied(
            f"{user.email} has role {user.role or '(none)'!r}; helpdesk-tui is for staff ({known})"
        )

    @property
    def id(self) -> ObjectId:
        return self.user.object_id  # an identity is never made of a foreign one

    @property
    def is_supervisor(self) -> bool:
        return self.role is Role.SUPERVISOR

    def names_someone_else(self, email: str | None) -> bool:
        """Whether ``email`` (from --as or agent.email) is not this person's."""
        if not email:
            return False
        return email.strip().casefold() != (self.user.email or "").strip().casefold()

    def require_write(self) -> None:
        if self.read_only:
            raise PermissionDenied("read-only mode: nothing can be changed")

    def require_supervisor(self, what: str) -> None:
        self.require_write()
        if not self.is_supervisor:
            raise PermissionDenied(f"only a supervisor can {what}")

    def check_assign(self, current: ObjectId | None, target: ObjectId | None) -> None:
        """Agents may take unassigned tickets or give up their own; the rest is supervisors'."""
        self.require_write()
        if self.is_supervisor:
            return
        if current not in (None, self.id):
            raise PermissionDenied("only a supervisor can reassign another agent's ticket")
        if target not in (None, self.id):
            raise PermissionDenied("only a supervisor can assign tickets to someone else")


def audit_origin(event: Mapping[str, object], *, declared: bool = True) -> str:
    """Where an audit entry was written from, as shown beside it: the database login that
    signed it (store/audit.py), then the OS user and host; "" for entries without them.
    ``declared``: also for entries written without a login ("declared, not proven" and the
    machine). Every part is the database's text: one line, control characters spelled out."""
    login, os_user, host = (event.get(key) for key in ("login", "osUser", "host"))
    machine = ""
    if isinstance(os_user, str) and os_user:
        machine = one_line(os_user, 40)
        if isinstance(host, str) and host:
            machine += f"@{one_line(host, 60)}"
    if isinstance(login, str) and login:
        return f"login {one_line(login, 60)}" + (f", {machine}" if machine else "")
    return f"{DECLARED}, {machine}" if machine and declared else ""


def spread(
    tickets: Sequence[ObjectId], loads: dict[ObjectId, int]
) -> list[tuple[ObjectId, ObjectId]]:
    """Hand ``tickets`` out one by one to whoever has the lightest load at that moment."""
    if not loads:
        return []
    current = dict(loads)
    plan = []
    for ticket in tickets:
        agent = min(current, key=lambda a: (current[a], str(a)))
        plan.append((ticket, agent))
        current[agent] += 1
    return plan


def _refuse_foreign_id(user: User) -> None:
    """A person with a hand-written, non-ObjectId ``_id`` is no one to act as: nothing could
    be assigned to them, nor written as theirs."""
    if isinstance(user.id, ForeignId):
        raise PermissionDenied(
            f"{user.email or user.name or 'this user'} has no ObjectId _id in users "
            "(a hand-written document?); fix the document or use another account"
        )
