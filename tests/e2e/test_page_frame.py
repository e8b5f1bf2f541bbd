"""The club page's cached frame (clubs/page.py) in a real browser: two members, each in
a browser of their own holding its own cookies, get their own name and counts, and the
forms of the frame post with each browser's own CSRF cookie."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)

CLUB = "/c/asia-paper-club/"


def sign_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill("paperclub-demo")
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_two_members_each_get_their_own_page_and_their_forms_post(new_page, live_server):
    call_command("seed_demo", verbosity=0)
    names = {u.email: u.name for u in get_user_model().objects.all()}
    first = new_page(timezone_id="Asia/Singapore", locale="en-SG")
    second = new_page(timezone_id="Europe/Berlin", locale="de-DE")
    sign_in(first, "priya@example.com")
    sign_in(second, "member@example.com")

    first.goto(CLUB)  # the member's frame is made here, from the first member's request
    second.goto(CLUB)
    second.reload()
    expect(first.locator(".nav-name")).to_have_text(names["priya@example.com"])
    expect(second.locator(".nav-name")).to_have_text(names["member@example.com"])
    before = first.locator("#ballot-status").inner_text()

    # The second member votes through a button of the cached frame: the htmx post carries
    # the token the frame was filled with, checked against the browser's own cookie.
    row = second.locator(".suggestion:has(button[aria-pressed='false'])").first
    row_id = row.get_attribute("id")
    used = int(
        re.search(
            r"for (\d+) paper", second.locator("#ballot-status").inner_text() + " for 0 paper"
        )[1]
    )
    row.get_by_role("button", name=re.compile("^Vote for")).click()
    expect(second.locator(f"#{row_id} button[aria-pressed='true']")).to_be_visible()
    expect(second.locator("#ballot-status")).to_contain_text(f"for {used + 1} paper")

    first.reload()
    expect(first.locator(".nav-name")).to_have_text(names["priya@example.com"])
    assert first.locator("#ballot-status").inner_text() == before
    expect(first.locator(f"#{row_id} button[aria-pressed='true']")).to_have_count(0)

    # A plain form of the frame (sign out) posts with the browser's own cookie too.
    second.get_by_role("button", name="Sign out").click()
    expect(second.get_by_role("link", name="Sign in").first).to_be_visible()
