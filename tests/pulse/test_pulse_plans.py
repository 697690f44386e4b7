"""The pulse's aggregations start on an index (explained by the server that runs them), and
each is one MongoDB 6 accepts: only stages and operators of MongoDB 5.0-6.0 (no ``$median``,
no ``$percentile``, no ``$or`` of differently indexed branches left to chance)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import NOW

from helpdesk_tui.domain.pulse import HOUR, Window
from helpdesk_tui.store.pulse import (
    CATCH_UP,
    EVENT_INDEX,
    changed_part,
    facts_pipeline,
    ticket_parts,
    updated_since,
    waiting_pipeline,
)
from helpdesk_tui.store.tickets import TicketStore


def first_stage_plan(store: TicketStore, collection: str, pipeline: list[Any]) -> dict[str, Any]:
    explained = store.db.command(
        "explain",
        {"aggregate": collection, "pipeline": pipeline, "cursor": {}},
        verbosity="executionStats",
    )
    cursor = explained["stages"][0]["$cursor"] if "stages" in explained else explained
    return dict(cursor["queryPlanner"]["winningPlan"])


def index_scanned(plan: dict[str, Any]) -> str | None:
    if plan.get("stage") == "IXSCAN":
        return plan.get("indexName")
    child = plan.get("inputStage")
    return index_scanned(child) if isinstance(child, dict) else None


def test_ticket_parts_walk_the_queue_index(demo_store: TicketStore) -> None:
    """Active tickets on an index led by ``phase``; done ones on (phase, resolvedAt)."""
    w = Window(NOW)
    indexes = demo_store.queue.entries.index_information()
    expected = [["phase"], ["phase", "resolvedAt"]]
    for match, prefix in zip(ticket_parts(w), expected, strict=True):
        pipeline = facts_pipeline(match, demo_store.settings.sla)
        plan = first_stage_plan(demo_store, demo_store.queue.entries.name, pipeline)
        used = index_scanned(plan)
        assert used is not None, plan
        keys = [k for k, _ in indexes[used]["key"]]
        assert keys[: len(prefix)] == prefix, (used, keys)
        assert "COLLSCAN" not in json.dumps(plan)


def test_changed_tickets_are_read_on_their_ids(demo_store: TicketStore) -> None:
    """An incremental refresh reads the changed tickets on ``_id``, not a part of the window."""
    ids = [d["_id"] for d in demo_store.queue.entries.find({}, {"_id": 1}).limit(3)]
    pipeline = facts_pipeline(changed_part(ids), demo_store.settings.sla)
    plan = first_stage_plan(demo_store, demo_store.queue.entries.name, pipeline)
    assert index_scanned(plan) == "_id_", plan


@pytest.mark.parametrize("span", ["window", "hour"])
def test_status_changes_walk_the_audit_index(demo_store: TicketStore, span: str) -> None:
    w = Window(NOW)
    low = w.start if span == "window" else w.hour
    pipeline = waiting_pipeline(low, w.hour + HOUR, w.now)
    plan = first_stage_plan(demo_store, demo_store.events.name, pipeline)
    assert index_scanned(plan) == EVENT_INDEX, plan
    keys = demo_store.events.index_information()[EVENT_INDEX]["key"]
    assert [k for k, _ in keys] == ["action", "at"]


@pytest.mark.parametrize("part", [0, 1])
def test_only_mongodb_6_operators(demo_store: TicketStore, part: int) -> None:
    w = Window(NOW)
    text = json.dumps(
        facts_pipeline(ticket_parts(w)[part], demo_store.settings.sla), default=str
    ) + json.dumps(waiting_pipeline(w.start, w.hour + HOUR, w.now), default=str)
    for newer in ("$median", "$percentile"):  # MongoDB 7.0
        assert f'"{newer}"' not in text
    assert '"$or": [{"phase"' not in text  # a top-level $or: a collection scan on SecantusDB


def test_tickets_updated_since_are_found_on_the_poll_index(demo_store: TicketStore) -> None:
    """An incremental refresh finds the tickets nobody announced on ``updatedAt``'s index."""
    explained = demo_store.tickets.find(updated_since(NOW - CATCH_UP), {"_id": 1}).explain()
    plan = explained["queryPlanner"]["winningPlan"]
    used = index_scanned(plan)
    assert used is not None, plan
    keys = demo_store.tickets.index_information()[used]["key"]
    assert keys[0][0] == "updatedAt", (used, keys)
