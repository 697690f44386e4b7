"""`helpdesk-tui doctor`: what the deployment offers and lacks, credentials masked.

The checks that talk to the server live in ``store/diagnostics.py``; this module adds the
connection line, who the connection says you are, and masks every detail.
"""

from __future__ import annotations

from helpdesk_tui.config import Config, mask_secrets, mask_uri
from helpdesk_tui.domain.errors import HelpdeskError
from helpdesk_tui.domain.people import DECLARED
from helpdesk_tui.domain.text import one_line
from helpdesk_tui.store.auth import current_login, user_for_login
from helpdesk_tui.store.diagnostics import (
    Check,
    Level,
    flavour_check,
    server_checks,
    server_flavour,
)
from helpdesk_tui.store.tickets import TicketStore

__all__ = ["Check", "Level", "flavour_check", "identity_check", "run_checks", "server_flavour"]


def run_checks(store: TicketStore, config: Config) -> list[Check]:
    """Every check; a detail quoting the server or the driver has the URI's secrets masked."""
    uri = config.mongo.uri.get_secret_value()
    checks = [
        Check("connection", "ok", mask_uri(uri)),
        identity_check(store, config),
        *server_checks(store),
    ]
    return [Check(c.name, c.level, mask_secrets(c.detail, uri)) for c in checks]


def identity_check(store: TicketStore, config: Config) -> Check:
    """Who the app would say you are, and how it knows: signed in (the login, its person,
    its helpdesk role) or declared, not proven (no authentication)."""
    email = config.agent.email
    try:
        login = current_login(store.db)
    except HelpdeskError as error:
        return Check("identity", "warn", f"cannot ask the server who this is: {error}")
    if login is None:
        who = f"agent.email / --as {one_line(email, 60)}" if email else "no agent.email or --as"
        return Check(
            "identity",
            "warn",
            f"{DECLARED}: the server has no authentication, so {who} is taken at its word "
            "(anyone who reaches the database can act as anyone)",
        )
    ident = config.identity
    signed = f"signed in as {one_line(login.user, 60)}"
    try:
        user = user_for_login(
            store.users, login.user, users_field=ident.users_field, logins=ident.logins
        )
    except HelpdeskError as error:  # e.g. a DBA's own login: the app would not open with it
        return Check("identity", "warn", f"{signed}, but {error}")
    held = login.roles_in(store.db.name)
    if ident.supervisor_role in held:
        role: str | None = ident.supervisor_role
    else:
        role = ident.agent_role if ident.agent_role in held else None
    person = f"{signed}: {one_line(user.display, 60)}"
    if email and email.strip().casefold() != (user.email or "").strip().casefold():
        return Check(
            "identity",
            "fail",
            f"{person}; agent.email / --as {one_line(email, 60)} names someone else and "
            "would be refused",
        )
    if role is None:
        return Check(
            "identity",
            "warn",
            f"{person}, holding neither {ident.agent_role} nor {ident.supervisor_role} on "
            f"{one_line(store.db.name)}: read-only until the DBA grants one",
        )
    return Check("identity", "ok", f"{person} ({role}; users.role is display only)")
