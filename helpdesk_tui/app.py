"""HelpdeskApp: wiring, global bindings, the clock tick, notifications and error reporting."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from importlib import import_module
from pathlib import Path
from time import monotonic
from typing import Any

from bson import ObjectId
from rich.text import Text
from textual import events, on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.driver import Driver
from textual.markup import escape as escape_markup
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, TextArea
from textual.worker import WorkerFailed

from helpdesk_tui.alerts import Alert, Alerts
from helpdesk_tui.collector import collect_if_idle
from helpdesk_tui.collector import resume as resume_collector
from helpdesk_tui.config import Config, drafts_dir
from helpdesk_tui.contexts import apart, keep_nothing_in_worker_threads
from helpdesk_tui.crash import CRASH_EXIT, crash_line, debugging, record_crash
from helpdesk_tui.domain.errors import (
    ConflictError,
    HelpdeskError,
    PermissionDenied,
    StoreUnavailable,
    StoreUnreachable,
)
from helpdesk_tui.domain.mentions import handles, tokens
from helpdesk_tui.domain.models import Ticket, User
from helpdesk_tui.domain.people import Identity
from helpdesk_tui.domain.text import literal, one_line, removed_note, without_controls
from helpdesk_tui.drafts import Drafts
from helpdesk_tui.keymap import APP_BINDINGS, problems
from helpdesk_tui.messages import (
    ClockTick,
    FeedBatch,
    FeedStateChanged,
    ScreenReady,
    TicketsChanged,
)
from helpdesk_tui.screens.base import HelpdeskScreen, TakesKeys, own_bindings
from helpdesk_tui.store.early import EarlyStart
from helpdesk_tui.store.followers import FollowerStore
from helpdesk_tui.store.live import Batch, FeedMode, FeedState, FeedStatus, LiveFeed
from helpdesk_tui.store.mentions import Mentioned, follow_mentions
from helpdesk_tui.store.presence import PresenceStore
from helpdesk_tui.store.pulse import tickets_deleted
from helpdesk_tui.store.queue_index import IndexMaintainer
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.store.wake import Waker
from helpdesk_tui.terminal_input import install as read_pastes_whole
from helpdesk_tui.terminal_output import install as write_only_changes
from helpdesk_tui.terminal_output import painted_since_redraw, quiet_driver, redraw_everything
from helpdesk_tui.textual_seam import (
    ANSI_SEQUENCES_KEYS,
    app_driver,
    app_exiting,
    app_keymap,
    check_bindings,
    close_message_queues,
    default_handle_exception,
    default_prevented,
    default_print_error_renderables,
    drop_error_renderables,
    record_app_crash,
    set_return_code,
)
from helpdesk_tui.views import View, standard_views
from helpdesk_tui.workers import StoreCalls

__all__ = ["FeedBatch", "HelpdeskApp", "TicketsChanged"]

STYLES = Path(__file__).parent / "styles"
COLLECTOR_PAUSED_AT_MOST = 10.0  # seconds (launch.py)
# A countdown changes when its minute turns, so look every second; a tick writes to the
# terminal only for a cell whose text changed (nothing on most ticks).
TICK_SECONDS = 1.0
# A served app's sign-in (serve.py): a login and a password to a store and who that login is;
# raises a HelpdeskError that says why not, fit to show.
SignIn = Callable[[str, str], tuple[TicketStore, Identity]]
# How often the feed's health is looked at (a stall shows within STALL_AFTER + this).
FEED_CHECK_SECONDS = 0.5
TICK_SECONDS_UNFOCUSED = 120.0
# Words an agent may type in the command palette for an action, beyond its footer name.
PALETTE_VERBS = {
    "status": "resolve, close, reopen, wait, start, set status",
    "take": "assign to me, claim",
    "assign": "reassign, give to, unassign",
    "reply": "answer, respond, write to the customer",
    "note": "internal note, comment",
    "tags": "tag, label, untag",
    "priority": "escalate, urgent, lower",
    "next": "take the most urgent unassigned ticket",
    "search": "find, filter, customer, from:, tag:",
    "sort": "order by",
    "open": "open the ticket",
    "workload": "team load, move tickets",
    "move": "reassign all, spread",
}
# A key handed to a widget is waited for at most this long before the next key goes.
KEY_HANDOFF_SECONDS = 0.5
# Back after this long away (terminal unfocused or feed reconnecting): say what changed.
AWAY_SUMMARY_AFTER = timedelta(minutes=5)
# At most this long (seconds) does a read of what I follow wait for a follow write before it.
FOLLOW_WRITE_WAIT = 5.0


# Textual reads ESC and a digit as the character a Mac's Option key gives with it (WezTerm sends
# ESC 2 for Option+2: "™"), so a burst's "esc 2" (back, then view 2) reached the app as "™".
_OPTION_DIGITS = {
    text: sequence[1]
    for sequence, text in ANSI_SEQUENCES_KEYS.items()
    if isinstance(text, str) and len(sequence) == 2 and sequence[0] == "\x1b"
    if sequence[1].isdigit()
}


class MineSeeded(Message, bubble=False):
    """What is assigned to me, what I follow and the staff, read once the first rows showed."""

    def __init__(self, mine: list[ObjectId], following: list[ObjectId], staff: list[User]) -> None:
        super().__init__()
        self.mine, self.following, self.staff = mine, following, staff


class ChangedWhileAway(Message, bubble=False):
    """The numbers of my tickets that changed while the app was away (unfocused, not live)."""

    def __init__(self, numbers: list[str]) -> None:
        super().__init__()
        self.numbers = numbers


class FollowToggled(Message, bubble=False):
    """A follow (``following``) or unfollow of one ticket was written."""

    def __init__(self, ticket_id: ObjectId, label: str, following: bool) -> None:
        super().__init__()
        self.ticket_id, self.label, self.following = ticket_id, label, following


class MentionsFollowed(Message, bubble=False):
    """The colleagues an internal note @mentioned now follow its ticket."""

    def __init__(self, label: str, mentioned: Mentioned) -> None:
        super().__init__()
        self.label, self.mentioned = label, mentioned


def escape_then_key(event: events.Key, screen: Screen[Any], target: Widget) -> list[events.Key]:
    """Escape and a letter read together (a paste, a laggy SSH link, a fast typist) reach
    Textual's parser as one ``ESC x``, which it reads as Alt+x. The helpdesk binds no Alt+letter
    of its own, so that is Escape, then the letter, as vim reads it: "esc q" leaves the reply and
    goes back, instead of typing "q" into the draft. An Alt+letter that ``screen`` (the one at
    the key's turn) binds, one the agent gave an action in ``[keys]``, stays Alt: on the wire
    the two are the same bytes.

    Textual's parser reads ESC with a digit as a Mac Option character (``ESC 2`` is ``™``):
    unless ``target`` (the focused widget) takes it as text, that is Escape and the digit too.
    ESC with space, enter, ``/``, ``?``, ``.`` or a control key come here as Escape and the key
    already (``terminal_input.PasteParser``)."""
    char = event.character
    if char in _OPTION_DIGITS:
        if target.check_consume_key(event.key, char):
            return [event]
        digit = _OPTION_DIGITS[char]
        return [events.Key("escape", "\x1b"), events.Key(digit, digit)]
    if not event.key.startswith("alt+") or char is None or len(char) != 1:
        return [event]
    if event.key.removeprefix("alt+") not in (char.lower(), f"shift+{char.lower()}"):
        return [event]  # a named key (alt+up, alt+backspace): a real Alt
    if event.key in screen.active_bindings:
        return [event]
    return [events.Key("escape", "\x1b"), events.Key(char, char)]


class HelpdeskApp(StoreCalls, App[None]):
    TITLE = "helpdesk-tui"
    CSS_PATH = [STYLES / "app.tcss", STYLES / "context.tcss"]
    # The same bindings drive the footer, the help screen and the command palette.
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = APP_BINDINGS  # with ids, so [keys] can move them too

    def __init__(
        self,
        *,
        store: TicketStore | None = None,
        config: Config,
        me: Identity | None = None,
        demo: bool = False,
        clock: Callable[[], datetime] | None = None,
        drafts: Drafts | None = None,
        activity: Any = None,
        early: EarlyStart | None = None,
        sign_in: SignIn | None = None,
        where: str = "",
    ) -> None:
        """``store`` and ``me``: who is working, on what. Or, served in a browser (serve.py),
        ``sign_in``: the app starts on the sign-in screen, which gets them from the visitor's
        own database login (``where``: the server, as shown there, credentials masked)."""
        write_only_changes()  # a changed cell costs its characters, not the line before it
        super().__init__()
        self.config = config
        self.demo = demo
        self.activity = activity  # the demo's simulated team, if any
        self._sign_in, self._where = sign_in, where
        self._attached = False
        self._away_since: datetime | None = None
        self._feed_status = FeedStatus(FeedState.STARTING)
        self._blurred_at: datetime | None = None
        self._seeded = False
        self._crash_line: str | None = None
        # Typed (or pasted) ahead of a screen not yet ready.
        self._held_keys: deque[events.Key | events.Paste] = deque()
        self.idle_clock: Callable[[], float] = monotonic  # seconds, for collector.py's idle
        self._last_input = self.idle_clock()  # the last key, click or paste
        self._input_since_pass = False  # since the last idle pass of the collector
        self._resolved_keys: weakref.WeakSet[events.Key] = weakref.WeakSet()
        self._releasing = False
        # Follow/unfollow writes still running: ``F`` reads the list after them, so `f F` typed
        # in one go shows the ticket just followed (the two run on separate threads).
        self._follow_writes: list[threading.Event] = []
        if config.ui.theme in self.available_themes:
            self.theme = config.ui.theme
        # [keys]: Textual's keymap, by binding id (the action's name); clashes said on mount.
        self.set_keymap(config.keys)
        if palette := app_keymap(self).get("command_palette"):
            # Where the footer looks for the palette's key (this app's, not every app's).
            self.COMMAND_PALETTE_BINDING = palette.split(",")[0]  # type: ignore[misc]
        if store is not None and me is not None:
            self._open_session(store, me, clock=clock, drafts=drafts, early=early)
        elif sign_in is None:
            raise ValueError("HelpdeskApp needs a store and an identity, or a sign-in")

    def _open_session(
        self,
        store: TicketStore,
        me: Identity,
        *,
        clock: Callable[[], datetime] | None = None,
        drafts: Drafts | None = None,
        early: EarlyStart | None = None,
    ) -> None:
        """The helpdesk of one person on one database: everything that needs them."""
        config = self.config
        self.store = store
        self.me = me
        self.clock = clock or store.clock
        # Drafts are filed by database (the demo's apart) and ticket number: both stay.
        scope = f"demo-{store.database_name}" if self.demo else store.database_name
        self.drafts = drafts or Drafts(drafts_dir(config), me.id, scope=scope)
        self.views: list[View] = standard_views(
            me.id, config.views, lambda email: store.user_by_email(email).object_id
        )
        self.early = early
        self.feed = LiveFeed(
            store,
            emit=self._from_feed,
            poll_interval=config.ui.poll_interval_seconds,
            starting_point=early.starting_point if early is not None else None,
            maintainer=IndexMaintainer(store.queue, store.clock),
            # Observers write nothing; the team may keep woken tickets waiting (marked ↩).
            waker=(
                Waker(store)
                if config.workflow.wake_on_customer_reply and not me.read_only
                else None
            ),
        )
        self.presence = PresenceStore(store.db, config.mongo.presence, clock=store.clock)
        self.alerts = Alerts(me.id)
        # Followers and @mentions: a collection of ours; the handles I answer to grow to my
        # first name once the staff list says no colleague shares it.
        self.followers = FollowerStore(store.db, config.mongo.followers, clock=store.clock)
        self.alerts.handles = handles(me.user)
        self._attached = True

    def get_driver_class(self) -> type[Driver]:
        """The platform's driver, writing fewer bytes per update (terminal_output), reading a
        bracketed paste as one ``Paste``, never as keys (terminal_input)."""
        return quiet_driver(read_pastes_whole(super().get_driver_class()))

    def get_key_display(self, binding: Binding) -> str:
        """A key as the footer, help, palette and hints show it: by the rendering rule (the
        config's ``[keys]`` are checked at load; this keeps any other way in harmless too)."""
        return literal(super().get_key_display(binding))

    @property
    def feed_mode(self) -> str:
        text = status_text(self._feed_status, self.config.ui.poll_interval_seconds)
        return f"demo database · {text}" if self.demo else text

    @property
    def feed_live(self) -> bool:
        return self._feed_status.live

    def check_feed(self) -> None:
        """Every second, focused or not: the top bar says what the feed's health is, and a
        change of it is said once (store/live.py ``LiveFeed.status``)."""
        status = self.feed.status()
        before, self._feed_status = self._feed_status, status
        if (status.state, status.since) == (before.state, before.since):
            return
        for screen in self.screen_stack:
            if isinstance(screen, HelpdeskScreen):
                screen.post_message(FeedStateChanged(self.feed_mode))
        if before.live and not status.live:
            self._away_since = self._away_since or status.since or self.store.now()
            why = {
                FeedState.STALLED: "the database is not answering",
                FeedState.OFFLINE: "no database server can be reached",
            }.get(status.state, f"lost the database ({one_line(status.detail, 80)})")
            as_of = f" at {status.rows_as_of:%H:%M:%S} UTC" if status.rows_as_of else ""
            then = "waiting for it" if status.state is FeedState.STALLED else "reconnecting"
            self.notify(
                f"Not live: {why}. The views show what they had{as_of}; {then}…",
                severity="warning",
                timeout=8,
            )
        elif not before.live and status.live and self._away_since is not None:
            self.notify("Live again: views are up to date.", timeout=4)
            self.summarise_away()

    def on_mount(self) -> None:
        keep_nothing_in_worker_threads(asyncio.get_running_loop())  # before the first store call
        if not self._attached and self._sign_in is not None:
            from helpdesk_tui.screens.sign_in import SignInScreen

            self.push_screen(SignInScreen(self._sign_in, self._where), callback=self._signed_in)
            return
        self._start()

    def _signed_in(self, session: tuple[TicketStore, Identity] | None) -> None:
        if session is None:
            self.exit()
            return
        store, me = session
        self._open_session(store, me)
        self._start()

    def _start(self) -> None:
        from helpdesk_tui.screens.queue import QueueScreen

        # The feed opens its stream before the queue's first query (the queue waits for it).
        self.run_worker(self.feed.run, thread=True, group="feed", name="live feed")
        if not self.me.read_only:
            self._init_presence()
        self.push_screen(QueueScreen())
        if self.config.keys and (said := problems(self.config.keys)):
            self.notify("\n".join(said), title="Keys", severity="warning", timeout=15)
        self._ticker = self.set_interval(TICK_SECONDS, self.tick)
        self.set_interval(FEED_CHECK_SECONDS, self.check_feed)
        # The collector paused for the start is back on at the first rows, or by now anyway
        # (a queue that cannot load keeps the app running without them).
        self.set_timer(COLLECTOR_PAUSED_AT_MOST, resume_collector)
        if self.activity is not None:
            self.run_worker(self.activity.run, thread=True, group="demo", name="demo team")

    def queue_painted(self) -> None:
        """The first rows are on screen: now do the start-up work nobody is waiting for."""
        if self._seeded:
            return
        self._seeded = True
        resume_collector(settle=True)  # paused for the start (launch.py)
        # The ticket screen, imported now rather than when the agent first opens a ticket.
        self.call_later(import_module, "helpdesk_tui.screens.ticket")
        # What is mine right now, so a ticket that becomes mine later can be announced.
        self._seed_alerts(self.me, [*self.config.roles.agent, *self.config.roles.supervisor])

    @work(thread=True, exit_on_error=False, group="presence")
    def _init_presence(self) -> None:
        self.presence.init()

    @work(thread=True, exit_on_error=False, group="alerts")
    def _seed_alerts(self, me: Identity, roles: list[str]) -> None:
        """What is mine, what I follow, and the staff (for the @names I answer to)."""
        mine = self.store.assigned_ids(me.id)
        if not me.read_only:
            with contextlib.suppress(HelpdeskError):  # no index privilege: following still works
                self.followers.init()
        following = self.followers.following(me.id)
        self.post_message(MineSeeded(mine, following, self.store.staff(roles)))

    @on(MineSeeded)
    def _alerts_seeded(self, message: MineSeeded) -> None:
        self.alerts.seed_mine(message.mine)
        self.alerts.following |= set(message.following)
        self.alerts.handles = handles(self.me.user, message.staff)

    def on_unmount(self) -> None:
        if self._attached:
            self.feed.stop()
        if self.activity is not None:
            self.activity.stop()

    # --- keys typed ahead -------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        """Keys wait while the current screen is not ready for them, then go in order; a
        paste waits in the same line (it is text for where the keys before it lead)."""
        if isinstance(event, events.InputEvent | events.Paste):
            self._last_input, self._input_since_pass = self.idle_clock(), True
        if isinstance(event, events.Paste) and not event.is_forwarded:
            self._held_keys.append(event)
            await self._release_keys()
            return
        if isinstance(event, events.Key):
            if not event.is_forwarded:
                if event.key == "ctrl+j":
                    # LF is Enter (as in readline): keys typed before the app took the terminal
                    # were read by the line discipline, which turned their Enter into LF.
                    event = events.Key("enter", "\r")
                self._held_keys.append(event)
                await self._release_keys()
                return
            if event in self._resolved_keys:
                self._resolved_keys.discard(event)
                return  # its bindings were already looked up, in its turn
        await super().on_event(event)

    def _screen_takes_keys(self) -> bool:
        screen = self.screen
        return not isinstance(screen, TakesKeys) or screen.keys_ready

    async def _release_keys(self) -> None:
        """Each key is finished (its screen's priority bindings, the focused widget, then the
        widgets' own bindings) before the next one is looked at: keys act in the order typed,
        each on the screen current at its turn."""
        if self._releasing:
            return  # a key being handled pushed a screen: the loop below picks up after it
        self._releasing = True
        try:
            while self._held_keys and self._screen_takes_keys() and not app_exiting(self):
                key = self._held_keys.popleft()
                target = self.focused or self.screen
                if isinstance(key, events.Paste):
                    await self._paste(key, target)
                    continue
                # ESC+letter: Escape, then the letter, unless the screen at its turn binds it.
                escape, *then = escape_then_key(key, self.screen, target)
                if then:
                    key = escape
                    self._held_keys.appendleft(then[0])
                await super().on_event(key)  # priority bindings, else forwarded to ``target``
                if not key.is_forwarded:
                    continue
                await self._handled_by(target)
                if not target.check_consume_key(key.key, key.character) and not (
                    default_prevented(key)
                ):
                    # Not text for the widget: its bindings (a table's cursor keys) act now,
                    # not when the key has bubbled back up here after later keys.
                    self._resolved_keys.add(key)
                    await check_bindings(self, key.key)
        finally:
            self._releasing = False

    async def _paste(self, paste: events.Paste, target: Widget) -> None:
        """A paste is text for the focused widget (App.on_event forwards it), never keys, and
        never control characters: they are removed here, for every text field at once, and
        the app says how many. The keys typed after it wait until it is in."""
        text, removed = without_controls(paste.text)
        if removed and isinstance(target, Input | TextArea):
            self.notify(removed_note("pasted text", removed), severity="warning", timeout=6)
        await super().on_event(events.Paste(text))
        await self._handled_by(target)

    async def _handled_by(self, target: Widget) -> None:
        done = asyncio.Event()
        if target.call_later(done.set):
            with contextlib.suppress(TimeoutError):  # never let one widget stall the keys
                await asyncio.wait_for(done.wait(), KEY_HANDOFF_SECONDS)

    async def on_screen_ready(self, message: ScreenReady) -> None:
        await self._release_keys()

    # --- live updates ------------------------------------------------------------------------

    def _from_feed(self, batch: Batch) -> None:
        """Called on the feed thread."""
        self.post_message(FeedBatch(batch))

    def on_feed_batch(self, message: FeedBatch) -> None:
        """Batches waiting in the queue arrive merged (``FeedBatch.can_replace``)."""
        changed = TicketsChanged()
        for batch in message.batches:
            if batch.mode is not None:
                self._mode_changed(batch.mode, batch.detail)
            changed.changes.extend(batch.changes)
            changed.ids.update(batch.ids)
            changed.reload |= batch.reload
        if not (changed.changes or changed.reload) or not self.is_running or app_exiting(self):
            return
        for alert in self.alerts.consider(changed.changes):
            self.alert(alert)
        if gone := [change.id for change in changed.changes if change.kind == "delete"]:
            tickets_deleted(self.store, gone)  # for the pulse, even with its screen closed
        for screen in self.screen_stack:
            if isinstance(screen, HelpdeskScreen):
                screen.post_message(
                    TicketsChanged(set(changed.ids), list(changed.changes), changed.reload)
                )

    def _mode_changed(self, mode: FeedMode, detail: str) -> None:
        self.check_feed()

    def alert(self, alert: Alert) -> None:
        """A toast always; the bell and a desktop notification (OSC 9) if configured."""
        self.notify(
            alert.text,
            markup=False,  # customer text: never markup
            title=alert.title,
            severity="warning" if alert.urgent else "information",
            timeout=8,
        )
        if self.config.ui.bell:
            self.bell()
        if self.config.ui.desktop_notifications:
            self.desktop_notify(f"{alert.title}: {alert.text}")

    def desktop_notify(self, text: str) -> None:
        """OSC 9 (iTerm2, kitty, WezTerm, foot; passes through SSH): plain text only."""
        driver = app_driver(self)
        if driver is not None:
            driver.write(f"\x1b]9;{one_line(text, 200)}\x07")

    def summarise_away(self) -> None:
        """After a reconnect or a long blur: what changed on my tickets meanwhile."""
        since, self._away_since = self._away_since, None
        if since is None:
            return
        self._read_changed_since(self.me.id, since)

    @work(thread=True, exit_on_error=False, group="away")
    def _read_changed_since(self, me: ObjectId, since: datetime) -> None:
        self.post_message(ChangedWhileAway(self.store.changed_since(me, since)))

    @on(ChangedWhileAway)
    def _changed_while_away(self, message: ChangedWhileAway) -> None:
        numbers = message.numbers
        if numbers:
            listed = ", ".join(numbers[:6]) + (" …" if len(numbers) > 6 else "")
            self.notify(
                f"{len(numbers)} of your tickets changed: {listed}",
                title="While you were away",
                timeout=10,
            )

    def tick(self) -> None:
        """Advance SLA countdowns on the visible screen (only changed cells repaint)."""
        if not self.screen_stack:  # the app is closing: its timer fired after the screens went
            return
        self.screen.post_message(ClockTick(self.store.now()))
        # A full pass of the cycle collector while nobody waits, once a pause (collector.py).
        if self._input_since_pass and collect_if_idle(self.idle_clock() - self._last_input):
            self._input_since_pass = False

    def on_app_blur(self) -> None:
        if not self._attached:
            return
        self._ticker.stop()
        self._ticker = self.set_interval(TICK_SECONDS_UNFOCUSED, self.tick)
        self._blurred_at = self.store.now()

    def on_app_focus(self) -> None:
        if not self._attached:
            return
        self._ticker.stop()
        self.tick()
        self._ticker = self.set_interval(TICK_SECONDS, self.tick)
        blurred = self._blurred_at
        if blurred is not None and self.store.now() - blurred >= AWAY_SUMMARY_AFTER:
            self._away_since = self._away_since or blurred
            self.summarise_away()
        self._blurred_at = None

    # --- the rendering rule and crashes: one place each --------------------------------------

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast (``Widget.notify`` lands here too) is plain text with escapes shown.

        Toasts carry ticket numbers, names, tags and error text from the database: markup
        there would crash (``[/]``) or act (``[@click=app.quit]``). ``markup`` is ignored.
        """
        super().notify(
            literal(message), title=literal(title), severity=severity, timeout=timeout, markup=False
        )

    def _handle_exception(self, error: Exception) -> None:
        """A bug: exit 70 with one line on screen; the traceback goes to the private log.

        Textual's own handler prints a traceback with local variables, i.e. customer data.
        """
        if debugging():
            default_handle_exception(self, error)
            set_return_code(self, CRASH_EXIT)
            return
        record_app_crash(self, error, CRASH_EXIT)
        # A worker's failure wraps the real error (whose traceback is the useful one).
        cause = error.error if isinstance(error, WorkerFailed) else error
        path = record_crash(cause)
        if self._crash_line is None:
            self._crash_line = crash_line(cause, path)
        close_message_queues(self)

    def _print_error_renderables(self) -> None:
        if self._crash_line is None:
            default_print_error_renderables(self)
            return
        drop_error_renderables(self)
        # One line even when longer than the terminal is wide (the terminal folds it).
        self.error_console.print(Text(self._crash_line), soft_wrap=True)

    def report_error(self, error: BaseException | None) -> None:
        """The one place a failure turns into what the agent sees: one notification.

        Errors of ours carry a one-line message fit to show. Anything else is a bug: its text
        may hold customer data, so only its type is named.
        """
        if not isinstance(error, HelpdeskError):
            name = type(error).__name__ if error is not None else "unknown"
            where = ""
            if isinstance(error, BaseException):
                path = record_crash(error)  # the details, privately (0600): never on screen
                where = f" Details: {path}." if path else ""
            self.notify(
                f"Something went wrong ({name}); the app carries on.{where}",
                title="Unexpected error",
                severity="error",
                timeout=8,
                markup=False,
            )
            return
        title = {
            ConflictError: "Someone else got there first",
            PermissionDenied: "Not allowed",
            StoreUnavailable: "The database refused",
            StoreUnreachable: "No answer from the database",
        }.get(type(error), "Could not do that")
        self.notify(str(error), title=title, severity="error", timeout=8, markup=False)

    def show_help(self, screen: Screen[object]) -> None:
        from helpdesk_tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(screen))

    # The navigator (context.Helpdesk): each screen's module imported when first opened.

    def open_ticket(self, ticket_id: ObjectId, summary: Ticket | None = None) -> None:
        """The ticket's screen. Its module (with the reply editor, merge, split and the
        customer panel) is not needed for the queue's first rows: ``queue_painted`` imports it
        once they are painted, not before."""
        from helpdesk_tui.screens.ticket import TicketScreen

        self.push_screen(TicketScreen(ticket_id, summary))

    def open_queue(self, view: View) -> None:
        """One view as a queue of its own over the current screen (an agent's tickets, the
        Following view): ``q`` goes back."""
        from helpdesk_tui.screens.queue import AgentQueueScreen

        self.push_screen(AgentQueueScreen(view))

    def open_search(self, query: str, done: Callable[[str | None], Any]) -> None:
        from helpdesk_tui.screens.search import SearchScreen

        self.push_screen(SearchScreen(query), done)

    def open_workload(self) -> None:
        from helpdesk_tui.screens.workload import WorkloadScreen

        self.push_screen(WorkloadScreen())

    def open_reply(
        self,
        ticket_id: ObjectId,
        *,
        internal: bool,
        ticket: Ticket | None = None,
        done: Callable[[bool | None], Any] | None = None,
    ) -> None:
        """The reply editor on ``ticket_id`` (``ticket``: what the opener knows of it);
        ``done(sent)`` when it closes."""
        from helpdesk_tui.screens.reply import ReplyScreen

        self.push_screen(ReplyScreen(ticket_id, internal=internal, ticket=ticket), done)

    def replying_to(self, ticket_id: ObjectId) -> bool:
        """Whether the screen on top is the reply editor of ``ticket_id`` (for presence)."""
        from helpdesk_tui.screens.reply import ReplyScreen

        screen = self.screen
        return isinstance(screen, ReplyScreen) and screen.ticket_id == ticket_id

    def open_full_text(self, title: str, body: Text) -> None:
        from helpdesk_tui.screens.full_text import FullTextDialog

        self.push_screen(FullTextDialog(title, body))

    def open_pulse(self) -> None:
        from helpdesk_tui.screens.pulse import PulseScreen

        self.push_screen(PulseScreen())

    # Store calls that outlive the screen that asked for them.

    def leave_ticket(self, ticket_id: ObjectId) -> None:
        """Presence: I no longer have ``ticket_id`` open (the screen has gone already)."""
        if not self.me.read_only:  # apart: called by the closing screen, which it would hold
            apart(self, self._leave_ticket, ticket_id, self.me.id)

    @work(thread=True, exit_on_error=False, group="presence")
    def _leave_ticket(self, ticket_id: ObjectId, me: ObjectId) -> None:
        self.presence.leave(ticket_id, me)

    def stop_replying(self, ticket_id: ObjectId) -> None:
        """Presence, once a reply editor on ``ticket_id`` has closed: back on that ticket's
        screen I am viewing it again; back anywhere else I have left it."""
        viewing = any(
            isinstance(screen, HelpdeskScreen) and screen.viewing_ticket == ticket_id
            for screen in self.screen_stack
        )
        apart(self, self._stop_replying, ticket_id, self.me, viewing)  # as leave_ticket

    @work(thread=True, exit_on_error=False, group="presence")
    def _stop_replying(self, ticket_id: ObjectId, me: Identity, viewing: bool) -> None:
        if viewing:
            self.presence.beat(ticket_id, me.id, me.user.display, "viewing")
        else:
            self.presence.leave(ticket_id, me.id)

    def toggle_follow(self, ticket_id: ObjectId, label: str) -> None:
        """Follow ``ticket_id``, or stop following it if I already do; a toast says which."""
        written = threading.Event()
        self._follow_writes = [e for e in self._follow_writes if not e.is_set()] + [written]
        self._toggle_follow(ticket_id, label, self.me.id, written)

    @work(thread=True, exit_on_error=False, group="follow")
    def _toggle_follow(
        self, ticket_id: ObjectId, label: str, me: ObjectId, written: threading.Event
    ) -> None:
        followers = self.followers
        try:
            following = not followers.is_following(ticket_id, me)
            if following:
                followers.follow(ticket_id, me)
            else:
                followers.unfollow(ticket_id, me)
        finally:
            written.set()
        self.post_message(FollowToggled(ticket_id, label, following))

    @on(FollowToggled)
    def _follow_toggled(self, message: FollowToggled) -> None:
        if message.following:
            self.alerts.following.add(message.ticket_id)
            self.notify(
                f"Following {message.label}: you will hear of customer replies and status changes."
            )
        else:
            self.alerts.following.discard(message.ticket_id)
            self.notify(f"No longer following {message.label}.")

    def follow_writes(self) -> Callable[[], None]:
        """A wait, to run off the event loop, for the follow/unfollow writes started so far
        (each at most ``FOLLOW_WRITE_WAIT``): a read of what I follow comes after them."""
        earlier = [e for e in self._follow_writes if not e.is_set()]
        self._follow_writes = earlier

        def wait() -> None:
            for written in earlier:
                written.wait(FOLLOW_WRITE_WAIT)

        return wait

    def follow_mentions(self, ticket_id: ObjectId, text: str, label: str) -> None:
        """After an internal note: each colleague it ``@mentions`` follows the ticket from
        now on (the reply screen has closed by then: the app does it and says so)."""
        if not tokens(text):
            return  # no @name: no query
        roles = [*self.config.roles.agent, *self.config.roles.supervisor]
        self._follow_mentions(ticket_id, text, label, self.me.id, roles)

    @work(thread=True, exit_on_error=False, group="mentions")
    def _follow_mentions(
        self, ticket_id: ObjectId, text: str, label: str, me: ObjectId, roles: list[str]
    ) -> None:
        mentioned = follow_mentions(self.store, self.followers, ticket_id, text, by=me, roles=roles)
        self.post_message(MentionsFollowed(label, mentioned))

    @on(MentionsFollowed)
    def _mentions_followed(self, message: MentionsFollowed) -> None:
        added, unknown = message.mentioned.added, message.mentioned.unknown
        if added:
            names = ", ".join(one_line(name, 30) for name in added)
            self.notify(f"{names} now follow{'s' if len(added) == 1 else ''} {message.label}.")
        if unknown:
            names = ", ".join(f"@{one_line(name, 30)}" for name in unknown)
            self.notify(
                f"No colleague answers to {names} (or several do): nobody added for it.",
                severity="warning",
            )

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The palette lists every action of the current screen once, by its footer
        description, its key and the words an agent may search it by, on one line ("Assign
        (A): reassign, give to, unassign"): a second line repeating the name read as a second
        entry. Textual's generic screen keys (focus, copy selected text) and its own commands
        that one of ours already names ("Quit") are left out."""
        seen: set[str] = set()
        titles: set[str] = set()
        for binding in own_bindings(screen):  # not app.focus_next, screen.copy_text
            if binding.action in seen:
                continue
            seen.add(binding.action)
            titles.add(binding.description)
            key = self.get_key_display(binding)
            verbs = PALETTE_VERBS.get(binding.action, "")
            yield SystemCommand(  # the palette reads a title as markup
                escape_markup(f"{binding.description} ({key})" + (f": {verbs}" if verbs else "")),
                "",
                lambda action=binding.action: self.call_later(screen.run_action, action),
            )
        yield SystemCommand(
            "Redraw the screen",
            "Write every cell again (after another program wrote over the app)",
            self.action_redraw,
        )
        for command in super().get_system_commands(screen):
            if command.title not in titles:
                yield command

    def on_resize(self, event: events.Resize) -> None:
        """The terminal was resized, so it may have reflowed or cut what it showed: the next
        repaint writes every cell. Resized away and back before the app looked, it says the
        size the app has, and Textual repaints nothing: then all of it is repainted here, if
        anything was painted (a start has two Resizes of its size, Textual's and its
        driver's, and the first frame writes every cell anyway)."""
        painted = painted_since_redraw()
        redraw_everything()
        if painted and event.size == self.size:
            self.call_later(self.action_redraw)

    def action_redraw(self) -> None:
        """Forget what the terminal shows and repaint it all: only changed cells are written
        (terminal_output), so text another program wrote would otherwise stay."""
        redraw_everything()
        self.screen.refresh(repaint=True)


def status_text(status: FeedStatus, poll_interval: float) -> str:
    """The top bar's word for the feed; when not live, since when and how old the rows are."""
    state = status.state
    if state is FeedState.POLLING:
        return f"polling every {poll_interval:g}s"
    if status.live:
        return state.value
    parts = [f"⚠ {state.value}"]
    if status.since is not None and state is not FeedState.STALLED:
        parts[0] += f" since {status.since:%H:%M}"
    if status.rows_as_of is not None:
        parts.append(f"rows as of {status.rows_as_of:%H:%M:%S} UTC")
    return " · ".join(parts)
