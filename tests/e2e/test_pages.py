"""Accessibility, keyboard use and layout of the main pages, on the demo data."""

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from papers.models import Poll, Track
from tests.e2e.conftest import no_horizontal_scroll, run_axe, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

CLUB = "/c/asia-paper-club/"
STUDY = "/c/friday-study-group/"


@pytest.fixture
def demo(live_server):
    call_command("seed_demo", verbosity=0)
    closed = Poll.objects.filter(club__slug="asia-paper-club", closed_at__isnull=False).get()
    track = Track.objects.filter(club__slug="friday-study-group").first()
    return {
        "tracks": f"{STUDY}tracks/",
        "track": track.get_absolute_url(),
        "ranked-club": STUDY,
        "search": f"{CLUB}search/?q=attention",
        "home": "/",
        "club": CLUB,
        "session": f"{CLUB}sessions/1/",
        "next-session": f"{CLUB}sessions/4/",
        "timeline": f"{CLUB}sessions/",
        "poll-result": f"{CLUB}polls/{closed.pk}/",
        "sign-in": "/accounts/login/",
    }


def sign_in(page, email="member@example.com"):
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill("paperclub-demo")
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_main_pages_have_no_serious_accessibility_violations(new_page, demo, color_scheme):
    anonymous = new_page(color_scheme=color_scheme)
    member = new_page(color_scheme=color_scheme)
    sign_in(member)

    found = {}
    for name, url in demo.items():
        anonymous.goto(url)
        found[f"{name} (anonymous)"] = run_axe(anonymous)
    for name in (
        "home",  # signed in: the dashboard
        "club",
        "ranked-club",
        "track",
        "session",
        "next-session",
        "poll-result",
    ):  # the suggest form and ballot are on "club", the ranking on "ranked-club"
        member.goto(demo[name])
        found[f"{name} (member)"] = run_axe(member)

    assert {page: v for page, v in found.items() if v} == {}


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 900)])
def test_pages_fit_the_screen_and_are_saved_as_screenshots(new_page, demo, width, height):
    page = new_page(width=width, height=height)
    page.goto(demo["sign-in"])
    screenshot(page, f"sign-in-{width}")
    overflowing = [] if no_horizontal_scroll(page) else ["sign-in"]
    sign_in(page, "organizer@example.com")
    pages = {
        **{k: v for k, v in demo.items() if k != "sign-in"},
        "members": f"{CLUB}members/",
        "new-club": "/clubs/new/",
        "notes": f"{CLUB}sessions/1/notes/",
        "import": f"{STUDY}import/",
    }
    for name, url in pages.items():
        page.goto(url)
        screenshot(page, f"{name}-{width}")
        if not no_horizontal_scroll(page):
            overflowing.append(name)

    assert overflowing == []


def test_vote_with_the_keyboard_alone(new_page, demo):
    page = new_page()
    sign_in(page)
    page.goto(CLUB)
    status = page.locator("#ballot-status")
    expect(status).to_contain_text("You have not voted yet")

    for _ in range(80):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.className")
        if "vote-button" in focused:
            break
    else:
        pytest.fail("No vote button is reachable with Tab")
    label = page.evaluate("document.activeElement.getAttribute('aria-label')")
    page.keyboard.press("Enter")

    title = label.removeprefix("Vote for ")
    expect(page.get_by_role("button", name=f"Remove your vote for {title}")).to_be_visible()
    expect(status).to_contain_text("You have voted")


def test_skip_link_is_the_first_stop_and_moves_to_the_content(new_page, demo):
    page = new_page()
    page.goto(CLUB)

    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to content")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile("#main$"))


def test_pages_work_without_javascript(browser, live_server, demo):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    sign_in(page)
    page.goto(CLUB)

    page.locator("li.suggestion").first.get_by_role("button", name="Vote for").click()

    expect(page.locator("#ballot-status")).to_contain_text("You have voted")
    context.close()


def test_rsvp_with_one_click_and_add_the_session_to_a_calendar(new_page, demo):
    import icalendar

    page = new_page()
    sign_in(page, "organizer@example.com")
    page.goto(demo["next-session"])
    page.evaluate("document.body.dataset.loaded = 'once'")
    rsvp = page.locator("#rsvp")
    expect(rsvp).to_contain_text("2 going · 1 maybe · 1 not going")

    rsvp.get_by_role("button", name="Going", exact=True).click()

    expect(rsvp).to_contain_text("3 going")
    expect(rsvp.get_by_role("button", name="✓ Going")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("document.body.dataset.loaded") == "once"
    with page.expect_download() as download:
        page.get_by_role("link", name="Add to calendar (.ics)").click()
    calendar = icalendar.Calendar.from_ical(Path(download.value.path()).read_bytes())
    (event,) = calendar.walk("VEVENT")
    assert "Proximal Policy Optimization" in str(event["summary"])


def test_rank_papers_with_the_keyboard_then_by_dragging(new_page, demo):
    page = new_page()
    sign_in(page)
    page.goto(STUDY)
    page.evaluate("document.body.dataset.loaded = 'once'")
    ranking = page.locator("#ranking")
    expect(ranking).to_contain_text("Nothing ranked yet")

    rank_buttons = page.locator("button.vote-button", has_text="Rank")
    first = (
        rank_buttons.nth(0).get_attribute("aria-label").removeprefix("Rank ").removesuffix(" next")
    )
    rank_buttons.nth(0).focus()
    page.keyboard.press("Enter")
    expect(ranking.locator(".ranking-line")).to_have_count(1)
    expect(page.locator(".ranked-badge")).to_have_text(["Your #1"])  # the list refreshed
    second_button = page.locator("button.vote-button", has_text="Rank").nth(0)
    second = second_button.get_attribute("aria-label").removeprefix("Rank ").removesuffix(" next")
    second_button.focus()
    page.keyboard.press("Enter")
    expect(ranking.locator(".ranking-line")).to_have_count(2)
    expect(ranking.locator(".ranking-title")).to_have_text([first, second])

    ranking.get_by_role("button", name=f"Move up: {second}").focus()
    page.keyboard.press("Enter")
    expect(ranking.locator(".ranking-title")).to_have_text([second, first])
    expect(page.locator("#ballot-status")).to_contain_text("You have ranked 2 papers")

    lines = ranking.locator(".ranking-line")
    # The reload waits for the drop's request to be answered: reloading earlier cancels it.
    with page.expect_response(lambda r: r.request.method == "POST" and "/ranking/" in r.url):
        lines.nth(1).drag_to(lines.nth(0), target_position={"x": 10, "y": 2})
    expect(ranking.locator(".ranking-title")).to_have_text([first, second])
    page.reload()
    expect(page.locator("#ranking .ranking-title")).to_have_text([first, second])
    assert page.evaluate("document.body.dataset.loaded") is None  # reloaded only on purpose


def test_search_as_you_type(new_page, demo):
    page = new_page()
    page.goto(CLUB)
    page.evaluate("document.body.dataset.loaded = 'once'")

    page.get_by_label("Find a paper in Asia Paper Club").press_sequentially("atten", delay=40)

    results = page.locator("#search-results")
    expect(results).to_contain_text("Attention Is All You Need")
    assert page.evaluate("document.body.dataset.loaded") == "once"  # no page load
