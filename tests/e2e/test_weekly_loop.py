"""The whole weekly loop, as three members in three time zones and an anonymous reader in a
fourth would walk it. Each person is a browser context with its own zone and language: the
app learns them only the way it does from real browsers."""

import datetime as dt
import re
import zoneinfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from papers.models import Poll
from sessions.models import Meeting
from tests.e2e.conftest import run_axe, screenshot, sign_up

pytestmark = pytest.mark.django_db(transaction=True)

CLUB_ZONE = "Asia/Singapore"


def zone_name(key: str) -> str:
    return key.replace("_", " ")


def create_club(page) -> str:
    page.goto("/clubs/new/")
    # The creator's browser said Singapore: the form starts there instead of in UTC.
    expect(page.get_by_label("Time zone:")).to_have_value(CLUB_ZONE)
    page.get_by_label("Name:", exact=True).fill("Asia Paper Club")
    page.get_by_label("Where you meet:").fill("Discord voice")
    page.get_by_label("By invite link only").check()
    page.get_by_role("button", name="Create the club").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Asia Paper Club")
    return page.url


def invite_link(page, club_url: str) -> str:
    page.goto(club_url + "members/")
    page.get_by_role("button", name="Create an invite link").click()
    expect(page.get_by_text("New invite link:")).to_be_visible()
    return page.get_by_role("textbox", name="Invite link", exact=True).first.input_value()


def join(page, link: str) -> None:
    page.goto(link)
    page.get_by_role("button", name=re.compile("^Join")).click()
    expect(page.get_by_text("Welcome to Asia Paper Club!")).to_be_visible()


def suggest(page, link: str, title: str, pitch: str) -> None:
    form = page.locator("#suggest-form")
    form.get_by_label("arXiv ID or link").fill(link)
    form.get_by_label("Title").fill(title)
    form.get_by_label("Why read this?").fill(pitch)
    form.get_by_role("button", name="Suggest").click()
    expect(page.locator("#suggestions")).to_contain_text(title)


def mark_page(page) -> None:
    """Tag the loaded document, so a later check can tell a reload (the tag is gone)."""
    page.evaluate("document.body.dataset.loaded = 'once'")


def assert_not_reloaded(page) -> None:
    assert page.evaluate("document.body.dataset.loaded") == "once"


def candidate(page, title: str):
    return page.locator("li.suggestion", has_text=title)


def clock(moment: dt.datetime, zone: str) -> str:
    """ "Wed 2 Dec 2026, 20:00", written independently of the app's helper."""
    local = moment.astimezone(zoneinfo.ZoneInfo(zone))
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"


def expect_moment(where, moment: dt.datetime, zone: str) -> None:
    """`where` shows `moment` in `zone`, named, and the club's own time beside it."""
    expect(where).to_contain_text(clock(moment, zone))
    expect(where).to_contain_text(f"({zone_name(zone)})")
    club = moment.astimezone(zoneinfo.ZoneInfo(CLUB_ZONE))
    if zone != CLUB_ZONE:
        expect(where.locator(".club-time").first).to_contain_text(
            f"{club:%H:%M} in the club's time ({zone_name(CLUB_ZONE)})"
        )


def times_shown(page) -> list[str]:
    return page.locator("time").all_inner_texts()


def times_and_club_times(page) -> list[str]:
    return page.locator("time, .club-time").all_inner_texts()


def assert_every_time_in(page, zone: str) -> None:
    """Every date and time on the page is in the viewer's zone and says so; where the club
    keeps another clock, each one has the club's beside it."""
    shown = times_shown(page)
    assert shown, f"no time shown on {page.url}"
    assert [t for t in shown if f"({zone_name(zone)})" not in t] == [], page.url
    if zone != CLUB_ZONE:
        beside = page.locator(".club-time").all_inner_texts()
        assert all(f"({zone_name(CLUB_ZONE)})" in t for t in beside), page.url


def test_weekly_loop_in_four_time_zones(new_page, live_server):
    olive = new_page(timezone_id="Asia/Singapore", locale="en-SG")
    ana = new_page(
        width=390, height=844, timezone_id="America/New_York", locale="en-US", phone=True
    )
    ben = new_page(timezone_id="Europe/Berlin", locale="de-DE")
    zones = {olive: "Asia/Singapore", ana: "America/New_York", ben: "Europe/Berlin"}
    pages_checked: dict[str, list] = {}

    def check(page, name: str) -> None:
        pages_checked[name] = run_axe(page)

    # Everyone signs up through the real form, with a display name; each account starts in
    # the zone its browser reported.
    for page, email, name in [
        (olive, "olive@example.com", "Olive Tan"),
        (ana, "ana.7@example.com", "Ana Lima"),
        (ben, "ben@example.com", "Ben Vogel"),
    ]:
        sign_up(page, email, name)
    assert dict(User.objects.values_list("display_name", "time_zone")) == {
        "Olive Tan": "Asia/Singapore",
        "Ana Lima": "America/New_York",
        "Ben Vogel": "Europe/Berlin",
    }
    ana.goto("/")
    expect(ana.get_by_role("heading", name="Your next sessions")).to_be_visible()
    check(ana, "home, new member (phone)")

    # The organizer creates a club in her zone and shares an invite link; both join.
    club_url = create_club(olive)
    link = invite_link(olive, club_url)
    join(ana, link)
    join(ben, link)

    # Ana suggests two papers from her phone without a reload.
    ana.goto(club_url)
    mark_page(ana)
    suggest(
        ana, "https://arxiv.org/abs/2305.18290v2", "Direct Preference Optimization", "RLHF w/o RL."
    )
    suggest(ana, "2106.09685", "LoRA", "Cheap fine-tuning.")
    assert_not_reloaded(ana)
    # The list and the refusal of a duplicate give the same day, in her zone, by name.
    suggested = timezone.localtime(
        User.objects.get(display_name="Ana Lima").suggestions.earliest("created_at").created_at,
        zoneinfo.ZoneInfo("America/New_York"),
    )
    day = f"{suggested.day} {suggested:%b %Y} (America/New York)"
    expect(candidate(ana, "LoRA")).to_contain_text(f"Suggested by Ana Lima, {day}")
    ana.locator("#suggest-form").get_by_label("arXiv ID or link").fill("arxiv.org/pdf/2305.18290v1")
    expect(ana.locator("#link-feedback")).to_contain_text(f"Already suggested by Ana Lima on {day}")
    assert_every_time_in(ana, "America/New_York")

    # The organizer opens a poll, closing in three days at 21:00 club time.
    closes_local = timezone.now().astimezone(zoneinfo.ZoneInfo(CLUB_ZONE)) + dt.timedelta(days=3)
    closes_local = closes_local.replace(hour=21, minute=0, second=0, microsecond=0)
    olive.goto(club_url + "polls/new/")
    olive.get_by_label("Votes per member:").fill("1")
    olive.locator("#id_closes_at").fill(closes_local.strftime("%Y-%m-%dT%H:%M"))
    olive.get_by_role("button", name="Open the poll").click()
    expect(olive.get_by_role("heading", name="What do we read next?")).to_be_visible()
    closes = Poll.objects.get().closes_at
    assert closes == closes_local

    # Each member's home lists the poll they have not voted in, closing in their own time.
    for page in (ana, ben):
        page.goto("/")
        polls = page.locator("section", has=page.get_by_role("heading", name="Polls waiting"))
        expect(polls.get_by_role("link", name="Vote in Asia Paper Club")).to_be_visible()
        expect_moment(polls, closes, zones[page])
        assert_every_time_in(page, zones[page])
    check(ben, "home, poll waiting")

    # Ana votes with her thumb, changes her mind; "votes left" follows without a reload.
    ana.get_by_role("link", name="Vote in Asia Paper Club").tap()
    ana.wait_for_url(club_url + "#ballot")
    mark_page(ana)
    expect(ana.locator("#ballot-status")).to_contain_text("You have not voted yet")
    expect_moment(ana.locator("p", has_text="Voting closes"), closes, "America/New_York")
    candidate(ana, "LoRA").get_by_role("button", name="Vote for LoRA").tap()
    remove = candidate(ana, "LoRA").get_by_role("button", name=re.compile("Remove your vote"))
    expect(remove).to_be_visible()
    expect(ana.locator("#ballot-status")).to_contain_text("0 votes left")
    remove.tap()
    expect(ana.locator("#ballot-status")).to_contain_text("1 vote left")
    candidate(ana, "Direct Preference").get_by_role("button", name=re.compile("^Vote for")).tap()
    expect(ana.locator("#ballot-status")).to_contain_text("You have voted")
    assert_not_reloaded(ana)

    ben.goto(club_url)
    candidate(ben, "Direct Preference").get_by_role("button", name=re.compile("^Vote for")).click()
    expect(ben.locator("#ballot-status")).to_contain_text("0 votes left")
    # Past the budget: refused, with the reason beside the button, and nothing changes.
    candidate(ben, "LoRA").get_by_role("button", name="Vote for LoRA").click()
    expect(candidate(ben, "LoRA").get_by_role("alert")).to_contain_text(
        "You have used all 1 of your votes"
    )
    expect(candidate(ben, "LoRA").get_by_role("button", name="Vote for LoRA")).to_be_visible()
    ben.goto("/")
    expect(ben.locator("#open-polls + p")).to_contain_text("you have voted in every open poll")

    # The organizer closes the poll: the winner becomes session #1 at the club's slot.
    olive.goto(club_url)
    olive.get_by_role("button", name="Close the poll").click()
    expect(olive.get_by_role("heading", name="Poll result")).to_be_visible()
    expect(olive.locator("body")).to_contain_text("“Direct Preference Optimization” won")
    assert_every_time_in(olive, CLUB_ZONE)
    check(olive, "poll result")
    starts = Meeting.objects.get().starts_at

    # Each member's home lists the session in their zone with the club's time, and an RSVP.
    for page in (olive, ana, ben):
        page.goto("/")
        sessions = page.locator(".dashboard-session", has_text="Asia Paper Club #1")
        expect(sessions).to_contain_text("Direct Preference Optimization")
        expect_moment(sessions, starts, zones[page])
        expect(sessions).to_contain_text("Are you coming?")
        assert_every_time_in(page, zones[page])
    screenshot(olive, "home-dashboard-1280")
    screenshot(ana, "home-dashboard-390")
    check(olive, "home, next session")
    check(ana, "home, next session (phone)")

    # Ana answers from her home page and lands on the session, in her time.
    ana.locator(".dashboard-session").get_by_role("button", name="Going", exact=True).tap()
    expect(ana.locator("#rsvp").get_by_role("button", name="✓ Going")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect_moment(ana.locator("dd", has_text="min").first, starts, "America/New_York")
    assert_every_time_in(ana, "America/New_York")
    check(ana, "session (phone)")
    ana.goto("/")
    expect(ana.locator(".dashboard-session")).to_contain_text("You answered:")
    expect(ana.locator(".dashboard-session").get_by_role("button", name="✓ Going")).to_be_visible()
    ben.goto(club_url)
    next_session = ben.locator("section", has=ben.get_by_role("heading", name="Next session"))
    expect(next_session).to_contain_text("#1: Direct Preference Optimization")
    expect_moment(next_session, starts, "Europe/Berlin")
    assert_every_time_in(ben, "Europe/Berlin")

    # The week passes and the session takes place; the organizer posts the notes.
    held_at = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(hours=2)
    Meeting.objects.update(starts_at=held_at)
    olive.goto(club_url + "sessions/1/")
    olive.get_by_role("link", name="Write the notes").click()
    olive.get_by_label("Big Idea", exact=True).fill("The policy **is** the reward model.")
    olive.get_by_label("Relevance", exact=True).fill("Most open models train with it.")
    olive.get_by_label("Open Questions", exact=True).fill(
        "- Does it overfit?\n- <script>alert(1)</script>"
    )
    olive.get_by_label(re.compile("One-line takeaway")).fill("Your LM is secretly a reward model.")
    olive.get_by_role("button", name="Preview").click()
    expect(olive.locator("#preview strong")).to_have_text("is")
    # The session has started, so the notes publish at once.
    olive.get_by_role("button", name="Publish").click()
    expect(olive.get_by_text("The notes are published.")).to_be_visible()
    session_url = olive.url
    posted = Meeting.objects.get().notes_posted_at

    # Ben finds them on his home page.
    ben.goto("/")
    notes = ben.locator("section", has=ben.get_by_role("heading", name="Latest notes"))
    expect(notes.get_by_role("link", name=re.compile("Asia Paper Club #1"))).to_be_visible()
    assert_every_time_in(ben, "Europe/Berlin")

    # An anonymous reader in Los Angeles reads them, every time in her own zone.
    reader = new_page(timezone_id="America/Los_Angeles", locale="en-US")
    reader.goto("/")  # the first page tells the app her zone
    reader.goto(session_url)
    expect(reader.get_by_role("heading", name="Big Idea")).to_be_visible()
    expect(reader.locator(".prose").first).to_contain_text("The policy is the reward model.")
    expect(reader.locator(".status")).to_have_text("Held")
    expect_moment(reader.locator("dd", has_text="min").first, held_at, "America/Los_Angeles")
    local_posted = posted.astimezone(zoneinfo.ZoneInfo("America/Los_Angeles"))
    posted_line = reader.locator("p", has_text="Posted")
    expect(posted_line).to_contain_text(
        f"Posted {local_posted.day} {local_posted:%b %Y} (America/Los Angeles)"
    )
    expect(posted_line).to_contain_text("by Olive Tan")
    assert_every_time_in(reader, "America/Los_Angeles")
    check(reader, "session notes (anonymous)")
    reader.goto(club_url + "sessions/")
    expect(reader.locator(".takeaway")).to_have_text("Your LM is secretly a reward model.")
    assert_every_time_in(reader, "America/Los_Angeles")
    reader.goto(club_url)
    assert_every_time_in(reader, "America/Los_Angeles")
    expect(reader.locator("body")).not_to_contain_text("ana.7")
    check(reader, "club (anonymous)")
    screenshot(reader, "walk-session-notes")

    assert {name: found for name, found in pages_checked.items() if found} == {}


def test_an_anonymous_reader_sees_times_in_the_zone_their_browser_reports(new_page, live_server):
    from clubs.services import create_club
    from papers.services import suggest_paper
    from sessions.services import schedule_meeting

    olive = User.objects.create_user(email="olive@example.com", display_name="Olive Tan")
    club = create_club(creator=olive, name="Berlin", slug="berlin", time_zone="Europe/Berlin")
    paper = suggest_paper(club=club, suggested_by=olive, link="1706.03762", title="A", pitch="p")
    # Thursday 29 Oct 2030, 19:00 in Berlin.
    starts = dt.datetime(2030, 10, 29, 18, 0, tzinfo=dt.UTC)
    schedule_meeting(club=club, suggestions=[paper], starts_at=starts)

    tokyo = new_page(timezone_id="Asia/Tokyo", locale="ja-JP")
    # The very first page, before the server knows her zone: the browser rewrites the
    # club's times in hers (the browser has no letters for Tokyo's abbreviation).
    tokyo.goto(club.get_absolute_url())
    assert "Wed 30 Oct 2030, 03:00 (Asia/Tokyo)" in times_shown(tokyo)
    assert not any("(Europe/Berlin)" in t for t in times_shown(tokyo))
    expect(tokyo.locator(".club-time").first).to_contain_text(
        "Tue 29 Oct, 19:00 in the club's time (Europe/Berlin)"
    )
    tokyo.reload()

    assert "Wed 30 Oct 2030, 03:00 JST (Asia/Tokyo)" in times_shown(tokyo)
    expect(tokyo.locator(".club-time").first).to_contain_text(
        "Tue 29 Oct, 19:00 in the club's time (Europe/Berlin)"
    )
    cookie = next(c for c in tokyo.context.cookies() if c["name"] == "tz")
    assert cookie["value"] == "Asia/Tokyo"


def test_a_shared_link_opened_first_shows_the_readers_own_time(new_page, live_server):
    """A link shared on Discord is often a reader's first page: her zone is not known to
    the server yet, and the page must still show her time, in the server's own words."""
    from clubs.services import create_club
    from papers.services import suggest_paper
    from sessions.services import schedule_meeting

    olive = User.objects.create_user(email="olive@example.com", display_name="Olive Tan")
    club = create_club(creator=olive, name="Asia", slug="asia", time_zone="Asia/Singapore")
    paper = suggest_paper(club=club, suggested_by=olive, link="1706.03762", title="A", pitch="p")
    # Wed 4 Dec 2030, 07:04 in Singapore; Tue 3 Dec, 15:04 in Los Angeles. Years ahead,
    # so that the session is still to come whenever the suite runs.
    starts = dt.datetime(2030, 12, 3, 23, 4, tzinfo=dt.UTC)
    meeting = schedule_meeting(club=club, suggestions=[paper], starts_at=starts)

    for url in [meeting.get_absolute_url(), club.get_absolute_url()]:
        reader = new_page(timezone_id="America/Los_Angeles", locale="en-US")
        reader.goto(url)  # her first page
        first = times_and_club_times(reader)
        assert "Tue 3 Dec 2030, 15:04 PST (America/Los Angeles)" in times_shown(reader)
        expect(reader.locator(".club-time").first).to_have_text(
            "· Wed 4 Dec, 07:04 in the club's time (Asia/Singapore)"
        )
        reader.reload()  # now the server knows her zone: the same words
        assert times_and_club_times(reader) == first, url
