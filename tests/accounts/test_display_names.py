"""No page, feed or email shows a name made from someone's email address."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from clubs.services import join_club
from papers.polls import open_poll
from papers.services import suggest_paper
from papers.votes import set_vote
from sessions.services import post_notes, questions_for, schedule_meeting, set_rsvp
from sessions.tasks import send_notes_posted

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("display_name", "shown"),
    [
        ("Bob Lee", "Bob Lee"),
        ("  Bob   Lee ", "Bob Lee"),
        ("", "Member #{pk}"),
        ("bob.1201", "Member #{pk}"),  # what sign-up used to fill in
        ("BOB.1201", "Member #{pk}"),
        ("   ", "Member #{pk}"),
    ],
)
def test_name_is_never_made_from_the_email(django_user_model, display_name, shown):
    user = django_user_model.objects.create_user(
        email="bob.1201@example.com", display_name=display_name
    )

    assert user.name == shown.format(pk=user.pk)
    assert str(user) == user.name


@pytest.fixture
def bob(django_user_model, club):
    """An account from before sign-up asked for a name: its display name is its email's."""
    bob = django_user_model.objects.create_user(
        email="bob.1201@example.com", password="a-strong-test-password", display_name="bob.1201"
    )
    membership = join_club(club=club, user=bob)
    read, later, open_ = (
        suggest_paper(club=club, suggested_by=bob, link=link, title=title, pitch="Read it")
        for link, title in [("2305.18290", "DPO"), ("2106.09685", "LoRA"), ("1706.03762", "T")]
    )
    held = schedule_meeting(
        club=club, suggestions=[read], starts_at=timezone.now() - dt.timedelta(hours=2)
    )
    post_notes(
        meeting=held,
        author=bob,
        bodies=["Notes"] + [""] * (len(questions_for(held)) - 1),
        takeaways={},
    )
    upcoming = schedule_meeting(
        club=club, suggestions=[later], starts_at=timezone.now() + dt.timedelta(days=2)
    )
    set_rsvp(meeting=upcoming, membership=membership, answer="going")
    poll = open_poll(club=club, opened_by=bob)
    set_vote(poll=poll, membership=membership, suggestion=open_, approve=True)
    return bob


PAGES = {
    "club": lambda club: reverse("clubs:detail", args=[club.slug]),
    "session": lambda club: reverse("meetings:detail", args=[club.slug, 1]),
    "next session": lambda club: reverse("meetings:detail", args=[club.slug, 2]),
    "timeline": lambda club: reverse("meetings:timeline", args=[club.slug]),
    "poll": lambda club: reverse("papers:poll", args=[club.slug, club.polls.get().pk]),
    "members": lambda club: reverse("clubs:members", args=[club.slug]),
    "notes feed": lambda club: reverse("meetings:notes_feed", args=[club.slug]),
}


@pytest.mark.parametrize("viewer", ["organizer", "member", "outsider", "anonymous"])
@pytest.mark.parametrize("page", PAGES)
def test_others_see_a_neutral_name(client, request, club, bob, viewer, page):
    if viewer != "anonymous":
        client.force_login(request.getfixturevalue(viewer))

    response = client.get(PAGES[page](club))

    html = response.content.decode()
    assert "bob.1201" not in html
    shows_people = {"club", "session", "poll"} | (
        {"members", "next session"} if viewer in ("organizer", "member") else set()
    )
    if page in shows_people:
        assert f"Member #{bob.pk}" in html


def test_duplicate_message_and_emails_use_the_neutral_name(member_client, club, bob, member):
    response = member_client.post(
        reverse("papers:suggest", args=[club.slug]),
        {"link": "https://arxiv.org/abs/1706.03762", "title": "T", "pitch": "Again"},
    )
    mail.outbox.clear()
    send_notes_posted.call(club.meetings.get(number=1).pk)

    assert f"Already suggested by Member #{bob.pk} on" in response.content.decode()
    assert all("bob.1201" not in m.body for m in mail.outbox)


def test_the_owner_is_told_how_others_see_them(client, club, bob):
    client.force_login(bob)

    html = client.get("/").content.decode()

    assert f"Other members see you as “Member #{bob.pk}”" in html
    assert reverse("profile") in html


def test_choosing_a_name_shows_it_to_everyone(client, club, bob):
    client.force_login(bob)
    client.post(reverse("profile"), {"display_name": "Bob Lee", "time_zone": "UTC"})
    client.logout()

    assert (
        "Suggested by Bob Lee"
        in client.get(reverse("clubs:detail", args=[club.slug])).content.decode()
    )


def test_profile_refuses_the_emails_local_part_as_name(client, club, bob):
    client.force_login(bob)

    response = client.post(reverse("profile"), {"display_name": "Bob.1201", "time_zone": "UTC"})

    assert response.status_code == 422
    bob.refresh_from_db()
    assert bob.display_name == "bob.1201"
