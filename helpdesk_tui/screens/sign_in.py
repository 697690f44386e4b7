"""Sign in with your own database login (``helpdesk-tui serve``: one per browser visitor).

textual-serve has no authentication of its own, so a served app starts here: the visitor gives
their database login and password, the app connects with them, and the visitor is who that
login says (the same rule as in the terminal). The password lives only in the password field
until it is handed to the connection attempt, is cleared from the field at once, and is never
shown, logged or put in a URL. A failed attempt says why in one line; after ``MAX_ATTEMPTS``
the app ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, Label, Static

from helpdesk_tui.domain.errors import HelpdeskError
from helpdesk_tui.domain.text import one_line
from helpdesk_tui.screens.base import TakesKeys

T = TypeVar("T")
MAX_ATTEMPTS = 5

# Tries the login and password; returns what the app needs (a session) or raises a
# HelpdeskError whose message is fit to show (it never holds the password).
Attempt = Callable[[str, str], T]


class SignInScreen(TakesKeys, Screen[T], Generic[T]):
    # Enter is the screen's, resolved in the key's turn: a login, Enter and a password typed
    # ahead in one burst land in their own fields (Input.focus() would move the focus only
    # after the password's first keys had gone into the login).
    BINDINGS = [
        Binding("enter", "submit", "Sign in", priority=True, id="submit"),
        Binding("ctrl+c", "app.quit", "Quit", priority=True, id="quit"),
    ]
    TYPING_ACTIONS = frozenset({"quit", "submit"})
    DEFAULT_CSS = """
    SignInScreen { align: center middle; }
    SignInScreen > Vertical { width: 60; max-width: 100%; height: auto; padding: 1 2;
        border: round $primary; }
    SignInScreen Input { margin-bottom: 1; }
    SignInScreen #sign-in-status { height: auto; }
    """

    def __init__(self, attempt: Attempt[T], where: str) -> None:
        super().__init__()
        self._attempt = attempt
        self._where = where  # the server, credentials masked (the app wrote it)
        self._failures = 0
        self._busy = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("helpdesk-tui: sign in with your database login")
            yield Static(one_line(self._where, 56), id="sign-in-where", markup=False)
            yield Input(placeholder="login (e.g. you@example.com)", id="login")
            yield Input(placeholder="password", password=True, id="password")
            yield Static("", id="sign-in-status", markup=False)

    def on_mount(self) -> None:
        self.query_one("#login", Input).focus()

    def action_submit(self) -> None:
        login_box = self.query_one("#login", Input)
        password_box = self.query_one("#password", Input)
        if self.focused is login_box:
            self.set_focus(password_box)
            return
        login, password = login_box.value.strip(), password_box.value
        password_box.value = ""  # the field never keeps it past this attempt
        if self._busy:
            return
        if not login or not password:
            self._say("Both the login and the password are needed.")
            (login_box if not login else password_box).focus()
            return
        self._busy = True
        self._say("Signing in…")
        self._sign_in(login, password)

    @work(thread=True, exit_on_error=False, group="sign-in")
    def _sign_in(self, login: str, password: str) -> None:
        try:
            session = self._attempt(login, password)
        except HelpdeskError as error:
            self.app.call_from_thread(self._failed, str(error))
        except Exception as error:  # a bug: its type only, never its text (it may quote input)
            self.app.call_from_thread(self._failed, f"sign-in failed ({type(error).__name__})")
        else:
            self.app.call_from_thread(self.dismiss, session)

    def _failed(self, why: str) -> None:
        self._busy = False
        self._failures += 1
        if self._failures >= MAX_ATTEMPTS:
            self.app.exit(return_code=2, message=f"helpdesk-tui: {one_line(why, 200)}")
            return
        left = MAX_ATTEMPTS - self._failures
        self._say(f"{one_line(why, 160)} ({left} attempt{'s' if left != 1 else ''} left)")
        self.query_one("#password", Input).focus()

    def _say(self, text: str) -> None:
        self.query_one("#sign-in-status", Static).update(text)
