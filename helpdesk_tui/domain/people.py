"""Who is using the app and what they may do (PRODUCT.md section 6)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bson import ObjectId

from helpdesk_tui.domain.errors import PermissionDenied
from helpdesk_tui.domain.models import User


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"


@dataclass(frozen=True)
class Identity:
    user: User
    role: Role
    read_only: bool = False

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
        if user.id is None:
            raise PermissionDenied(
                f"{user.email or user.name or 'this user'} has no ObjectId _id in users "
                "(a hand-written document?); fix the document or use another account"
            )
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
        assert self.user.id is not None
        return self.user.id

    @property
    def is_supervisor(self) -> bool:
        return self.role is Role.SUPERVISOR

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
