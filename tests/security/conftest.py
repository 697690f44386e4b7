"""A SecantusDB with authentication (``--auth``, SCRAM-SHA-256) and one login per person.

Started once per session on a storage directory: first without authentication, to run
init-db's role creation and create the logins, then restarted with ``auth=True`` on the same
storage (the users and roles persist). Logins, as issue 26 names them:

* ``admin`` (root), for setting up and checking;
* ``ana@helpdesk.example``: readWrite + helpdeskAgent on ``helpdesk``;
* ``sam@helpdesk.example``: readWrite + helpdeskSupervisor on ``helpdesk``;
* ``al@helpdesk.example``: helpdeskAgent alone (no readWrite), the least privilege.

The ``users`` documents say ana and bo are agents, sam the supervisor; bo has no login.
Tests share the database: each makes its own tickets and leaves the users as it found them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
from bson import ObjectId
from pymongo import MongoClient
from typer.testing import CliRunner

import helpdesk_tui.cli as cli
from helpdesk_tui.domain.models import Category, NewTicket, Priority
from helpdesk_tui.store.embedded import REPLICA_SET, EmbeddedServer
from helpdesk_tui.store.tickets import StoreSettings, TicketStore

DATABASE = "helpdesk"
ANA = "ana@helpdesk.example"
SAM = "sam@helpdesk.example"
BO = "bo@helpdesk.example"
AL = "al@helpdesk.example"  # helpdeskAgent alone: the least privilege init-db plans
CUSTOMER = "carla@customer.example"
PASSWORDS = {"admin": "admin-Pw-1", ANA: "ana-Pw-1", SAM: "sam-Pw-1", AL: "al-Pw-1"}
ENV = ("HELPDESK_TUI_MONGO_URI", "MONGODB_URI", "HELPDESK_TUI_DB", "HELPDESK_TUI_AGENT")


@dataclass(frozen=True)
class AuthServer:
    server: EmbeddedServer
    ids: dict[str, ObjectId]  # e-mail -> users _id

    def uri(self, login: str, password: str | None = None) -> str:
        secret = PASSWORDS[login] if password is None else password
        return (
            f"mongodb://{quote_plus(login)}:{quote_plus(secret)}@127.0.0.1:{self.server.port}/"
            f"?replicaSet={REPLICA_SET}&authSource=admin"
        )

    def client(self, login: str) -> MongoClient[Any]:
        return MongoClient(self.uri(login), tz_aware=True)


@pytest.fixture(scope="session")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    storage = tmp_path_factory.mktemp("secantus-auth")
    server = EmbeddedServer(
        storage=storage / "data", log_path=storage / "secantusd.log", auth=False
    ).start()
    try:
        client: MongoClient[Any] = MongoClient(server.uri, tz_aware=True)
        db = client[DATABASE]
        # `helpdesk-tui init-db` as an administrator would run it: indexes and both roles.
        made = CliRunner().invoke(cli.app, ["--uri", server.uri, "--db", DATABASE, "init-db"])
        assert made.exit_code == 0, made.output
        assert "role created: helpdeskAgent" in made.stdout
        scram = ["SCRAM-SHA-256"]
        client.admin.command(
            "createUser",
            "admin",
            pwd=PASSWORDS["admin"],
            roles=[{"role": "root", "db": "admin"}],
            mechanisms=scram,
        )
        for login, role in ((ANA, "helpdeskAgent"), (SAM, "helpdeskSupervisor")):
            client.admin.command(
                "createUser",
                login,
                pwd=PASSWORDS[login],
                roles=[{"role": "readWrite", "db": DATABASE}, {"role": role, "db": DATABASE}],
                mechanisms=scram,
            )
        client.admin.command(
            "createUser",
            AL,
            pwd=PASSWORDS[AL],
            roles=[{"role": "helpdeskAgent", "db": DATABASE}],
            mechanisms=scram,
        )
        ids = {email: ObjectId() for email in (ANA, SAM, BO, AL, CUSTOMER)}
        db.users.insert_many(
            [
                {"_id": ids[ANA], "name": "Ana Alvarez", "email": ANA, "role": "agent"},
                {"_id": ids[SAM], "name": "Sam Sato", "email": SAM, "role": "supervisor"},
                {"_id": ids[BO], "name": "Bo Berg", "email": BO, "role": "agent"},
                {"_id": ids[AL], "name": "Al Amir", "email": AL, "role": "agent"},
                {"_id": ids[CUSTOMER], "name": "Carla", "email": CUSTOMER, "role": "customer"},
            ]
        )
        client.close()
        server.auth = True
        server.restart()
        yield AuthServer(server, ids)
    finally:
        server.kill()  # no graceful 2 s stop: nobody reads its data again (servers.done)


@pytest.fixture
def admin_store(auth_server: AuthServer) -> Iterator[TicketStore]:
    """The helpdesk database through the admin login (setting up, checking what landed)."""
    client = auth_server.client("admin")
    yield TicketStore(client[DATABASE], StoreSettings())
    client.close()


@pytest.fixture
def new_ticket(auth_server: AuthServer, admin_store: TicketStore) -> Any:
    """Make a fresh unassigned ticket of Carla's; returns its number."""

    def make(subject: str = "Parcel never arrived") -> str:
        created = admin_store.create_ticket(
            NewTicket(
                subject=subject,
                description="Where is it?",
                user=auth_server.ids[CUSTOMER],
                category=Category.SHIPPING,
                priority=Priority.HIGH,
            ),
            actor=None,
        )
        return str(created.ticket_number)

    return make


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No config file or environment of the machine's leaks in."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("HELPDESK_TUI_CONFIG", raising=False)
