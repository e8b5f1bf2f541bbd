"""The signed-in home page: next sessions, polls waiting for my vote, latest notes, and the
public clubs below, searchable and paginated."""

import datetime as dt
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from clubs.models import Club
from clubs.services import create_club, join_club
from papers.models import Poll
from papers.polls import open_poll, set_ranking
from papers.services import suggest_paper
from papers.votes import set_vote
from sessions.services import post_notes, questions_for, schedule_meeting, set_rsvp

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return " ".join(unescape(response.content.decode()).split())


def paper(club, who, n: int):
    return suggest_paper(
        club=club, suggested_by=who, link=f"2401.{n:05d}", title=f"Paper {n}", pitch="Why"
    )


def soon(days: int) -> dt.datetime:
    return timezone.now().replace(microsecond=0) + dt.timedelta(days=days)


def held(club, who, n: int, *, author) -> None:
    meeting = schedule_meeting(club=club, suggestions=[paper(club, who, n)], starts_at=soon(-3))
    post_notes(
        meeting=meeting,
        author=author,
        bodies=["Notes"] + [""] * (len(questions_for(meeting)) - 1),
        takeaways={},
    )


def test_home_lists_my_next_sessions_in_my_zone_with_my_rsvp(member_client, club, member):
    member.time_zone = "America/New_York"
    member.save()
    starts = dt.datetime(2030, 12, 4, 12, 0, tzinfo=dt.UTC)  # 20:00 in Singapore
    meeting = schedule_meeting(club=club, suggestions=[paper(club, member, 1)], starts_at=starts)
    set_rsvp(meeting=meeting, membership=club.memberships.get(user=member), answer="maybe")

    page = text(member_client.get("/"))

    assert "Asia Paper Club #1: Paper 1" in page
    assert (
        "Wed 4 Dec 2030, 07:00 EST (America/New York)</time> "
        '<span class="muted club-time">· 20:00 in the club\'s time (Asia/Singapore)' in page
    )
    assert 'aria-pressed="true" class="chosen">✓ Maybe</button>' in page
    assert reverse("meetings:rsvp", args=[club.slug, 1]) in page


def test_rsvp_from_home_answers_for_that_session(member_client, club, member):
    meeting = schedule_meeting(club=club, suggestions=[paper(club, member, 1)], starts_at=soon(2))

    response = member_client.post(
        reverse("meetings:rsvp", args=[club.slug, meeting.number]), {"answer": "going"}
    )

    assert response.status_code == 302
    assert member_client.get("/").context["next_sessions"][0].my_rsvp == "going"


def test_home_lists_only_open_polls_i_have_not_voted_in(
    member_client, club, organizer, member, django_user_model
):
    other = create_club(creator=organizer, name="Other", slug="other")  # not my club
    open_poll(club=other, opened_by=organizer)
    voted_club = create_club(creator=organizer, name="Voted", slug="voted")
    join_club(club=voted_club, user=member)
    voted = open_poll(club=voted_club, opened_by=organizer)
    set_vote(
        poll=voted,
        membership=voted_club.memberships.get(user=member),
        suggestion=paper(voted_club, organizer, 9),
        approve=True,
    )
    ranked_club = create_club(creator=organizer, name="Ranked", slug="ranked")
    join_club(club=ranked_club, user=member)
    ranked_paper = paper(ranked_club, organizer, 8)
    ranked = open_poll(club=ranked_club, opened_by=organizer, method=Poll.Method.IRV)
    set_ranking(
        poll=ranked, membership=ranked_club.memberships.get(user=member), order=[ranked_paper.pk]
    )
    closed_club = create_club(creator=organizer, name="Past", slug="past")
    join_club(club=closed_club, user=member)
    Poll.objects.create(  # its closing time has passed; no job has closed it yet
        club=closed_club, opened_by=organizer, opened_at=soon(-3), closes_at=soon(-1)
    )
    waiting = open_poll(club=club, opened_by=organizer, closes_at=soon(3))

    response = member_client.get("/")

    assert response.context["open_polls"] == [waiting]
    assert f'href="{club.get_absolute_url()}#ballot"' in response.content.decode()
    assert "Vote in Asia Paper Club" in text(response)


def test_home_lists_the_latest_notes_of_my_clubs_only(member_client, club, organizer, member):
    held(club, member, 1, author=organizer)
    other = create_club(creator=organizer, name="Other", slug="other")
    held(other, organizer, 2, author=organizer)

    response = member_client.get("/")

    assert [m.club.slug for m in response.context["latest_notes"]] == ["asia"]
    assert "Asia Paper Club #1: Paper 1" in text(response)


def test_home_for_anonymous_keeps_the_pitch_and_the_public_clubs(client, club, private_club):
    page = text(client.get("/"))

    assert "Read one paper a week, together." in page
    assert "Asia Paper Club" in page
    assert "Secret Club" not in page
    assert "Your next sessions" not in page


def test_home_for_an_outsider_shows_nothing_of_private_clubs(
    client, private_club, organizer, outsider
):
    open_poll(club=private_club, opened_by=organizer)
    held(private_club, organizer, 1, author=organizer)
    client.force_login(outsider)

    response = client.get("/")

    assert (response.context["open_polls"], response.context["latest_notes"]) == ([], [])
    assert "Secret Club" not in text(response)


def test_public_clubs_are_searchable_by_name_and_paginated(client, organizer):
    for i in range(14):
        create_club(creator=organizer, name=f"Vision {i:02d}", slug=f"vision-{i}")
    create_club(creator=organizer, name="Language Models", slug="lm")

    first = client.get("/", {"q": "  vision "})
    second = client.get("/", {"q": "vision", "page": "2"})
    none = client.get("/", {"q": "robotics"})

    assert len(first.context["public_clubs"]) == 12
    assert "Page 1 of 2" in text(first)
    assert 'href="?q=vision&amp;page=2"' in first.content.decode()
    assert [c.name for c in second.context["public_clubs"]] == ["Vision 12", "Vision 13"]
    assert "No public club has “robotics” in its name." in text(none)


def test_club_search_answers_htmx_with_the_list_only(client, club):
    response = client.get(
        "/", {"q": "asia"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="public-club-list"
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="public-club-list">')
    assert "Asia Paper Club" in html
    assert "<html" not in html


def test_home_queries_do_not_grow_with_clubs_sessions_polls_and_notes(
    member_client, club, organizer, member, same_queries
):
    schedule_meeting(club=club, suggestions=[paper(club, member, 1)], starts_at=soon(2))
    open_poll(club=club, opened_by=organizer)
    held(club, member, 2, author=organizer)
    create_club(creator=organizer, name="Public", slug="public")

    def grow():
        for i in range(6):
            more = create_club(creator=organizer, name=f"More {i}", slug=f"more-{i}")
            join_club(club=more, user=member)
            schedule_meeting(
                club=more, suggestions=[paper(more, organizer, 10 + i)], starts_at=soon(1 + i)
            )
            open_poll(club=more, opened_by=organizer, closes_at=soon(4))
            held(more, organizer, 20 + i, author=organizer)
            create_club(creator=organizer, name=f"Public {i}", slug=f"public-{i}")

    count = same_queries(lambda: member_client.get("/"), grow)

    assert count == 10
    assert Club.objects.of_member(member).count() == 7
