"""Diagnostics for `helpdesk-tui doctor`: the server's version, flavour, change streams,
indexes, queue index and privileges, as plain :class:`Check` data.

Lives in the store so that doctor itself never touches pymongo or its errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pymongo.errors import OperationFailure, PyMongoError

from helpdesk_tui.store.lenient import malformed_report
from helpdesk_tui.store.queries import index_plan
from helpdesk_tui.store.search_index import missing_people_indexes, text_index_name
from helpdesk_tui.store.tickets import TicketStore

Level = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    name: str
    level: Level
    detail: str


def server_flavour(build_info: dict[str, object]) -> str:
    """Which server answers: MongoDB itself, or a wire-compatible one that says so."""
    if build_info.get("secantusVersion"):
        return f"SecantusDB {build_info['secantusVersion']}"
    return "MongoDB"


def flavour_check(build_info: dict[str, object]) -> Check:
    """The server's flavour, and what it lacks that the app would use."""
    flavour = server_flavour(build_info)
    if flavour.startswith("SecantusDB"):
        return Check(
            "server flavour",
            "warn",
            f"{flavour}: no text indexes (search scans a bounded number of tickets instead)",
        )
    return Check("server flavour", "ok", flavour)


def server_checks(store: TicketStore) -> list[Check]:
    """What the server offers and lacks, as plain data; details may quote the driver (the
    caller masks secrets). Never raises a driver error: a failure is a ``fail``/``warn`` check."""
    db = store.db
    checks: list[Check] = []
    try:
        info = db.client.server_info()
        version = str(info.get("version", "?"))
        major = int(version.split(".")[0]) if version[0].isdigit() else 0
        level: Level = "ok" if major >= 6 else "warn"
        checks.append(Check("server version", level, f"MongoDB {version} (6.0+ supported)"))
        checks.append(flavour_check(info))
        hello = db.command("hello")
        if hello.get("setName"):
            checks.append(Check("change streams", "ok", f"replica set {hello['setName']}: live"))
        elif hello.get("msg") == "isdbgrid":
            checks.append(Check("change streams", "ok", "sharded cluster: live"))
        else:
            checks.append(
                Check("change streams", "warn", "standalone server: the app polls by updatedAt")
            )
    except PyMongoError as error:
        checks.append(Check("server", "fail", str(error).splitlines()[0][:160]))
        return checks
    try:
        present = {ix["name"] for ix in store.tickets.list_indexes()}
        missing = [opts["name"] for _, opts in index_plan() if opts["name"] not in present]
        if missing:
            checks.append(
                Check(
                    "indexes", "warn", f"missing {', '.join(missing)}: run `helpdesk-tui init-db`"
                )
            )
        else:
            checks.append(Check("indexes", "ok", f"{len(index_plan())} queue indexes present"))
        searched = text_index_name(store.tickets)
        if searched:
            checks.append(Check("search", "ok", f"text index {searched}: ranked search"))
        else:
            checks.append(
                Check(
                    "search",
                    "warn",
                    "no text index on tickets: search scans the newest tickets "
                    "(`helpdesk-tui init-db` creates one where the server can)",
                )
            )
        people = missing_people_indexes(store.users)
        if people:
            checks.append(
                Check(
                    "people indexes",
                    "warn",
                    f"users lacks {', '.join(people)} (search reads every user to find a "
                    "customer by name): run `helpdesk-tui init-db`",
                )
            )
        fine, detail = store.queue.check(store.now())
        if not fine:
            detail += ": run `helpdesk-tui init-db` to rebuild it"
        checks.append(Check("queue index", "ok" if fine else "warn", detail))
        fine, detail = malformed_report(store.db, store.settings)  # store/lenient.py
        checks.append(Check("malformed records", "ok" if fine else "warn", detail))
        checks.append(
            Check(
                "collections",
                "ok",
                f"{store.tickets.estimated_document_count()} tickets, "
                f"{store.users.estimated_document_count()} users",
            )
        )
    except OperationFailure as error:
        checks.append(Check("read access", "fail", str(error).splitlines()[0][:160]))
    try:
        status = db.command({"connectionStatus": 1, "showPrivileges": True})
        users = status.get("authInfo", {}).get("authenticatedUsers", [])
        who = ", ".join(f"{u.get('user')}@{u.get('db')}" for u in users) or "no authentication"
        privileges = status.get("authInfo", {}).get("authenticatedUserPrivileges", [])
        actions = {action for privilege in privileges for action in privilege.get("actions", [])}
        # What the app needs (init-db also needs createIndex and createRole: an admin runs it).
        needed = {"find", "update", "insert", "changeStream"}
        lacking = sorted(needed - actions) if users and privileges else []
        if users and not privileges:
            checks.append(Check("privileges", "ok", f"{who} (the server lists no privileges)"))
        elif lacking:
            checks.append(Check("privileges", "warn", f"{who}: lacks {', '.join(lacking)}"))
        else:
            checks.append(Check("privileges", "ok", who))
    except PyMongoError as error:
        checks.append(Check("privileges", "warn", str(error).splitlines()[0][:160]))
    return checks
