"""Calendars, feeds, RSVP, attendance and materials."""

import datetime as dt

import feedparser
import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from paperclub.errors import RuleViolation
from papers.services import suggest_paper
from sessions.feeds import event_uid
from sessions.models import Material, Meeting, Rsvp
from sessions.services import (
    cancel_meeting,
    mark_attendance,
    post_notes,
    schedule_meeting,
    set_materials,
    set_rsvp,
    update_meeting,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def meeting(club, member):
    paper = suggest_paper(
        club=club,
        suggested_by=member,
        link="1706.03762",
        title="Attention Is All You Need",
        pitch="p",
    )
    return schedule_meeting(
        club=club,
        suggestions=[paper],
        starts_at=dt.datetime(2030, 1, 9, 12, 0, tzinfo=dt.UTC),
        place_name="Discord voice",
        place_url="https://discord.com/channels/1",
    )


def events(response) -> list:
    calendar = icalendar.Calendar.from_ical(response.content)
    return list(calendar.walk("VEVENT"))


# iCalendar


def test_session_ics_is_a_valid_event_with_paper_place_and_link(client, club, meeting):
    response = client.get(reverse("meetings:meeting_calendar", args=[club.slug, meeting.number]))

    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    (event,) = events(response)
    assert str(event["uid"]) == event_uid(meeting)
    assert event.decoded("dtstart") == dt.datetime(2030, 1, 9, 12, 0, tzinfo=dt.UTC)
    assert event.decoded("dtend") == dt.datetime(2030, 1, 9, 13, 0, tzinfo=dt.UTC)
    assert str(event["summary"]) == "Asia Paper Club #1: Attention Is All You Need"
    assert str(event["location"]) == "Discord voice, https://discord.com/channels/1"
    assert str(event["status"]) == "CONFIRMED"
    assert "https://arxiv.org/abs/1706.03762" in str(event["description"])


def test_moved_session_keeps_its_uid_and_raises_sequence(client, club, meeting):
    url = reverse("meetings:calendar", args=[club.slug])
    (before,) = events(client.get(url))

    update_meeting(
        meeting=meeting,
        starts_at=meeting.starts_at + dt.timedelta(days=1),
        duration=meeting.duration,
        place_name="Zoom",
        place_url="",
        presenters=[],
    )

    (after,) = events(client.get(url))
    assert after["uid"] == before["uid"]
    assert after["sequence"] > before["sequence"]
    assert after.decoded("dtstart") == dt.datetime(2030, 1, 10, 12, 0, tzinfo=dt.UTC)


def test_cancelled_session_stays_in_the_feed_marked_cancelled(client, club, meeting):
    cancel_meeting(meeting=meeting)

    (event,) = events(client.get(reverse("meetings:calendar", args=[club.slug])))

    assert str(event["status"]) == "CANCELLED"
    assert event["sequence"] == 1


def test_private_club_calendar_needs_a_members_token(client, private_club, organizer, member):
    paper = suggest_paper(
        club=private_club, suggested_by=organizer, link="1706.03762", title="A", pitch="p"
    )
    schedule_meeting(club=private_club, suggestions=[paper])
    token = private_club.memberships.get(user=member).feed_token

    public_url = client.get(reverse("meetings:calendar", args=[private_club.slug]))
    wrong = client.get(reverse("meetings:private_calendar", args=[private_club.slug, "guess"]))
    right = client.get(reverse("meetings:private_calendar", args=[private_club.slug, token]))

    assert (public_url.status_code, wrong.status_code, right.status_code) == (404, 404, 200)
    assert len(events(right)) == 1


def test_token_of_another_club_does_not_open_this_clubs_feed(client, club, private_club, outsider):
    from clubs.services import create_club

    mine = create_club(creator=outsider, name="Mine", slug="mine")
    token = mine.memberships.get().feed_token

    response = client.get(reverse("meetings:private_calendar", args=[private_club.slug, token]))

    assert response.status_code == 404


def test_reset_feed_token_stops_the_old_link(member_client, private_club, member):
    old = private_club.memberships.get(user=member).feed_token

    member_client.post(reverse("meetings:feed_token_reset", args=[private_club.slug]))

    new = private_club.memberships.get(user=member).feed_token
    assert new != old
    assert (
        member_client.get(
            reverse("meetings:private_calendar", args=[private_club.slug, old])
        ).status_code
        == 404
    )
    assert (
        member_client.get(
            reverse("meetings:private_calendar", args=[private_club.slug, new])
        ).status_code
        == 200
    )


def test_club_page_links_its_feeds_in_head_and_body(client, club):
    html = client.get(reverse("clubs:detail", args=[club.slug])).content.decode()

    assert '<link rel="alternate" type="application/atom+xml"' in html
    assert '<link rel="alternate" type="text/calendar"' in html
    assert "Calendar of sessions (iCalendar)" in html


# Atom


def test_notes_feed_carries_sanitized_notes_and_materials(
    client, club, meeting, organizer, start_session
):
    start_session(meeting)
    set_materials(
        meeting=meeting, links=[("slides", "https://example.com/slides", "")], recorded=True
    )
    post_notes(
        meeting=meeting,
        author=organizer,
        bodies=["Attention **everywhere** <script>alert(1)</script>", "", ""],
        takeaways={},
    )

    feed = feedparser.parse(client.get(reverse("meetings:notes_feed", args=[club.slug])).content)

    assert feed.feed.title == "Asia Paper Club: session notes"
    (entry,) = feed.entries
    assert entry.title == "#1: Attention Is All You Need"
    content = entry.content[0].value
    assert "<strong>everywhere</strong>" in content
    assert "<script" not in content
    assert "https://example.com/slides" in content


def test_private_notes_feed_is_not_found_without_token(client, private_club):
    assert client.get(reverse("meetings:notes_feed", args=[private_club.slug])).status_code == 404


# RSVP and attendance


def test_member_answers_with_one_click_and_sees_counts(member_client, club, meeting):
    url = reverse("meetings:rsvp", args=[club.slug, meeting.number])

    member_client.post(url, {"answer": "maybe"}, **HTMX)
    response = member_client.post(url, {"answer": "going"}, **HTMX)

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="rsvp">')
    assert "1 going · 0 maybe · 0 not going" in body
    assert "Coming: Max Member" in body
    assert Rsvp.objects.get().answer == "going"


def test_anonymous_visitors_see_counts_but_not_names(client, club, meeting, member):
    set_rsvp(meeting=meeting, membership=club.memberships.get(user=member), answer="going")

    html = client.get(meeting.get_absolute_url()).content.decode()

    assert "1 going" in html
    assert "Max Member" not in html


def test_bad_or_late_answers_are_refused(member_client, club, meeting, member):
    url = reverse("meetings:rsvp", args=[club.slug, meeting.number])
    bad = member_client.post(url, {"answer": "perhaps"}, **HTMX)
    cancel_meeting(meeting=meeting)
    late = member_client.post(url, {"answer": "going"}, **HTMX)

    assert (bad.status_code, late.status_code) == (400, 409)
    assert late["HX-Retarget"] == "#rsvp-message"
    assert Rsvp.objects.count() == 0


def test_outsiders_cannot_answer(client, club, meeting, outsider):
    client.force_login(outsider)

    assert (
        client.post(
            reverse("meetings:rsvp", args=[club.slug, meeting.number]), {"answer": "going"}
        ).status_code
        == 403
    )


def test_organizer_marks_attendance_after_the_session(club, organizer, member):
    paper = suggest_paper(club=club, suggested_by=member, link="2401.00001", title="P", pitch="p")
    past = schedule_meeting(
        club=club, suggestions=[paper], starts_at=timezone.now() - dt.timedelta(hours=2)
    )

    came = mark_attendance(meeting=past, attended_memberships=[club.memberships.get(user=member)])

    assert came == 1
    assert dict(Rsvp.objects.values_list("membership__user__email", "attended")) == {
        "member@example.com": True,
        "organizer@example.com": False,
    }


def test_attendance_before_the_session_is_refused(club, meeting, member):
    with pytest.raises(RuleViolation, match="once the session has started"):
        mark_attendance(meeting=meeting, attended_memberships=[club.memberships.get(user=member)])


def test_members_cannot_mark_attendance(member_client, club, meeting):
    response = member_client.post(
        reverse("meetings:attendance", args=[club.slug, meeting.number]), {}
    )

    assert response.status_code == 403


# Materials


def test_note_taker_saves_labeled_links_shown_on_page_and_timeline(
    organizer_client, club, meeting, client
):
    response = organizer_client.post(
        reverse("meetings:materials", args=[club.slug, meeting.number]),
        {
            "slides": "https://example.com/slides.pdf",
            "recording": "https://youtube.com/watch?v=x",
            "reading": "https://blog.example.com/a\nhttps://blog.example.com/b",
            "recorded": "on",
        },
    )

    assert response.status_code == 302
    assert list(Material.objects.values_list("kind", flat=True)) == [
        "reading",
        "reading",
        "recording",
        "slides",
    ]
    meeting.refresh_from_db()
    assert meeting.recorded is True
    page = client.get(meeting.get_absolute_url()).content.decode()
    assert 'href="https://example.com/slides.pdf"' in page
    timeline = client.get(reverse("meetings:timeline", args=[club.slug])).content.decode()
    assert ">Recording</a>" in timeline


@pytest.mark.parametrize(
    "data",
    [
        {"slides": "javascript:alert(1)"},
        {"reading": "not a link"},
        {"code": "data:text/html,<script>alert(1)</script>"},
    ],
)
def test_bad_material_links_are_refused(organizer_client, club, meeting, data):
    response = organizer_client.post(
        reverse("meetings:materials", args=[club.slug, meeting.number]), data
    )

    assert response.status_code == 422
    assert Material.objects.count() == 0


def test_members_who_do_not_present_cannot_edit_materials(member_client, club, meeting):
    response = member_client.get(reverse("meetings:materials", args=[club.slug, meeting.number]))

    assert response.status_code == 403


def test_session_page_query_count_with_rsvps_and_materials(
    client, club, meeting, member, django_user_model, same_queries
):
    from clubs.services import join_club

    client.force_login(member)
    set_rsvp(meeting=meeting, membership=club.memberships.get(user=member), answer="going")

    def grow():
        for i in range(10):
            user = django_user_model.objects.create_user(email=f"p{i}@example.com")
            set_rsvp(meeting=meeting, membership=join_club(club=club, user=user), answer="maybe")
        links = [("reading", f"https://e.com/{i}", "") for i in range(8)]
        set_materials(meeting=meeting, links=links, recorded=False)

    same_queries(lambda: client.get(meeting.get_absolute_url()), grow)
    assert Meeting.objects.get().sequence == 1


def test_answers_stay_open_while_a_session_with_published_notes_runs(
    client, club, meeting, member, organizer, start_session
):
    from sessions.services import post_notes

    meeting.duration = dt.timedelta(minutes=60)
    Meeting.objects.filter(pk=meeting.pk).update(duration=meeting.duration)
    start_session(meeting, ago=dt.timedelta(minutes=1))
    post_notes(meeting=meeting, author=organizer, bodies=["x", "", ""], takeaways={})
    client.force_login(member)

    page = client.get(meeting.get_absolute_url()).content.decode()
    response = client.post(
        reverse("meetings:rsvp", args=[club.slug, meeting.number]), {"answer": "going"}
    )

    assert Meeting.objects.get().state == Meeting.State.HELD
    assert 'id="rsvp-heading"' in page and 'name="answer" value="going"' in page
    assert response.status_code in (200, 302)
    assert Rsvp.objects.get(meeting=meeting).answer == "going"


def test_answers_close_when_the_session_ends(client, club, meeting, member, start_session):
    start_session(meeting, ago=meeting.duration + dt.timedelta(minutes=1))
    client.force_login(member)

    with pytest.raises(RuleViolation, match="no longer open"):
        set_rsvp(meeting=meeting, membership=club.memberships.get(user=member), answer="going")
    page = client.get(meeting.get_absolute_url()).content.decode()

    assert 'name="answer"' not in page
    assert not Rsvp.objects.filter(meeting=meeting).exists()


def test_materials_of_a_cancelled_session_cannot_change(meeting):
    cancel_meeting(meeting=meeting)

    with pytest.raises(RuleViolation, match="cancelled"):
        set_materials(meeting=meeting, links=[("slides", "https://e.com/s", "")], recorded=False)
