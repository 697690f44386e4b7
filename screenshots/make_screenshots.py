"""Regenerate the README's screenshots: ``python screenshots/make_screenshots.py``.

The database is built as ``helpdesk-tui demo`` builds it (default config, 300 tickets, seed 7,
the SLA clock paused while waiting on the customer), but on a fixed clock, so the pictures
only change when the app does. The demo's simulated team is not started and the live feed's
polling is held: nothing moves while a picture is taken. Each SVG is written once every store
call has finished and its result is on the screen.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bson import ObjectId
from pymongo import MongoClient
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from helpdesk_tui.app import HelpdeskApp
from helpdesk_tui.config import Config
from helpdesk_tui.demo import seed
from helpdesk_tui.domain.models import ACTIVE_STATUSES
from helpdesk_tui.domain.people import Identity
from helpdesk_tui.drafts import Drafts
from helpdesk_tui.store.embedded import EmbeddedServer
from helpdesk_tui.store.settings import settings_from_config
from helpdesk_tui.store.tickets import TicketStore

HERE = Path(__file__).resolve().parent
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # the tests' clock, a Tuesday mid-morning
TICKETS, SEED = 300, 7
WIDE, NARROW = (120, 40), (80, 24)
LONG_RUNNING = {"feed", "demo"}  # workers that live as long as the app

Step = Callable[[Pilot[Any]], Awaitable[None]]


@dataclass(frozen=True)
class Shot:
    name: str
    size: tuple[int, int]
    steps: tuple[Step, ...]
    expected: tuple[str, ...]  # text the SVG must hold, or the script fails
    who: str = seed.DEMO_AGENT_EMAIL  # whose app (the pulse is a supervisor's)


def demo_config() -> Config:
    """The default config with the demo's one change (see ``cli.demo``)."""
    config = Config()
    from helpdesk_tui.demo.macros import DEMO_MACROS

    return config.model_copy(
        update={
            "sla": config.sla.model_copy(update={"pause_when_waiting": True}),
            "macros": list(DEMO_MACROS),
        }
    )


# The demo's server (a replica set: the app follows a change stream, as the demo does).
SERVER = EmbeddedServer()


def demo_store(config: Config) -> TicketStore:
    SERVER.start()
    client: Any = MongoClient(SERVER.uri, tz_aware=True)
    store = TicketStore(
        client[config.mongo.database], settings_from_config(config), clock=lambda: NOW
    )
    store.init_db()
    seed.load(store, seed.generate(NOW, tickets=TICKETS, seed=SEED, policy=config.sla))
    return store


def build_app(
    store: TicketStore, config: Config, drafts: Path, who: str = seed.DEMO_AGENT_EMAIL
) -> HelpdeskApp:
    user = store.user_by_email(who)
    me = Identity.from_user(
        user, agent_roles=config.roles.agent, supervisor_roles=config.roles.supervisor
    )
    app = HelpdeskApp(store=store, config=config, me=me, demo=True, drafts=Drafts(drafts, me.id))
    feed = app.feed

    def hold(_seconds: float) -> None:  # the feed's poll waits until the app stops
        while not feed.stopped:
            time.sleep(0.02)

    feed.sleep = hold
    return app


def ticket_with_note(store: TicketStore, agent: ObjectId) -> ObjectId:
    """The demo agent's active ticket with the longest conversation and a recent internal
    note (among its last four messages, so it is on screen with the conversation scrolled to
    the end)."""
    best: tuple[int, str, ObjectId] | None = None
    for doc in store.tickets.find(
        {"assignedTo": agent, "status": {"$in": [s.value for s in ACTIVE_STATUSES]}}
    ):
        messages = doc.get("messages") or []
        if not any(m.get("isInternal") for m in messages[-4:]):
            continue
        key = (-len(messages), doc["ticketNumber"], doc["_id"])
        best = key if best is None or key < best else best
    if best is None:
        raise SystemExit("no active ticket with an internal note for the demo agent")
    return best[2]


async def settle(pilot: Pilot[Any]) -> None:
    """Every store worker done and its result on screen; no blinking cursor."""
    for _ in range(2):
        await pilot.pause()
        workers = [w for w in pilot.app.workers if w.group not in LONG_RUNNING]
        if workers:  # an empty list would mean every worker, the feed included
            await pilot.app.workers.wait_for_complete(workers)
        await pilot.pause()
    for widget in pilot.app.screen.query("Input, TextArea"):
        if isinstance(widget, Input | TextArea):
            widget.cursor_blink = False
    await pilot.pause()


def keys(*names: str) -> Step:
    async def press(pilot: Pilot[Any]) -> None:
        await pilot.press(*names)

    return press


def open_ticket(ticket_id: ObjectId) -> Step:
    async def push(pilot: Pilot[Any]) -> None:
        from helpdesk_tui.screens.ticket import TicketScreen

        await pilot.app.push_screen(TicketScreen(ticket_id))

    return push


async def capture(
    store: TicketStore,
    config: Config,
    drafts: Path,
    name: str,
    size: tuple[int, int],
    *steps: Step,
    who: str = seed.DEMO_AGENT_EMAIL,
) -> Path:
    app = build_app(store, config, drafts, who)
    async with app.run_test(size=size) as pilot:
        app.animation_level = "none"
        await settle(pilot)
        for step in steps:
            await step(pilot)
            await settle(pilot)
        written = Path(app.save_screenshot(filename=name, path=str(HERE)))
    return written


def check(path: Path, *expected: str) -> None:
    text = path.read_text(encoding="utf-8").replace("&#160;", " ")
    missing = [e for e in expected if e not in text]
    if missing:
        raise SystemExit(f"{path.name}: expected text not found: {missing}")


async def main() -> None:
    config = demo_config()
    store = demo_store(config)
    me = store.user_by_email(seed.DEMO_AGENT_EMAIL)
    assert me.id is not None
    ticket = ticket_with_note(store, me.id)
    number = store.get_ticket(ticket).ticket_number
    with tempfile.TemporaryDirectory(prefix="helpdesk-drafts-") as drafts_dir:
        drafts = Path(drafts_dir)
        shots = [
            Shot("queue.svg", WIDE, (), ("My tickets:", "next deadline")),
            Shot("queue-80x24.svg", NARROW, (), ("1 Mine", "My tickets:")),
            Shot("ticket.svg", WIDE, (open_ticket(ticket),), (number, "INTERNAL NOTE")),
            Shot(
                "reply.svg",
                WIDE,
                (open_ticket(ticket), keys("r"), keys("ctrl+r"), keys("enter")),
                ("PUBLIC REPLY", f"Thanks for reaching out about {number}"),
            ),
            Shot("help.svg", WIDE, (keys("question_mark"),), ("Help: Queue",)),
            Shot("breaching.svg", WIDE, (keys("4"),), ("Breaching:",)),
            Shot(
                "macros.svg",
                WIDE,
                (keys("m"),),
                ("Macro for TKT-", "Outage: acknowledge", "Escalate to urgent"),
            ),
            Shot(
                "pulse.svg",
                WIDE,
                (keys("P"),),
                ("Backlog, last 24 h", "SLA attainment", "Agents"),
                who=seed.SUPERVISOR[1],
            ),
            Shot(
                "pulse-80x24.svg",
                NARROW,
                (keys("P"),),
                ("Backlog, last 24 h",),
                who=seed.SUPERVISOR[1],
            ),
        ]
        for shot in shots:
            path = await capture(
                store, config, drafts, shot.name, shot.size, *shot.steps, who=shot.who
            )
            check(path, *shot.expected)
            print(path)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    finally:
        SERVER.stop()
