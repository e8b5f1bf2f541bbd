"""Bad input gets a clear answer and changes nothing: no 500s."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clubs.services import create_club
from papers.models import Paper, Poll, Suggestion
from papers.polls import close_poll, open_poll
from papers.services import suggest_paper, withdraw_suggestion
from papers.votes import set_vote
from sessions.models import Meeting
from sessions.services import cancel_meeting, schedule_meeting

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}

BAD_LINKS = [
    "https://[::1",
    "https://example.com:99999/x",
    "https://x.com:8a/",
    "https://",
    "https://example.com/\x00",
    "https://example.com/?" + "q=é" * 120,
    "https://example.com/" + "a" * 600,
    "\u202ehttps://example.com",
]


@pytest.mark.parametrize("link", BAD_LINKS)
def test_malformed_links_are_refused_when_suggesting(member_client, club, link):
    response = member_client.post(
        reverse("papers:suggest", args=[club.slug]),
        {"link": link, "title": "T", "pitch": "p"},
        **HTMX,
    )

    assert response.status_code == 422
    assert (Paper.objects.count(), Suggestion.objects.count()) == (0, 0)


@pytest.mark.parametrize("link", BAD_LINKS)
def test_malformed_links_get_feedback_as_you_type(member_client, club, link):
    response = member_client.post(
        reverse("papers:suggest_check", args=[club.slug]), {"link": link}, **HTMX
    )

    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()


def test_doi_link_of_an_arxiv_paper_is_the_same_paper(club, member):
    suggest_paper(club=club, suggested_by=member, link="2305.18290", title="DPO", pitch="p")

    from papers.services import find_paper

    assert find_paper("https://doi.org/10.48550/arXiv.2305.18290") == Paper.objects.get()


@pytest.mark.parametrize("closes_at", ["9999-12-31T23:59", "0001-01-01T00:00", "1999-05-05T10:00"])
def test_poll_closing_dates_out_of_range_are_refused(organizer_client, organizer, closes_at):
    club = create_club(creator=organizer, name="LA", slug="la", time_zone="America/Los_Angeles")

    response = organizer_client.post(
        reverse("papers:poll_open", args=[club.slug]), {"closes_at": closes_at, "budget": "3"}
    )

    assert response.status_code == 422
    assert Poll.objects.count() == 0


def test_session_start_out_of_range_is_refused(organizer_client, organizer, member):
    club = create_club(creator=organizer, name="Tokyo", slug="tokyo", time_zone="Asia/Tokyo")
    paper = suggest_paper(
        club=club, suggested_by=organizer, link="1706.03762", title="A", pitch="p"
    )

    response = organizer_client.post(
        reverse("meetings:new", args=[club.slug]),
        {
            "suggestions": [paper.pk],
            "source": "organizer",
            "starts_at": "0001-01-01T00:00",
            "duration": "60",
        },
    )

    assert response.status_code == 422
    assert Meeting.objects.count() == 0


def test_taking_back_a_vote_on_a_withdrawn_paper_removes_its_row(
    member_client, club, organizer, member
):
    paper = suggest_paper(club=club, suggested_by=member, link="2401.00001", title="P", pitch="p")
    poll = open_poll(club=club, opened_by=organizer)
    withdraw_suggestion(suggestion=paper)

    response = member_client.post(
        reverse("papers:vote", args=[club.slug, poll.pk, paper.pk]), {"approve": "0"}, **HTMX
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "<li" not in body  # the row leaves; the votes left come out of band
    assert '<p id="ballot-status"' in body and 'hx-swap-oob="true"' in body
    assert "voteCast" in response["HX-Trigger"]


def test_htmx_post_with_stale_csrf_token_gets_a_message_not_a_page(club, member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)

    response = client.post(reverse("papers:suggest", args=[club.slug]), {"link": "x"}, **HTMX)

    assert response.status_code == 403
    assert response["HX-Retarget"] == "#messages"
    assert "out of date" in response.content.decode()
    assert "<html" not in response.content.decode()


def test_post_without_csrf_token_is_refused(club, member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)

    response = client.post(
        reverse("papers:suggest", args=[club.slug]),
        {"link": "2305.18290", "title": "T", "pitch": "p"},
    )

    assert response.status_code == 403
    assert Suggestion.objects.count() == 0


def test_anonymous_post_without_javascript_returns_to_the_page_after_sign_in(client, club):
    response = client.post(
        reverse("papers:suggest", args=[club.slug]), {}, HTTP_REFERER="http://testserver/c/asia/"
    )

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=http%3A//testserver/c/asia/"


def test_failed_suggestion_without_javascript_still_shows_the_whole_club_page(
    member_client, club, member
):
    paper = suggest_paper(
        club=club, suggested_by=member, link="2401.00001", title="Next", pitch="p"
    )
    schedule_meeting(club=club, suggestions=[paper])

    response = member_client.post(reverse("papers:suggest", args=[club.slug]), {"link": "nope"})

    assert response.status_code == 422
    assert "#1: Next" in " ".join(response.content.decode().split())


def test_duplicate_message_uses_the_clubs_calendar_day(organizer, member):
    from papers.services import DuplicateSuggestion
    from sessions.services import post_notes

    club = create_club(creator=organizer, name="LA", slug="la", time_zone="America/Los_Angeles")
    paper = suggest_paper(club=club, suggested_by=member, link="2401.00001", title="P", pitch="p")
    # Thursday 19:00 in Los Angeles is already Friday in UTC.
    meeting = schedule_meeting(
        club=club, suggestions=[paper], starts_at=dt.datetime(2026, 3, 6, 3, 0, tzinfo=dt.UTC)
    )
    post_notes(meeting=meeting, author=organizer, bodies=["n", "", ""], takeaways={})

    with pytest.raises(DuplicateSuggestion, match=r"on 5 Mar 2026 \(America/Los Angeles\)"):
        suggest_paper(club=club, suggested_by=organizer, link="2401.00001", pitch="again")


def test_duplicate_message_is_in_the_readers_zone_with_the_clubs_day_beside(organizer, member):
    import zoneinfo

    from paperclub.when import reset_viewer_zone, set_viewer_zone
    from papers.services import DuplicateSuggestion

    club = create_club(creator=organizer, name="LA", slug="la", time_zone="America/Los_Angeles")
    paper = suggest_paper(club=club, suggested_by=member, link="2401.00001", title="P", pitch="p")
    paper.created_at = dt.datetime(2026, 3, 6, 3, 0, tzinfo=dt.UTC)  # Thursday evening in LA
    paper.save()

    token = set_viewer_zone(zoneinfo.ZoneInfo("Asia/Singapore"))
    try:
        with pytest.raises(DuplicateSuggestion) as refused:
            suggest_paper(club=club, suggested_by=organizer, link="2401.00001", pitch="again")
    finally:
        reset_viewer_zone(token)

    assert refused.value.message == (
        "Already suggested by Max Member on 6 Mar 2026 (Asia/Singapore)"
        " · 5 Mar in the club's time (America/Los Angeles)."
    )


def test_members_cannot_write_the_clubs_takeaway(member_client, club, member):
    paper = suggest_paper(club=club, suggested_by=member, link="2401.00001", title="P", pitch="p")

    member_client.post(
        reverse("papers:suggestion_edit", args=[club.slug, paper.pk]),
        {"pitch": "new", "takeaway": "member's own line"},
    )

    paper.refresh_from_db()
    assert (paper.pitch, paper.takeaway) == ("new", "")


def test_organizer_closing_after_the_deadline_records_the_deadline(club, organizer, member):
    suggest_paper(club=club, suggested_by=member, link="2401.00001", title="P", pitch="p")
    poll = open_poll(club=club, opened_by=organizer)
    deadline = timezone.now() - dt.timedelta(hours=1)
    Poll.objects.filter(pk=poll.pk).update(
        opened_at=deadline - dt.timedelta(days=1), closes_at=deadline
    )

    poll = close_poll(poll=poll, closed_by=organizer)

    assert (poll.closed_at, poll.closed_by) == (deadline, None)


def test_override_after_the_session_was_cancelled_schedules_a_new_one(club, organizer, member):
    first = suggest_paper(club=club, suggested_by=member, link="2401.00001", title="A", pitch="p")
    second = suggest_paper(club=club, suggested_by=member, link="2401.00002", title="B", pitch="p")
    poll = open_poll(club=club, opened_by=organizer)
    set_vote(
        poll=poll, membership=club.memberships.get(user=member), suggestion=first, approve=True
    )
    close_poll(poll=poll, closed_by=organizer)
    cancel_meeting(meeting=Meeting.objects.get())

    from papers.polls import override_winner

    override_winner(poll=poll, suggestion=second, overridden_by=organizer, reason="A was cancelled")

    new = Meeting.objects.get(state="scheduled")
    assert (list(new.suggestions.all()), new.poll) == ([second], poll)


def test_time_that_happens_twice_in_club_zone_is_refused(organizer_client, organizer):
    club = create_club(creator=organizer, name="Berlin", slug="berlin", time_zone="Europe/Berlin")

    # 02:30 on 27 Oct 2030 happens twice in Berlin (clocks go back from 03:00 to 02:00).
    response = organizer_client.post(
        reverse("papers:poll_open", args=[club.slug]),
        {"closes_at": "2030-10-27T02:30", "budget": "3"},
    )

    assert response.status_code == 422
    assert "ambiguous" in response.content.decode()
    assert Poll.objects.count() == 0
