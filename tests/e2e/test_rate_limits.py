"""A member who votes faster than the limit sees why, in place, and the page stays as it was."""

import re

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from clubs.services import create_club, join_club
from papers.polls import open_poll
from papers.services import suggest_paper
from tests.e2e.conftest import PASSWORD
from tests.e2e.test_weekly_loop import assert_not_reloaded, candidate, mark_page

pytestmark = pytest.mark.django_db(transaction=True)


def test_vote_over_the_limit_shows_the_message_in_place(
    new_page, live_server, django_user_model, settings
):
    settings.RATE_LIMITS = {"vote": "1/m/user,100/m/ip"}
    organizer = django_user_model.objects.create_user(email="olive@example.com", password=PASSWORD)
    member = django_user_model.objects.create_user(email="max@example.com", password=PASSWORD)
    EmailAddress.objects.create(user=member, email=member.email, verified=True, primary=True)
    club = create_club(creator=organizer, name="Asia Paper Club", slug="asia")
    join_club(club=club, user=member)
    suggest_paper(club=club, suggested_by=organizer, link="2106.09685", title="LoRA", pitch="p")
    open_poll(club=club, opened_by=organizer)
    page = new_page()
    page.goto("/accounts/login/?next=/c/asia/")
    page.get_by_label("Email").fill(member.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/c/asia/")
    mark_page(page)

    candidate(page, "LoRA").get_by_role("button", name="Vote for LoRA").click()
    remove = candidate(page, "LoRA").get_by_role("button", name=re.compile("Remove your vote"))
    expect(remove).to_be_visible()
    remove.click()

    message = candidate(page, "LoRA").locator(".row-message")  # beside the button clicked
    expect(message).to_contain_text("Too many votes in a short time.")
    expect(message).to_contain_text(re.compile(r"Try again in \d+ seconds"))
    expect(message).to_be_in_viewport()
    expect(remove).to_be_visible()  # the vote stands: nothing was written
    assert_not_reloaded(page)
