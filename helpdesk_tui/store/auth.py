"""Who the database says we are: the authenticated login, the roles it holds, and the
helpdesk's two roles that ``init-db`` creates (issue 26).

On a connection with authentication the login *is* the person, and the MongoDB roles it holds
in the helpdesk database (directly or inherited) decide what the app lets it do. Only the
server can grant those roles, so an agent cannot make themselves a supervisor by editing a
document (``users.role`` is display only then).
"""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import OperationFailure, PyMongoError

from helpdesk_tui.domain.errors import HelpdeskError, NotFound, PermissionDenied
from helpdesk_tui.domain.models import User
from helpdesk_tui.domain.text import one_line
from helpdesk_tui.store.errors import db_errors, first_line

UNAUTHORIZED = 13
AUTHENTICATION_FAILED = 18
DUPLICATE_ROLE = 51002  # createRole on a role that exists
ROLE_NOT_FOUND = 31  # updateRole on a role that does not


@dataclass(frozen=True)
class Login:
    """The authenticated database user and the roles it holds (``(role, db)``; inherited
    roles included where the server lets us read them)."""

    user: str
    source: str  # the database the credentials live in (authSource), usually "admin"
    roles: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    def roles_in(self, database: str) -> frozenset[str]:
        """The names of the roles held on ``database`` (custom roles are defined per db)."""
        return frozenset(role for role, db in self.roles if db == database)


def is_authentication_failure(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) is the server refusing the credentials."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OperationFailure) and seen.code == AUTHENTICATION_FAILED:
            return True
        seen = seen.__cause__
    return False


@db_errors
def current_login(db: Database[Any], *, inherited: bool = True) -> Login | None:
    """The connection's login (``connectionStatus``), or None without authentication;
    ``inherited``: also ask which roles its roles inherit (``rolesInfo``)."""
    status = db.command({"connectionStatus": 1, "showPrivileges": True})
    info = status.get("authInfo") or {}
    users = [u for u in info.get("authenticatedUsers") or [] if isinstance(u, Mapping)]
    if not users:
        return None
    first = users[0]
    direct = _pairs(info.get("authenticatedUserRoles") or [])
    roles = _with_inherited(db, direct) if inherited else direct
    return Login(str(first.get("user", "")), str(first.get("db", "")), roles)


def _pairs(roles: Iterable[Any]) -> frozenset[tuple[str, str]]:
    return frozenset(
        (str(r.get("role")), str(r.get("db")))
        for r in roles
        if isinstance(r, Mapping) and r.get("role") and r.get("db")
    )


def _with_inherited(
    db: Database[Any], direct: frozenset[tuple[str, str]]
) -> frozenset[tuple[str, str]]:
    """``direct`` plus every role they inherit (``rolesInfo``'s ``inheritedRoles``).

    MongoDB lets a user read the roles they were granted; a server that asks for ``viewRole``
    (SecantusDB) leaves us the direct roles only: a role held through inheritance then counts
    only where the server says so itself.
    """
    held = set(direct)
    by_db: dict[str, list[dict[str, str]]] = {}
    for role, source in direct:
        by_db.setdefault(source, []).append({"role": role, "db": source})
    for source, roles in by_db.items():
        try:
            answer = db.client[source].command({"rolesInfo": roles})
        except PyMongoError:
            continue
        for info in answer.get("roles") or []:
            if isinstance(info, Mapping):
                held |= _pairs(info.get("inheritedRoles") or [])
    return frozenset(held)


@db_errors
def user_for_login(
    users: Collection[Any], login: str, *, users_field: str, logins: Mapping[str, str]
) -> User:
    """The ``users`` document a login names: through ``logins`` (login -> e-mail) if it is
    there, else the login matched to ``users_field`` (the e-mail by default)."""
    if login in logins:
        _refuse_remapping(users, login, users_field, logins[login])
    field_name, value = ("email", logins[login]) if login in logins else (users_field, login)
    doc = users.find_one({field_name: value})
    if doc is None and value != value.lower():
        doc = users.find_one({field_name: value.lower()})
    if doc is None:
        how = f"mapped to {value}" if login in logins else f"by {field_name}"
        raise NotFound(
            f"database login {one_line(login, 60)} matches nobody in '{users.name}' ({how}); "
            "ask an administrator to add you, or map the login in the config's [identity]"
        )
    return User.from_mongo(doc)


def _refuse_remapping(users: Collection[Any], login: str, users_field: str, email: str) -> None:
    """A login that names a users document by itself is that person: anyone can write a config
    (a team shares one), so its ``logins`` map may not make the login someone else (the map is
    for logins that name nobody, e.g. LDAP uids)."""
    own = users.find_one({users_field: login}, {"email": 1})
    if own is None and login != login.lower():
        own = users.find_one({users_field: login.lower()}, {"email": 1})
    if own is None:
        return
    found = own.get("email")
    if not isinstance(found, str) or found.strip().casefold() != email.strip().casefold():
        raise PermissionDenied(
            f"database login {one_line(login, 60)} already names {one_line(str(found), 60)} "
            f"in '{users.name}' (by {users_field}); the config's [identity] logins may not map "
            f"it to {one_line(email, 60)}: drop that mapping"
        )


def machine() -> dict[str, str]:
    """The OS user and host this process runs as (audit entries name them beside the login).

    The account from the system's user database, not ``$USER`` (anyone can set that); "?" where
    a container has no entry for our uid.
    """
    try:
        import pwd

        os_user = pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError, OSError):
        try:
            os_user = getpass.getuser()
        except (KeyError, OSError):  # pragma: no cover - no user name anywhere
            os_user = "?"
    try:
        host = socket.gethostname() or "?"
    except OSError:  # pragma: no cover
        host = "?"
    return {"osUser": os_user, "host": host}


# --- the helpdesk's roles (init-db) -----------------------------------------------------------

READ = ("find",)
READ_INDEXES = ("find", "listIndexes")
WRITE = ("find", "insert", "update")
WRITE_REMOVE = ("find", "insert", "update", "remove")


@dataclass(frozen=True)
class Grant:
    """Actions on one collection, and why, as ``init-db`` prints them."""

    collection: str
    actions: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class RolePlan:
    name: str
    grants: tuple[Grant, ...]
    inherits: tuple[str, ...] = ()
    note: str = ""

    def command(self, verb: str, database: str) -> dict[str, Any]:
        """``createRole``/``updateRole``: privileges on ``{db, collection}`` resources only."""
        return {
            verb: self.name,
            "privileges": [
                {
                    "resource": {"db": database, "collection": g.collection},
                    "actions": list(g.actions),
                }
                for g in self.grants
            ],
            "roles": [{"role": role, "db": database} for role in self.inherits],
        }


def role_plan(
    collections: Mapping[str, str], *, agent_role: str, supervisor_role: str
) -> list[RolePlan]:
    """The least privilege the app needs, collection by collection (``collections``: our
    names for them -> the configured collection names).

    No ``remove`` on tickets or the audit trail and no ``update`` on the audit trail (it is
    append-only for agents); ``users`` and ``orders`` read only; no index, collection, user or
    role management (``init-db`` runs with an administrator's login). The supervisor role adds
    no privilege: the database cannot tell "assign to myself" from "assign to someone else" in
    an update, so reassigning is the app's rule, and the role is what the app reads; only a
    user administrator can grant it. Its one privilege of its own is the pulse's stored state
    (``pulse_state``: only supervisors compute the pulse, so only they keep it).
    """
    c = collections
    agent = RolePlan(
        agent_role,
        (
            Grant(
                c["tickets"],
                ("find", "insert", "update", "changeStream", "listIndexes"),
                "read, open, reply, assign; the live feed; no remove",
            ),
            Grant(c["events"], ("find", "insert"), "append-only audit trail: no update, no remove"),
            Grant(c["users"], READ_INDEXES, "read only"),
            Grant(c["orders"], READ, "read only"),
            Grant(c["counters"], WRITE, "ticket numbers (an upsert); no remove"),
            Grant(c["queue_index"], WRITE_REMOVE, "the queue index every app keeps true"),
            Grant(c["meta"], WRITE_REMOVE, "the queue index's lease"),
            Grant(
                c["presence"],
                (*WRITE_REMOVE, "listIndexes"),
                "who is viewing or replying; the app checks its indexes at start",
            ),
            Grant(c["followers"], WRITE_REMOVE, "follow / unfollow"),
            Grant(c["snoozes"], WRITE_REMOVE, "snooze / wake"),
            Grant(c["merges"], ("find", "insert"), "where merged messages came from"),
        ),
        note="nothing else: no dropCollection, no createIndex, no user or role management",
    )
    supervisor = RolePlan(
        supervisor_role,
        (
            Grant(
                c["pulse_state"],
                WRITE_REMOVE,
                "the pulse's figures kept for the next supervisor's app (store/pulse.py)",
            ),
        ),
        inherits=(agent_role,),
        note="no other privilege of its own: the app reads it to allow reassigning others' "
        "tickets, workload moves and bulk actions on others' tickets; only a user "
        "administrator can grant it",
    )
    return [agent, supervisor]


class RolesRefused(HelpdeskError):
    """The login may not create or update roles; the message says what to ask the DBA for."""


def ensure_roles(
    db: Database[Any], plans: list[RolePlan], *, login: str | None = None
) -> list[tuple[RolePlan, str]]:
    """Create each role, or update it to the plan if it exists (idempotent); returns
    ``(plan, "created" | "updated")``. Raises :class:`RolesRefused` without the privilege."""
    done: list[tuple[RolePlan, str]] = []
    for plan in plans:
        try:
            try:
                db.command(plan.command("createRole", db.name))
                done.append((plan, "created"))
            except OperationFailure as error:
                if error.code != DUPLICATE_ROLE and "already exists" not in str(error):
                    raise
                db.command(plan.command("updateRole", db.name))
                done.append((plan, "updated"))
        except OperationFailure as error:
            if error.code == UNAUTHORIZED:
                who = f"login {one_line(login, 60)}" if login else "this connection"
                names = " and ".join(p.name for p in plans)
                raise RolesRefused(
                    f"roles {names} not created: {who} may not create roles on database "
                    f"{db.name}; ask your DBA to run `helpdesk-tui init-db` with a login "
                    f"holding userAdmin on {db.name} (or userAdminAnyDatabase)"
                ) from error
            raise RolesRefused(f"could not create role {plan.name}: {first_line(error)}") from error
        except PyMongoError as error:
            raise RolesRefused(f"could not create role {plan.name}: {first_line(error)}") from error
    return done
