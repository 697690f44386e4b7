"""HelpdeskApp: wiring, global bindings, the clock tick, notifications and error reporting."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bson import ObjectId
from rich.text import Text
from textual.app import App, SystemCommand
from textual.css.query import NoMatches
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import WorkerFailed

from helpdesk_tui.alerts import Alert, Alerts
from helpdesk_tui.config import Config, drafts_dir
from helpdesk_tui.crash import CRASH_EXIT, crash_line, debugging, record_crash
from helpdesk_tui.domain.errors import ConflictError, HelpdeskError, PermissionDenied
from helpdesk_tui.domain.people import Identity
from helpdesk_tui.domain.text import literal, one_line
from helpdesk_tui.drafts import Drafts
from helpdesk_tui.store.live import Batch, Change, FeedMode, LiveFeed
from helpdesk_tui.store.presence import PresenceStore
from helpdesk_tui.store.queue_index import IndexMaintainer
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.terminal_output import install as write_only_changes
from helpdesk_tui.views import View, standard_views

STYLES = Path(__file__).parent / "styles"
# A countdown changes when its minute turns, so look every second; a tick writes to the
# terminal only for a cell whose text changed (nothing on most ticks).
TICK_SECONDS = 1.0
TICK_SECONDS_UNFOCUSED = 120.0
# Live changes are handed to the screens at most this often: a burst is one repaint.
COALESCE_SECONDS = 0.1
# Back after this long away (terminal unfocused or feed reconnecting): say what changed.
AWAY_SUMMARY_AFTER = timedelta(minutes=5)


class FeedBatch(Message):
    """Posted by the feed thread (``post_message`` is thread-safe)."""

    def __init__(self, batch: Batch) -> None:
        super().__init__()
        self.batch = batch


@dataclass
class TicketsChanged:
    """What the screens receive: coalesced ids and changes, or ``reload`` if any were lost."""

    ids: set[ObjectId] = field(default_factory=set)
    changes: list[Change] = field(default_factory=list)
    reload: bool = False


class HelpdeskApp(App[None]):
    TITLE = "helpdesk-tui"
    CSS_PATH = [STYLES / "app.tcss"]
    # The same bindings drive the footer, the help screen and the command palette.
    ENABLE_COMMAND_PALETTE = True

    def __init__(
        self,
        *,
        store: TicketStore,
        config: Config,
        me: Identity,
        demo: bool = False,
        clock: Callable[[], datetime] | None = None,
        drafts: Drafts | None = None,
        activity: Any = None,
    ) -> None:
        write_only_changes()  # a changed cell costs its characters, not the line before it
        super().__init__()
        self.store = store
        self.config = config
        self.me = me
        self.demo = demo
        self.clock = clock or store.clock
        self.drafts = drafts or Drafts(drafts_dir(config), me.id)
        self.views: list[View] = standard_views(
            me.id, config.views, lambda email: store.user_by_email(email).id
        )
        self.feed = LiveFeed(
            store,
            emit=self._from_feed,
            poll_interval=config.ui.poll_interval_seconds,
            maintainer=IndexMaintainer(store.queue, store.clock),
        )
        self.presence = PresenceStore(store.db, config.mongo.presence, clock=store.clock)
        self.alerts = Alerts(me.id)
        self.activity = activity  # the demo's simulated team, if any
        self._pending = TicketsChanged()
        self._flush_scheduled = False
        self._away_since: datetime | None = None
        self._seeded = False
        self._crash_line: str | None = None
        if config.ui.theme in self.available_themes:
            self.theme = config.ui.theme

    @property
    def feed_mode(self) -> str:
        mode = self.feed.mode
        text = mode.value
        if mode is FeedMode.POLLING:
            text = f"polling every {self.config.ui.poll_interval_seconds:g}s"
        return f"demo database · {text}" if self.demo else text

    def on_mount(self) -> None:
        from helpdesk_tui.screens.queue import QueueScreen

        # The feed opens its stream before the queue's first query (the queue waits for it).
        self.run_worker(self.feed.run, thread=True, group="feed", name="live feed")
        if not self.me.read_only:
            self.run_worker(self.presence.init, thread=True, group="presence")
        self.push_screen(QueueScreen())
        self._ticker = self.set_interval(TICK_SECONDS, self.tick)
        if self.activity is not None:
            self.run_worker(self.activity.run, thread=True, group="demo", name="demo team")

    def queue_painted(self) -> None:
        """The first rows are on screen: now do the start-up work nobody is waiting for."""
        if not self._seeded:
            self._seeded = True
            self.run_worker(self._seed_alerts, thread=True, group="alerts")

    def _seed_alerts(self) -> None:
        """What is mine right now, so a ticket that becomes mine later can be announced."""
        try:
            mine = self.store.assigned_ids(self.me.id)
        except HelpdeskError:
            return
        self.call_from_thread(self.alerts.seed_mine, mine)

    def on_unmount(self) -> None:
        self.feed.stop()
        if self.activity is not None:
            self.activity.stop()

    # --- live updates ------------------------------------------------------------------------

    def _from_feed(self, batch: Batch) -> None:
        """Called on the feed thread."""
        self.post_message(FeedBatch(batch))

    def on_feed_batch(self, message: FeedBatch) -> None:
        batch = message.batch
        if batch.mode is not None:
            self._mode_changed(batch.mode, batch.detail)
        self._pending.changes.extend(batch.changes)
        self._pending.ids.update(batch.ids)
        self._pending.reload |= batch.reload
        if not self._flush_scheduled and (batch.changes or batch.reload):
            self._flush_scheduled = True
            self.set_timer(COALESCE_SECONDS, self._deliver_changes)

    def _deliver_changes(self) -> None:
        pending, self._pending = self._pending, TicketsChanged()
        self._flush_scheduled = False
        if not self.is_running or self._exit:
            return  # shutting down: the screens are being torn down
        for alert in self.alerts.consider(pending.changes):
            self.alert(alert)
        for screen in self.screen_stack:
            apply = getattr(screen, "apply_changes", None)
            if apply is not None and screen.is_attached:
                apply(pending)

    def _mode_changed(self, mode: FeedMode, detail: str) -> None:
        for screen in self.screen_stack:
            update = getattr(screen, "update_top_bar", None)
            if update is not None:
                update()
        if mode is FeedMode.RECONNECTING:
            self._away_since = self._away_since or self.store.now()
            self.notify(
                f"Lost the database ({one_line(detail, 80)}); reconnecting…",
                severity="warning",
                timeout=6,
            )
        elif self._away_since is not None and mode in (FeedMode.LIVE, FeedMode.POLLING):
            self.notify("Reconnected: views are up to date again.", timeout=4)
            self.summarise_away()

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
        driver = self._driver
        if driver is not None:
            driver.write(f"\x1b]9;{one_line(text, 200)}\x07")

    def summarise_away(self) -> None:
        """After a reconnect or a long blur: what changed on my tickets meanwhile."""
        since, self._away_since = self._away_since, None
        if since is None:
            return
        store, me = self.store, self.me

        def fetch() -> list[str]:
            return store.changed_since(me.id, since)

        def show(numbers: list[str]) -> None:
            if numbers:
                listed = ", ".join(numbers[:6]) + (" …" if len(numbers) > 6 else "")
                self.notify(
                    f"{len(numbers)} of your tickets changed: {listed}",
                    title="While you were away",
                    timeout=10,
                )

        self.run_worker(lambda: self.call_from_thread(show, fetch()), thread=True, group="away")

    def tick(self) -> None:
        """Advance SLA countdowns on the visible screen (only changed cells repaint)."""
        tick = getattr(self.screen, "tick", None)
        if tick is not None:
            try:
                tick(self.store.now())
            except NoMatches:  # the screen is still being built, or being torn down
                return

    def on_app_blur(self) -> None:
        self._ticker.stop()
        self._ticker = self.set_interval(TICK_SECONDS_UNFOCUSED, self.tick)
        self._blurred_at = self.store.now()

    def on_app_focus(self) -> None:
        self._ticker.stop()
        self.tick()
        self._ticker = self.set_interval(TICK_SECONDS, self.tick)
        blurred = getattr(self, "_blurred_at", None)
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
            super()._handle_exception(error)
            self._return_code = CRASH_EXIT
            return
        self._return_code = CRASH_EXIT
        if self._exception is None:  # run_test re-raises it for the test framework
            self._exception = error
            self._exception_event.set()
        # A worker's failure wraps the real error (whose traceback is the useful one).
        cause = error.error if isinstance(error, WorkerFailed) else error
        path = record_crash(cause)
        if self._crash_line is None:
            self._crash_line = crash_line(cause, path)
        self._close_messages_no_wait()

    def _print_error_renderables(self) -> None:
        if self._crash_line is None:
            super()._print_error_renderables()
            return
        self._exit_renderables.clear()
        # One line even when longer than the terminal is wide (the terminal folds it).
        self.error_console.print(Text(self._crash_line), soft_wrap=True)

    def report_error(self, error: HelpdeskError) -> None:
        """The one place a store or permission error turns into what the agent sees."""
        title = {
            ConflictError: "Someone else got there first",
            PermissionDenied: "Not allowed",
        }.get(type(error), "Could not do that")
        self.notify(str(error), title=title, severity="error", timeout=8, markup=False)

    def show_help(self, screen: Screen[object]) -> None:
        from helpdesk_tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(screen))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The palette lists every action of the current screen, by its footer description."""
        seen = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if active.node is not screen or not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            key = self.get_key_display(binding)
            yield SystemCommand(
                binding.description,
                f"{binding.description} (key: {key})",
                lambda action=binding.action: self.call_later(screen.run_action, action),
            )
        yield from super().get_system_commands(screen)
