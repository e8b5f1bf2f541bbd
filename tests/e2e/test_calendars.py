"""Subscribing to calendars, as a member would in the browser."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.e2e.conftest import SCREENSHOTS, no_horizontal_scroll, run_axe, screenshot
from tests.e2e.test_pages import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

CLUB = "/c/asia-paper-club/"


@pytest.fixture
def demo(live_server):
    call_command("seed_demo", verbosity=0)


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 900)])
def test_subscription_instructions_fit_pass_axe_and_are_saved(new_page, demo, width, height):
    page = new_page(width=width, height=height)
    sign_in(page)

    page.goto("/accounts/profile/")
    page.get_by_role("link", name="Your calendar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your calendar")
    expect(page.get_by_text(re.compile("Other calendars .+ From URL"))).to_be_visible()
    screenshot(page, f"calendar-subscribe-{width}")
    assert run_axe(page) == []
    assert no_horizontal_scroll(page)

    page.goto(CLUB)
    follow = page.locator("section", has=page.get_by_role("heading", name="Follow the club"))
    expect(follow.get_by_role("link", name="Subscribe in your calendar app")).to_have_attribute(
        "href", f"webcal://{page.url.split('://', 1)[1].split('/', 1)[0]}{CLUB}calendar.ics"
    )
    follow.scroll_into_view_if_needed()
    follow.screenshot(path=screenshot_path(f"club-subscribe-{width}"))
    assert run_axe(page) == []
    assert no_horizontal_scroll(page)


def screenshot_path(name: str):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


def test_copy_button_copies_the_address(new_page, demo, live_server):
    page = new_page()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    sign_in(page)
    page.goto("/calendar/")

    address = page.get_by_label("Calendar address")
    copy = page.get_by_role("button", name="Copy")
    expect(copy).to_be_visible()
    copy.click()

    expect(page.get_by_role("status").filter(has_text="Copied")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == address.input_value()
    assert copied.startswith(live_server.url + "/calendar/")
    assert copied.endswith("/sessions.ics")


def test_without_javascript_the_address_is_selected_by_hand(browser, demo, live_server):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(CLUB)
        address = page.locator("#club-feed-url")

        expect(page.locator(".copy-button")).to_be_hidden()
        address.select_text()

        selected = page.evaluate(
            "(() => { const i = document.getElementById('club-feed-url');"
            " return i.value.slice(i.selectionStart, i.selectionEnd); })()"
        )
        # evaluate runs even with page scripts off: it reads what the user selected.
        assert selected == f"{live_server.url}{CLUB}calendar.ics"
        assert address.get_attribute("readonly") is not None
    finally:
        context.close()


def test_reset_changes_the_address_and_the_old_one_stops_working(new_page, demo):
    page = new_page()
    sign_in(page)
    page.goto("/calendar/")
    old = page.get_by_label("Calendar address").input_value()

    page.get_by_role("button", name="Reset my calendar address").click()

    expect(page.get_by_text("Your calendar link was reset")).to_be_visible()
    new = page.get_by_label("Calendar address").input_value()
    assert new != old
    assert page.request.get(old).status == 404
    response = page.request.get(new)
    assert response.status == 200
    assert "BEGIN:VCALENDAR" in response.text()
