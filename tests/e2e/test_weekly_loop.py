"""The whole weekly loop, as three people and an anonymous visitor would walk it."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, sign_up

pytestmark = pytest.mark.django_db(transaction=True)


def create_club(page) -> str:
    page.goto("/clubs/new/")
    page.get_by_label("Name:", exact=True).fill("Asia Paper Club")
    page.get_by_label("Time zone:").select_option("Asia/Singapore")
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


def test_weekly_loop_end_to_end(new_page, live_server):
    organizer = new_page()
    ana = new_page()
    ben = new_page(width=390, height=844)  # one of them is on a phone

    # The organizer signs up, creates a club and shares an invite link.
    sign_up(organizer, "olive@example.com")
    club_url = create_club(organizer)
    link = invite_link(organizer, club_url)
    assert "/join/" in link

    # A member joins through it and suggests two papers without a reload.
    sign_up(ana, "ana@example.com")
    join(ana, link)
    mark_page(ana)
    suggest(
        ana,
        "https://arxiv.org/abs/2305.18290v2",
        "Direct Preference Optimization",
        "RLHF without RL.",
    )
    suggest(ana, "2106.09685", "LoRA", "Cheap fine-tuning.")
    assert_not_reloaded(ana)
    expect(ana.locator("#suggest-form")).to_contain_text("“LoRA” is on the list.")

    # Suggesting the same paper again is refused as you type, with a link.
    ana.locator("#suggest-form").get_by_label("arXiv ID or link").fill("arxiv.org/pdf/2305.18290v1")
    expect(ana.locator("#link-feedback")).to_contain_text("Already suggested by ana")

    # A third person joins.
    sign_up(ben, "ben@example.com")
    join(ben, link)

    # The organizer opens a poll with one vote per member.
    organizer.goto(club_url + "polls/new/")
    organizer.get_by_label("Votes per member:").fill("1")
    organizer.get_by_role("button", name="Open the poll").click()
    expect(organizer.get_by_role("heading", name="What do we read next?")).to_be_visible()

    # Both members vote, one changes the vote; "votes left" follows without a reload.
    ana.goto(club_url)
    mark_page(ana)
    expect(ana.locator("#ballot-status")).to_contain_text("You have not voted yet")
    candidate(ana, "LoRA").get_by_role("button", name="Vote for LoRA").click()
    expect(
        candidate(ana, "LoRA").get_by_role("button", name=re.compile("Remove your vote"))
    ).to_be_visible()
    expect(ana.locator("#ballot-status")).to_contain_text("0 votes left")
    candidate(ana, "LoRA").get_by_role("button", name=re.compile("Remove your vote")).click()
    expect(ana.locator("#ballot-status")).to_contain_text("1 vote left")
    candidate(ana, "Direct Preference").get_by_role("button", name=re.compile("^Vote for")).click()
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

    # The organizer closes the poll: the result page and the next session show the winner.
    organizer.goto(club_url)
    organizer.get_by_role("button", name="Close the poll").click()
    expect(organizer.get_by_role("heading", name="Poll result")).to_be_visible()
    expect(organizer.locator("body")).to_contain_text("“Direct Preference Optimization” won")
    expect(organizer.locator("table")).to_contain_text("2")
    screenshot(organizer, "walk-poll-result")
    organizer.goto(club_url)
    next_session = organizer.locator(
        "section", has=organizer.get_by_role("heading", name="Next session")
    )
    expect(next_session).to_contain_text("#1: Direct Preference Optimization")

    # The organizer posts the notes under the three questions, with a preview first.
    next_session.get_by_role("link", name=re.compile("Direct Preference")).click()
    organizer.get_by_role("link", name="Write the notes").click()
    organizer.get_by_label("Big Idea", exact=True).fill("The policy **is** the reward model.")
    organizer.get_by_label("Relevance", exact=True).fill("Most open models train with it.")
    organizer.get_by_label("Open Questions", exact=True).fill(
        "- Does it overfit?\n- <script>alert(1)</script>"
    )
    organizer.get_by_label(re.compile("One-line takeaway")).fill(
        "Your LM is secretly a reward model."
    )
    organizer.get_by_role("button", name="Preview").click()
    expect(organizer.locator("#preview strong")).to_have_text("is")
    organizer.get_by_role("button", name="Post the notes").click()
    expect(organizer.get_by_text("The notes are posted.")).to_be_visible()
    session_url = organizer.url

    # An anonymous visitor reads them on the public club.
    anonymous = new_page()
    anonymous.goto(session_url)
    expect(anonymous.get_by_role("heading", name="Big Idea")).to_be_visible()
    expect(anonymous.locator(".prose").first).to_contain_text("The policy is the reward model.")
    expect(anonymous.locator(".status")).to_have_text("Held")
    anonymous.goto(club_url + "sessions/")
    expect(anonymous.locator(".takeaway")).to_have_text("Your LM is secretly a reward model.")
    screenshot(anonymous, "walk-session-notes")
