"""What every helpdesk screen shares: the typed app, store calls, and keys from the first one.

Keys typed ahead (a paste, a fast typist, a laggy SSH link) must act on the screen the user
will see when they are handled. Two rules make that hold:

- A screen's own bindings are priority bindings, so the app resolves each key against the
  screen that is current at that moment, in order, before the next key (not later, after the
  key has travelled down to a widget and back up, when another screen may be current). While a
  text field has focus, only the bindings a screen names in ``TYPING_ACTIONS`` act: the rest of
  the keys are text.
- A screen is ``keys_ready`` once it is composed and focused; until then the app holds the keys
  (``HelpdeskApp.on_event``) and hands them over in order on ``ScreenReady``. A screen that
  loads data is ready at once (it shows a loading state): its keys never wait for its data.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from bson import ObjectId
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer, TimerCallback
from textual.widgets import Input, TextArea

from helpdesk_tui.context import Helpdesk
from helpdesk_tui.contexts import apart
from helpdesk_tui.messages import ScreenReady
from helpdesk_tui.workers import StoreCalls

# Keys wait for a screen's new rows at most this long (seconds).
KEY_HOLD_LIMIT = 3.0


class TakesKeys:
    """Mixin for screens and dialogs: ready for keys once mounted; bindings yield to typing."""

    # Actions still bound while a text field (Input, TextArea) has focus.
    TYPING_ACTIONS: frozenset[str] = frozenset()
    _mounted_for_keys = False
    # Set while what the next keys act on is being replaced (the queue's rows of a new view):
    # a key typed after `3` acts on the rows of view 3, not on the rows it replaces.
    holding_keys = False

    @property
    def keys_ready(self) -> bool:
        return self._mounted_for_keys and not self.holding_keys

    _hold_timer: Timer | None = None

    def hold_keys(self) -> None:
        """Until ``release_keys``, or ``KEY_HOLD_LIMIT`` at most: a database that does not
        answer must not leave the agent without keys (``q`` included)."""
        self.holding_keys = True
        if self._hold_timer is not None:
            self._hold_timer.stop()
        self._hold_timer = self.after(KEY_HOLD_LIMIT, self.release_keys)

    # A closed screen must not outlive its removal: a timer started as Textual's are would hold
    # it, stopped or not, until it would have fired (contexts.py). These two are set_interval
    # and set_timer started apart from the screen: the timers still belong to it (stopped when
    # it closes). Their callbacks run in the timer's own task, as Textual's do, where the app
    # (not this screen) is the active message pump: nothing here reads it.

    def every(self, seconds: float, callback: TimerCallback) -> Timer:
        """``set_interval(seconds, callback)``, holding nothing of this screen once stopped."""
        return apart(self.app, self.set_interval, seconds, callback)  # type: ignore[attr-defined]

    def after(self, seconds: float, callback: TimerCallback) -> Timer:
        """``set_timer(seconds, callback)``, holding nothing of this screen once stopped."""
        return apart(self.app, self.set_timer, seconds, callback)  # type: ignore[attr-defined]

    def release_keys(self) -> None:
        if self._hold_timer is not None:
            self._hold_timer.stop()
            self._hold_timer = None
        if self.holding_keys:
            self.holding_keys = False
            self.app.post_message(ScreenReady())  # type: ignore[attr-defined]

    def on_mount(self) -> None:
        # Runs after the subclass's own on_mount (Textual calls each class's handler, the
        # subclass first): by now the screen has set its focus.
        self._mounted_for_keys = True
        self.app.post_message(ScreenReady())  # type: ignore[attr-defined]

    def on_screen_resume(self) -> None:
        self.app.post_message(ScreenReady())  # type: ignore[attr-defined]

    def key_for(self, action: str, default: str) -> str:
        """The key a hint names for this screen's ``action``: ``default`` ("u", "ctrl+l") while
        the action is bound to it, else the key ``[keys]`` moved it to, as the footer shows it
        (a hint naming a key that does nothing is worse than none)."""
        for active in self.active_bindings.values():  # type: ignore[attr-defined]
            if active.node is self and active.binding.action.split("(")[0] == action:
                if active.binding.key == default:
                    return default
                return str(self.app.get_key_display(active.binding))
        return default

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While a text field has focus, the key is text for it unless the action is listed.
        focused = self.focused  # type: ignore[attr-defined]
        return not isinstance(focused, Input | TextArea) or action in self.TYPING_ACTIONS


class HelpdeskScreen(TakesKeys, StoreCalls, Screen[Any]):
    """A screen of the helpdesk: talks to the store off the event loop, takes keys at once."""

    # The ticket this screen shows (the ticket screen), for presence: "still viewing it?"
    viewing_ticket: ObjectId | None = None

    @property
    def helpdesk(self) -> Helpdesk:
        return cast(Helpdesk, self.app)

    @property
    def alive(self) -> bool:
        """Still on the screen stack: results for it can be shown."""
        return self.is_attached and self in self.app.screen_stack

    def accepts_results(self) -> bool:
        return self.alive

    def _guarded(self, check: Any) -> bool:
        """Run a permission check; a refusal becomes the usual error notification."""
        from helpdesk_tui.domain.errors import HelpdeskError

        try:
            check()
        except HelpdeskError as error:
            self.helpdesk.report_error(error)
            return False
        return True


def own_bindings(screen: Screen[object]) -> Iterator[Binding]:
    """The bindings of ``screen``'s own actions, the ones the help screen and the command
    palette name (with the keys bound now, remaps included): not a widget's or the app's, not
    Textual's hidden system keys, and not Textual's generic screen keys (``app.focus_next``,
    ``screen.copy_text``: a namespaced action), which are no helpdesk action."""
    for active in screen.active_bindings.values():
        binding = active.binding
        if (
            active.node is screen
            and binding.description
            and not binding.system
            and "." not in binding.action.split("(")[0]
        ):
            yield binding
