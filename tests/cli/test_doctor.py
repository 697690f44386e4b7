"""`doctor` against real servers: flavour, change streams, indexes; the URI always masked."""

from __future__ import annotations

from typing import Any

from conftest import NOW
from helpers import doctor_checks, doctor_config

from helpdesk_tui.doctor import run_checks
from helpdesk_tui.store.tickets import StoreSettings, TicketStore


def test_doctor_names_secantusdb_and_what_it_lacks(store: TicketStore) -> None:
    checks = doctor_checks(store)

    assert checks["server flavour"].detail.startswith("SecantusDB ")
    assert "no text indexes" in checks["server flavour"].detail
    assert checks["change streams"].level == "ok"
    assert "replica set secantus: live" in checks["change streams"].detail


def test_doctor_on_a_standalone_server_says_the_app_polls(standalone_db: Any, clock: Any) -> None:
    store = TicketStore(standalone_db, StoreSettings(), clock=clock)

    checks = doctor_checks(store)

    assert checks["change streams"].level == "warn"
    assert "polls" in checks["change streams"].detail


def test_doctor_reports_missing_indexes_until_init_db(db: Any, clock: Any) -> None:
    store = TicketStore(db, StoreSettings(), clock=clock)
    db.tickets.insert_one({"subject": "x"})
    assert doctor_checks(store)["indexes"].level == "warn"

    store.init_db()

    assert doctor_checks(store)["indexes"].level == "ok"
    search = doctor_checks(store)["search"]  # SecantusDB builds no text index: said, not failed
    assert search.level == "warn" and "search scans the newest tickets" in search.detail


def test_doctor_never_prints_the_password(store: TicketStore) -> None:
    text = " ".join(f"{c.name} {c.detail}" for c in run_checks(store, doctor_config()))

    assert "s3cret-pw" not in text
    assert "127.0.0.1:1" in text


def test_doctor_reports_a_queue_index_behind_the_tickets_and_init_db_repairs_it(
    store: TicketStore, db: Any
) -> None:
    from conftest import People, new_ticket

    people = People(*(db.users.insert_one({"name": n}).inserted_id for n in "abcd"))
    ticket = store.create_ticket(new_ticket(people))
    assert doctor_checks(store)["queue index"].level == "ok"
    db.tickets.update_one({"_id": ticket.id}, {"$set": {"status": "waiting", "updatedAt": NOW}})
    db.tickets.insert_one({"subject": "by hand", "updatedAt": NOW})

    check = doctor_checks(store)["queue index"]
    assert check.level == "warn"
    assert "1 entries for 2 tickets" in check.detail and "init-db" in check.detail

    store.init_db(rebuild=True)

    assert doctor_checks(store)["queue index"].level == "ok"
    entry = db.queue_index.find_one({"_id": ticket.id})
    assert entry["status"] == "waiting"
