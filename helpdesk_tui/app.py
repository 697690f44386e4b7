"""HelpdeskApp: wiring, global bindings, the clock tick, notifications and error reporting."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from textual.app import App, SystemCommand
from textual.screen import Screen

from helpdesk_tui.config import Config, drafts_dir
from helpdesk_tui.domain.errors import ConflictError, HelpdeskError, PermissionDenied
from helpdesk_tui.domain.people import Identity
from helpdesk_tui.drafts import Drafts
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.views import View, standard_views

STYLES = Path(__file__).parent / "styles"
# Countdowns show minutes: repainting more often than this would only write the same text.
TICK_SECONDS = 15.0
TICK_SECONDS_UNFOCUSED = 120.0


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
    ) -> None:
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
        self.feed_mode = "demo database" if demo else ""
        self._tick_interval = TICK_SECONDS
        if config.ui.theme in self.available_themes:
            self.theme = config.ui.theme

    def on_mount(self) -> None:
        from helpdesk_tui.screens.queue import QueueScreen

        self.push_screen(QueueScreen())
        self._ticker = self.set_interval(self._tick_interval, self.tick)

    def tick(self) -> None:
        """Advance SLA countdowns on the visible screen (only changed cells repaint)."""
        tick = getattr(self.screen, "tick", None)
        if tick is not None:
            tick(self.store.now())

    def on_app_blur(self) -> None:
        self._ticker.stop()
        self._ticker = self.set_interval(TICK_SECONDS_UNFOCUSED, self.tick)

    def on_app_focus(self) -> None:
        self._ticker.stop()
        self.tick()
        self._ticker = self.set_interval(TICK_SECONDS, self.tick)

    def report_error(self, error: HelpdeskError) -> None:
        """The one place a store or permission error turns into what the agent sees."""
        title = {
            ConflictError: "Someone else got there first",
            PermissionDenied: "Not allowed",
        }.get(type(error), "Could not do that")
        self.notify(str(error), title=title, severity="error", timeout=8)

    def show_help(self, screen: Screen[object]) -> None:
        from helpdesk_tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(screen))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The palette lists every action of the current screen, by its footer description."""
        seen = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if not binding.description or binding.system or binding.action in seen:
                continue
            seen.add(binding.action)
            key = self.get_key_display(binding)
            yield SystemCommand(
                binding.description,
                f"{binding.description} (key: {key})",
                lambda action=binding.action: self.call_later(screen.run_action, action),
            )
        yield from super().get_system_commands(screen)
