"""The live vote at the end of a session, in browsers: the organizer starts it from the
session page, three members vote from their own browsers (one a phone that follows the
short link and signs in on the way), the shared screen follows without a reload, and at
zero it shows the winner and the date it is scheduled for."""

import datetime as dt
import re

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from papers import live
from papers.models import Poll
from tests.e2e.conftest import run_axe, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

CLUB = "/c/asia-paper-club/"
PASSWORD = "paperclub-demo"


def sign_in(page, email: str, then: str | None = None) -> None:
    if then is None:
        page.goto("/accounts/login/")
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_live_vote_end_to_end(new_page, live_server):
    call_command("seed_demo", verbosity=0)

    # The organizer ends the session: "Vote for next week" on its page.
    screen = new_page(width=1280, height=720, timezone_id="Asia/Singapore", locale="en-SG")
    sign_in(screen, "organizer@example.com")
    screen.goto(f"{CLUB}sessions/3/")
    screen.get_by_role("link", name="Vote for next week").click()
    expect(screen.get_by_text("A poll is already open")).to_be_visible()
    screen.get_by_label("Countdown, in minutes").fill("2")
    screen.get_by_label("Close the open poll first").check()
    screen.get_by_role("button", name="Start the vote").click()
    screen.wait_for_url(re.compile(r"/polls/\d+/live/$"))
    poll = Poll.objects.get(club__slug="asia-paper-club", closed_at__isnull=True)
    assert poll.is_live
    expect(screen.locator(".live-countdown")).to_have_text(re.compile(r"[12]:\d\d"))
    expect(screen.locator(".live-voted")).to_have_text("0 of 5 members have voted")
    short = screen.locator(".live-link").inner_text()
    assert short.endswith(f"/v/{poll.live_code}/")
    path = short[short.index("/v/") :]
    assert screen.locator(".live-qr").evaluate("img => img.naturalWidth") > 0
    assert screen.locator("main a, main button, main input, main select").count() == 0
    assert run_axe(screen) == []

    # A phone follows the short link: signs in, lands on the ballot, votes with one tap.
    phone = new_page(width=390, height=844, phone=True, timezone_id="Europe/Berlin")
    phone.goto(path)
    assert "/accounts/login/" in phone.url
    sign_in(phone, "member@example.com", then=path)
    phone.wait_for_url(f"**{path}")
    choices = phone.locator(".live-choice")
    first_title = choices.first.inner_text()
    choices.first.click()
    expect(phone.locator(".live-choice.chosen")).to_have_count(1)
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # Two laptops: one vote each, for the same paper.
    laptops = []
    for email in ("priya@example.com", "yuki@example.com"):
        laptop = new_page(timezone_id="Asia/Kolkata")
        sign_in(laptop, email)
        laptop.goto(path)
        laptop.get_by_role("button", name=first_title).click()
        expect(laptop.locator(".live-choice.chosen")).to_have_count(1)
        laptops.append(laptop)

    # The screen follows without a reload; so does the phone's ballot.
    expect(screen.locator(".live-voted")).to_have_text("3 of 5 members have voted", timeout=5000)
    expect(screen.locator(".live-bars .bar-row").first).to_contain_text("3 votes")
    expect(phone.locator("#live-state .live-voted")).to_have_text("3 of 5 members have voted")
    screenshot(screen, "live-vote-screen-during")
    screenshot(phone, "live-vote-phone-ballot")

    # Zero: the closing time moves into the past; nobody clicks anything.
    Poll.objects.filter(pk=poll.pk).update(
        # The opening moves back too: a poll opened within the last second would otherwise
        # close before it opened, which the database refuses.
        opened_at=timezone.now() - dt.timedelta(minutes=5),
        closes_at=timezone.now() - dt.timedelta(seconds=1),
    )
    live.bump_state(poll.pk)  # cached fragments hold the closing time that was moved
    expect(screen.locator(".live-winner")).to_contain_text(first_title.strip(), timeout=5000)
    expect(screen.locator(".live-scheduled")).to_contain_text("Scheduled for")
    expect(screen.locator(".live-scheduled")).to_contain_text("Singapore")
    poll.refresh_from_db()
    assert poll.is_closed and poll.closed_by is None
    assert poll.meeting.state == "scheduled"
    assert run_axe(screen) == []
    screenshot(screen, "live-vote-screen-end")
    expect(phone.locator(".live-choice")).to_have_count(0)
    expect(phone.locator("#live-state")).to_contain_text("The vote is closed")
    for laptop in laptops:  # every ballot stops polling once it shows the result
        expect(laptop.locator("#live-state")).to_contain_text("The vote is closed")


def _start_live_vote(candidates: int = 4, minutes: int = 5) -> Poll:
    """The demo club's week-long poll closed, a live vote started on `candidates` papers."""
    from clubs.models import Club
    from papers.models import Suggestion

    call_command("seed_demo", verbosity=0)
    club = Club.objects.get(slug="asia-paper-club")
    organizer = club.memberships.get(user__email="organizer@example.com").user
    current = Poll.objects.filter(club=club).unclosed().first()
    if current is not None:
        from papers.polls import close_poll

        close_poll(poll=current, closed_by=organizer)
    ids = list(
        Suggestion.objects.filter(club=club, state="open")
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:candidates]
    )
    assert len(ids) == candidates
    return live.open_live_poll(club=club, opened_by=organizer, shortlist=ids, minutes=minutes)


def _vote(poll: Poll, email: str, index: int = 0) -> None:
    from papers.votes import set_vote

    membership = poll.club.memberships.get(user__email=email)
    suggestion = poll.shortlist.order_by("created_at", "id")[index]
    set_vote(poll=poll, membership=membership, suggestion=suggestion, approve=True)
    live.bump_state(poll.pk)


COUNTDOWN_TEXTS = """() => {
  window.countdownTexts = [];
  const record = () => document.querySelectorAll("[data-countdown-to]").forEach(
    (element) => window.countdownTexts.push(element.textContent));
  new MutationObserver(record).observe(document.body,
    {subtree: true, childList: true, characterData: true});
}"""


def test_countdown_reads_m_ss_across_every_swap(new_page, live_server):
    poll = _start_live_vote()
    screen = new_page(width=1280, height=720, timezone_id="Asia/Singapore", locale="en-SG")
    sign_in(screen, "organizer@example.com")
    screen.goto(f"{CLUB}polls/{poll.pk}/live/")
    phone = new_page(width=390, height=844, phone=True, timezone_id="Europe/Berlin")
    sign_in(phone, "member@example.com")
    phone.goto(f"/v/{poll.live_code}/")
    for page in (screen, phone):
        assert re.fullmatch(r"\d+:\d\d", page.locator("[data-countdown-to]").inner_text())
        page.evaluate(COUNTDOWN_TEXTS)

    for count, email in enumerate(("priya@example.com", "yuki@example.com"), start=1):
        _vote(poll, email)
        expect(screen.locator(".live-bars .bar-row").first).to_contain_text(f"{count} vote")
        expect(phone.locator("#live-state .bar-row").first).to_contain_text(f"{count} vote")

    for page in (screen, phone):
        texts = page.evaluate("window.countdownTexts")
        assert texts and all(re.fullmatch(r"\d+:\d\d", text) for text in texts), texts


def test_ballot_after_back_and_forward_shows_the_vote_cast(new_page, live_server):
    poll = _start_live_vote()
    phone = new_page(width=390, height=844, phone=True, timezone_id="America/Los_Angeles")
    sign_in(phone, "member@example.com")
    phone.goto(f"/v/{poll.live_code}/")
    expect(phone.locator("#choices-heading")).to_have_text("Your votes: 3 of 3 left")
    phone.locator(".live-choice").first.click()
    expect(phone.locator("#choices-heading")).to_have_text("Your votes: 2 of 3 left")

    phone.get_by_role("link", name="Asia Paper Club").first.click()
    phone.wait_for_url(f"**{CLUB}")
    phone.go_back()
    expect(phone.locator("#choices-heading")).to_have_text("Your votes: 2 of 3 left")
    expect(phone.locator(".live-choice.chosen")).to_have_count(1)
    phone.go_forward()
    phone.go_back()

    expect(phone.locator("#choices-heading")).to_have_text("Your votes: 2 of 3 left")
    expect(phone.locator(".live-choice.chosen")).to_have_count(1)


def _zero(poll: Poll) -> None:
    Poll.objects.filter(pk=poll.pk).update(
        # The opening moves back too: a poll opened within the last second would otherwise
        # close before it opened, which the database refuses.
        opened_at=timezone.now() - dt.timedelta(minutes=5),
        closes_at=timezone.now() - dt.timedelta(seconds=1),
    )
    live.bump_state(poll.pk)  # cached fragments hold the closing time that was moved


def _inside(page, selector: str) -> list[str]:
    """The elements matching `selector` that stick out of the viewport."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)].filter((element) => {
          const box = element.getBoundingClientRect();
          return box.top < 0 || box.left < 0 || box.bottom > innerHeight || box.right > innerWidth;
        }).map((element) => element.textContent.trim())""",
        selector,
    )


def test_closed_screen_with_a_tie_fits_1280_by_720(new_page, live_server):
    poll = _start_live_vote(candidates=4)
    screen = new_page(width=1280, height=720, timezone_id="Asia/Singapore", locale="en-SG")
    sign_in(screen, "organizer@example.com")
    screen.goto(f"{CLUB}polls/{poll.pk}/live/")
    expect(screen.locator(".live-qr")).to_be_visible()
    _vote(poll, "priya@example.com", index=0)
    _vote(poll, "yuki@example.com", index=1)

    _zero(poll)

    expect(screen.locator(".live-winner")).to_contain_text("Winner", timeout=5000)
    expect(screen.locator(".live-tie")).to_have_text(re.compile(r"^Tied on 1 vote\b"))
    expect(screen.locator(".live-scheduled")).to_contain_text("Scheduled for")
    for gone in (".live-qr", ".live-link", ".live-rule", "[data-countdown-to]"):
        expect(screen.locator(gone)).to_have_count(0)
    expect(screen.locator(".live-bars .bar-row")).to_have_count(4)
    screenshot(screen, "live-vote-screen-tie")
    assert _inside(screen, ".live-bars .bar-row, .live-winner, .live-tie, .live-scheduled") == []
    assert screen.evaluate("document.documentElement.scrollHeight <= innerHeight")
    assert _smallest_title(screen) >= 32

    screen.reload()  # the page as it loads after the close: the same
    expect(screen.locator(".live-qr")).to_have_count(0)
    assert _inside(screen, ".live-bars .bar-row, .live-winner, .live-tie, .live-scheduled") == []


def _smallest_title(page) -> float:
    return page.evaluate(
        """() => Math.min(...[...document.querySelectorAll('.live-bars .bar-label')]
          .map((label) => parseFloat(getComputedStyle(label).fontSize)))"""
    )


def test_screen_during_the_vote_reads_across_a_room(new_page, live_server):
    poll = _start_live_vote(candidates=4)
    screen = new_page(width=1280, height=720, timezone_id="Asia/Singapore", locale="en-SG")
    sign_in(screen, "organizer@example.com")
    screen.goto(f"{CLUB}polls/{poll.pk}/live/")
    _vote(poll, "priya@example.com")
    expect(screen.locator(".live-bars .bar-row").first).to_contain_text("1 vote")
    screenshot(screen, "live-vote-screen-readable")

    assert _smallest_title(screen) >= 32
    assert _inside(screen, ".live-bars .bar-row, .live-countdown, .live-qr, .live-link") == []
    empty = screen.locator(".bar-row[data-count='0'] .bar-track").first
    assert empty.evaluate("track => getComputedStyle(track).borderTopWidth") == "0px"
    link = screen.locator(".live-link")
    assert link.evaluate("p => p.scrollWidth <= p.clientWidth")
    line = link.evaluate("p => parseFloat(getComputedStyle(p).lineHeight) || 1.5 * 19")
    assert link.bounding_box()["height"] < 1.5 * line  # one line, not broken mid-code
