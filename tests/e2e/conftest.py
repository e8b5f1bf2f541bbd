"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server."""

import os
import re
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct-horse-battery-staple"


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.e2e)
            if CHROMIUM is None:
                item.add_marker(pytest.mark.skip(reason="Chromium is not installed"))


class _OneRequestAtATime:
    """The live server's WSGI server, serving one request at a time, for SQLite's in-memory
    test database: its threads would share the test's one connection, and a write in one
    (the live vote's close at zero, say) makes the others' reads fail with "database table
    is locked", which a real SQLite file never does. Answers say `Connection: close`, so no
    browser connection holds the server."""

    def __new__(cls, *args, connections_override=None, **kwargs):
        from django.core.servers.basehttp import WSGIServer

        return WSGIServer(*args, **kwargs)


@pytest.fixture(scope="session", autouse=True)
def _serial_live_server_on_sqlite():
    from django.db import connection
    from django.test.testcases import LiveServerThread

    if connection.vendor != "sqlite":
        yield
        return
    threaded = LiveServerThread.server_class
    LiveServerThread.server_class = _OneRequestAtATime
    yield
    LiveServerThread.server_class = threaded


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _http_cookies(settings):
    # The live server speaks plain http; production cookies are https-only.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


class Problems:
    """JavaScript errors, Content Security Policy violations and server errors seen in a page.

    Two kinds of console errors are expected and left out:
    - Chromium logs every 4xx response; those are the app's deliberate refusals (a 409
      for a vote past the budget), which the tests check themselves;
    - htmx logs a request it aborted on purpose (the as-you-type link check, cut short
      when the form is submitted) as "htmx:sendAbort" after "htmx:afterRequest".
    """

    def __init__(self):
        self.items: list[str] = []

    def watch(self, page):
        page.on("pageerror", lambda error: self.items.append(f"{page.url}: {error}"))
        page.on("console", lambda msg: self._console(page, msg))
        page.on(
            "response",
            lambda r: r.status >= 500 and self.items.append(f"{r.url}: HTTP {r.status}"),
        )
        return page

    def _console(self, page, msg):
        refusal = re.search(r"status of 4\d\d", msg.text) and "Failed to load resource" in msg.text
        if msg.type != "error" or refusal:
            return
        if msg.text.startswith("htmx:sendAbort"):
            after = f"{page.url}: htmx:afterRequest" + msg.text.removeprefix("htmx:sendAbort")
            if after in self.items:
                self.items.remove(after)
                return
        self.items.append(f"{page.url}: {msg.text}")


@pytest.fixture
def problems():
    found = Problems()
    yield found
    assert found.items == []


@pytest.fixture
def new_page(browser, live_server, problems):
    """Open a page in a fresh browser context (its own cookies): one per person."""
    contexts = []

    def open_page(
        width=1280,
        height=900,
        color_scheme="light",
        timezone_id=None,
        locale=None,
        phone=False,
    ):
        # A person's zone and language reach the app only as their browser reports them.
        context = browser.new_context(
            base_url=live_server.url,
            viewport={"width": width, "height": height},
            color_scheme=color_scheme,
            timezone_id=timezone_id,
            locale=locale,
            is_mobile=phone,
            has_touch=phone,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return problems.watch(context.new_page())

    yield open_page
    for context in contexts:
        context.close()


def sign_up(page, email: str, name: str = "New Reader") -> None:
    """Sign up through the form and follow the verification link from the email."""
    from django.core import mail

    sent = len(mail.outbox)
    page.goto("/accounts/signup/")
    page.get_by_label("Display name").fill(name)
    page.locator("#id_email").fill(email)
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    page.wait_for_url("**/accounts/confirm-email/")
    body = mail.outbox[sent].body
    path = re.search(r"https?://[^/]+(/accounts/confirm-email/\S+/)", body).group(1)
    page.goto(path)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(lambda url: "/confirm-email/" not in url)


def run_axe(page) -> list[dict]:
    """Serious and critical accessibility violations on the current page."""
    if not AXE.exists():
        pytest.skip("axe-core is not installed (npm ci)")
    page.evaluate(AXE.read_text())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
