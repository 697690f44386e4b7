"""A served app starts on the sign-in screen and becomes the helpdesk of whoever signed in.

The attempts here are stand-ins with the real one's contract (a login and a password in, a
store and an identity out, a HelpdeskError with a line fit to show otherwise), so the screen's
behaviour is pinned apart from the database: the real attempt, against a server with
authentication, is in test_auth_serve.py.
"""

from __future__ import annotations

from typing import Any

from pilot import plain, settle, until
from textual.widgets import Input, Static

from helpdesk_tui.app import HelpdeskApp
from helpdesk_tui.config import Config
from helpdesk_tui.demo.seed import DEMO_AGENT_EMAIL
from helpdesk_tui.domain.errors import PermissionDenied
from helpdesk_tui.domain.people import Identity
from helpdesk_tui.screens.queue import QueueScreen
from helpdesk_tui.screens.sign_in import MAX_ATTEMPTS, SignInScreen
from helpdesk_tui.store.tickets import TicketStore

SECRET = "s3cret-Pa55"


def attempts_on(store: TicketStore) -> tuple[list[tuple[str, str]], Any]:
    tried: list[tuple[str, str]] = []

    def attempt(login: str, password: str) -> tuple[TicketStore, Identity]:
        tried.append((login, password))
        if password != SECRET:
            raise PermissionDenied(f"the database refused the login {login}")
        config = Config()
        me = Identity.from_user(
            store.user_by_email(login),
            agent_roles=config.roles.agent,
            supervisor_roles=config.roles.supervisor,
        )
        return store, me

    return tried, attempt


async def sign_in(pilot: Any, login: str, password: str) -> None:
    screen = pilot.app.screen
    screen.query_one("#login", Input).value = login
    screen.query_one("#password", Input).value = password
    screen.query_one("#password", Input).focus()
    await pilot.press("enter")


def screen_text(app: HelpdeskApp) -> str:
    return "\n".join(plain(s) for s in app.screen.query(Static))


async def test_a_wrong_password_says_so_clears_the_field_and_shows_it_nowhere(
    demo_store: TicketStore,
) -> None:
    tried, attempt = attempts_on(demo_store)
    app = HelpdeskApp(config=Config(), sign_in=attempt, where="mongodb://db.example/")
    async with app.run_test(size=(100, 30)) as pilot:
        assert isinstance(app.screen, SignInScreen)
        await sign_in(pilot, DEMO_AGENT_EMAIL, "wrong-" + SECRET)
        status = app.screen.query_one("#sign-in-status", Static)
        assert await until(pilot, lambda: "refused the login" in plain(status))
        assert f"{MAX_ATTEMPTS - 1} attempts left" in plain(status)
        assert app.screen.query_one("#password", Input).value == ""
        assert SECRET not in screen_text(app)
        assert isinstance(app.screen, SignInScreen)  # still signing in, nothing opened
    assert tried == [(DEMO_AGENT_EMAIL, "wrong-" + SECRET)]


async def test_the_right_password_opens_the_queue_as_that_login(demo_store: TicketStore) -> None:
    _, attempt = attempts_on(demo_store)
    app = HelpdeskApp(config=Config(), sign_in=attempt, where="mongodb://db.example/")
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, DEMO_AGENT_EMAIL, SECRET)
        assert await until(pilot, lambda: isinstance(app.screen, QueueScreen), 10)
        await settle(pilot)
        assert app.me.user.email == DEMO_AGENT_EMAIL
        bar = plain(app.screen.query_one("#top-bar", Static))
        assert app.me.user.display in bar
        app.feed.stop()


async def test_too_many_failures_end_the_app_with_one_line(demo_store: TicketStore) -> None:
    _, attempt = attempts_on(demo_store)
    app = HelpdeskApp(config=Config(), sign_in=attempt, where="mongodb://db.example/")
    async with app.run_test(size=(100, 30)) as pilot:
        for n in range(MAX_ATTEMPTS):
            await sign_in(pilot, DEMO_AGENT_EMAIL, f"guess-{n}")
            status = app.screen.query_one("#sign-in-status", Static)
            left = MAX_ATTEMPTS - n - 1
            if left:
                said = f"{left} attempt"
                assert await until(pilot, lambda s=status, t=said: t in plain(s))
        assert await until(pilot, lambda: app.return_code == 2)
