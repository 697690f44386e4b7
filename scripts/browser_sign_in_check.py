"""``helpdesk-tui serve`` in a real headless browser, signing in with a database login.

A SecantusDB on a temporary storage directory gets the demo data and `init-db`'s roles, a login
for Ana (readWrite + helpdeskAgent), and is restarted with ``--auth``. ``serve`` runs on it;
Chromium opens the page and, as a visitor would, types Ana's login and a wrong password, then
the right one. Checks:

1. the sign-in screen shows (not a helpdesk as someone);
2. a wrong password is refused in one line;
3. the right one opens the queue as Ana ("signed in as ana@...");
4. neither password ever appears in what the app sent to the page.

Saves ``screenshots/browser-sign-in.png``. Needs Chromium and Playwright, like
scripts/browser_check.py (CI has no browser, so this is a script, not a test).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from browser_check import ROOT, free_port, open_page, screen_text, wait_for, wait_for_port
from pymongo import MongoClient

from helpdesk_tui.store.embedded import EmbeddedServer

ANA = "ana@helpdesk.example"
PASSWORD = "ana-Browser-Pw-7"
WRONG = "not-the-password-9"


def prepared_server(storage: Path) -> EmbeddedServer:
    server = EmbeddedServer(storage=storage / "data", log_path=storage / "secantusd.log").start()
    env = {**os.environ, "HELPDESK_TUI_MONGO_URI": server.uri}
    tui = [sys.executable, "-m", "helpdesk_tui"]
    subprocess.run([*tui, "seed", "--yes", "--tickets", "60"], env=env, check=True)
    subprocess.run([*tui, "init-db"], env=env, check=True, stdout=subprocess.DEVNULL)
    client: MongoClient[dict[str, object]] = MongoClient(server.uri)
    client.admin.command(
        "createUser",
        ANA,
        pwd=PASSWORD,
        roles=[
            {"role": "readWrite", "db": "helpdesk"},
            {"role": "helpdeskAgent", "db": "helpdesk"},
        ],
        mechanisms=["SCRAM-SHA-256"],
    )
    client.close()
    server.auth = True
    return server.restart()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--screenshot", default=str(ROOT / "screenshots" / "browser-sign-in.png"))
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    storage = Path(tempfile.mkdtemp(prefix="helpdesk-signin-"))
    server = prepared_server(storage)
    port = free_port()
    uri = f"mongodb://127.0.0.1:{server.port}/?replicaSet=secantus&authSource=admin"
    served = subprocess.Popen(
        [sys.executable, "-m", "helpdesk_tui", "serve", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "HELPDESK_TUI_MONGO_URI": uri},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    checks: list[tuple[str, bool]] = []
    try:
        wait_for_port(port, args.timeout)
        with sync_playwright() as playwright:
            browser, page, frames = open_page(playwright, args.chromium, port)
            shown = wait_for(frames, "sign in with your database login", args.timeout, page)
            checks.append(("the sign-in screen shows", shown))
            page.locator(".textual-terminal").click()
            page.keyboard.type(ANA)
            page.keyboard.press("Enter")
            page.keyboard.type(WRONG)
            page.keyboard.press("Enter")
            refused = wait_for(frames, "wrong login or password", args.timeout, page)
            checks.append(("a wrong password is refused", refused))
            page.keyboard.type(PASSWORD)
            page.keyboard.press("Enter")
            signed_in = wait_for(frames, "signed in as", args.timeout, page) and wait_for(
                frames, "My tickets", args.timeout, page
            )
            checks.append(("the right one opens the queue as Ana", signed_in))
            page.wait_for_timeout(1500)
            Path(args.screenshot).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=args.screenshot)
            text = screen_text(frames)
            clean = PASSWORD not in text and WRONG not in text
            checks.append(("no password in what the page was sent", clean))
            browser.close()
    finally:
        os.killpg(served.pid, signal.SIGTERM)
        try:
            served.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(served.pid, signal.SIGKILL)
        server.stop()
    for name, passed in checks:
        print(f"{'ok  ' if passed else 'FAIL'} {name}")
    print(f"screenshot: {args.screenshot}")
    failed = sum(not ok for _, ok in checks)
    print(f"{len(checks) - failed} passed, {failed} failed")
    return 0 if len(checks) == 4 and not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
