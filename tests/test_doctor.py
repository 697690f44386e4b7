"""`doctor` against real servers: flavour, change streams, indexes; the URI always masked."""

from __future__ import annotations

from typing import Any

from conftest import NOW
from pydantic import SecretStr

from helpdesk_tui.config import Config
from helpdesk_tui.doctor import run_checks
from helpdesk_tui.store.tickets import StoreSettings, TicketStore

URI = "mongodb://helpdesk:s3cret-pw@127.0.0.1:1/?replicaSet=secantus"


def config() -> Config:
    cfg = Config()
    return cfg.model_copy(update={"mongo": cfg.mongo.model_copy(update={"uri": SecretStr(URI)})})


def by_name(store: TicketStore) -> dict[str, Any]:
    return {check.name: check for check in run_checks(store, config())}


def test_doctor_names_secantusdb_and_what_it_lacks(store: TicketStore) -> None:
    checks = by_name(store)

    assert checks["server flavour"].detail.startswith("SecantusDB ")
    assert "no text indexes" in checks["server flavour"].detail
    assert checks["change streams"].level == "ok"
    assert "replica set secantus: live" in checks["change streams"].detail


def test_doctor_on_a_standalone_server_says_the_app_polls(standalone_db: Any, clock: Any) -> None:
    store = TicketStore(standalone_db, StoreSettings(), clock=clock)

    checks = by_name(store)

    assert checks["change streams"].level == "warn"
    assert "polls" in checks["change streams"].detail


def test_doctor_reports_missing_indexes_until_init_db(db: Any, clock: Any) -> None:
    store = TicketStore(db, StoreSettings(), clock=clock)
    db.tickets.insert_one({"subject": "x"})
    assert by_name(store)["indexes"].level == "warn"

    store.init_db()

    assert by_name(store)["indexes"].level == "ok"
    search = by_name(store)["search"]  # SecantusDB builds no text index: said, not failed
    assert search.level == "warn" and "search scans the newest tickets" in search.detail


def test_doctor_never_prints_the_password(store: TicketStore) -> None:
    text = " ".join(f"{c.name} {c.detail}" for c in run_checks(store, config()))

    assert "s3cret-pw" not in text
    assert "127.0.0.1:1" in text


def test_doctor_reports_a_queue_index_behind_the_tickets_and_init_db_repairs_it(
    store: TicketStore, db: Any
) -> None:
    from conftest import People, new_ticket

    people = People(*(db.users.insert_one({"name": n}).inserted_id for n in "abcd"))
    ticket = store.create_ticket(new_ticket(people))
    assert by_name(store)["queue index"].level == "ok"
    db.tickets.update_one({"_id": ticket.id}, {"$set": {"status": "waiting", "updatedAt": NOW}})
    db.tickets.insert_one({"subject": "by hand", "updatedAt": NOW})

    check = by_name(store)["queue index"]
    assert check.level == "warn"
    assert "1 entries for 2 tickets" in check.detail and "init-db" in check.detail

    store.init_db(rebuild=True)

    assert by_name(store)["queue index"].level == "ok"
    entry = db.queue_index.find_one({"_id": ticket.id})
    assert entry["status"] == "waiting"
