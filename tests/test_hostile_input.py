"""Hostile values in every text field that reaches a page, a feed or a calendar."""

import datetime as dt

import feedparser
import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from clubs.models import Club
from clubs.services import create_club, join_club
from papers.models import Suggestion, Track
from papers.polls import close_poll, open_poll
from papers.reading_lists.writer import parse_reading_list
from papers.services import add_to_track, create_track, edit_track_entry, suggest_paper
from papers.votes import set_vote
from sessions.models import Meeting
from sessions.services import post_notes, schedule_meeting, set_materials
from tests.test_properties import Tags

pytestmark = pytest.mark.django_db

CORPUS = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "<a href='javascript:alert(1)'>click</a>",
    "<a href='data:text/html,<script>alert(1)</script>'>x</a>",
    '<div hx-get="/admin/" hx-trigger="load">x</div>',
    "<b><i>broken <u>html",
    "\u202eevil.exe\u202c right-to-left override",
    "emoji 📄🧠 and combining e\u0301\u0301\u0301",
    "tab\tnew\nline and bell\x07 and escape\x1b[31m",
    "{{ 7|add:7 }} {% now 'Y' %}",
]


def assert_inert(html: str) -> None:
    """Nothing a browser would run: our own scripts only, no handlers, no script links."""
    for tag, attrs in Tags(html).found:
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/"), attrs
        assert tag not in {"iframe", "object", "embed"}
        handlers = [name for name in attrs if name.startswith("on")]
        assert handlers == [], (tag, attrs)
        for name in ("href", "src", "action"):
            assert not attrs.get(name, "").strip().lower().startswith(("javascript:", "data:"))
        if tag == "div" and "hx-get" in attrs:
            assert attrs["hx-get"] != "/admin/"
    assert "14 " not in html.split("{{ 7|add:7 }}")[0][-3:]  # templates are not evaluated


@pytest.fixture
def hostile_club(organizer, member, django_user_model):
    def build(value: str):
        organizer.display_name = value[:80]
        organizer.save()
        club = create_club(
            creator=organizer,
            name=value[:100],
            slug="hostile",
            description=value[:300],
            rules=value,
            place_name=value[:120],
            discussion_questions=[value[:120], "Second"],
        )
        join_club(club=club, user=member)
        paper = suggest_paper(
            club=club,
            suggested_by=organizer,
            link="https://example.com/paper",
            title=value[:300],
            authors=value[:1000],
            pitch=value[:500],
        )
        other = suggest_paper(
            club=club, suggested_by=organizer, link="1706.03762", title="T", pitch=value[:500]
        )
        meeting = schedule_meeting(
            club=club,
            suggestions=[paper],
            starts_at=timezone.now() - dt.timedelta(days=1),
            place_name=value[:120],
        )
        set_materials(
            meeting=meeting, links=[("slides", "https://example.com/s", value[:120])], recorded=True
        )
        post_notes(
            meeting=meeting,
            author=organizer,
            bodies=[value, value],
            takeaways={paper.pk: value[:200]},
        )
        poll = open_poll(club=club, opened_by=organizer)
        set_vote(
            poll=poll, membership=club.memberships.get(user=member), suggestion=other, approve=True
        )
        close_poll(poll=poll, closed_by=organizer)
        track = create_track(club=club, title=value[:100], description=value)
        entry = add_to_track(track=track, suggestion=other, summary=value)
        edit_track_entry(
            entry=entry,
            summary=value,
            further_reading=value,
            links=[(value[:60] or "x", "https://example.com/more")],
        )
        return club, meeting, poll

    return build


@pytest.mark.parametrize("value", CORPUS)
def test_hostile_values_render_inert_on_every_page_and_feed(client, member, hostile_club, value):
    club, meeting, poll = hostile_club(value)
    client.force_login(member)

    for url in [
        "/",
        club.get_absolute_url(),
        reverse("clubs:members", args=[club.slug]),
        reverse("meetings:timeline", args=[club.slug]),
        meeting.get_absolute_url(),
        poll.get_absolute_url(),
        Meeting.objects.get(poll=poll).get_absolute_url(),
        reverse("papers:tracks", args=[club.slug]),
        Track.objects.get(club=club).get_absolute_url(),
        reverse("papers:search", args=[club.slug]) + "?q=T",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_inert(response.content.decode())

    feed = feedparser.parse(client.get(reverse("meetings:notes_feed", args=[club.slug])).content)
    assert not feed.bozo
    for entry in feed.entries:
        assert_inert(entry.content[0].value)
    calendar = client.get(reverse("meetings:calendar", args=[club.slug])).content
    assert len(list(icalendar.Calendar.from_ical(calendar).walk("VEVENT"))) == 2

    # The exports: a README GitHub would render without running anything, and BibTeX
    # whose braces balance whatever the titles hold.
    markdown = client.get(reverse("papers:export_markdown", args=[club.slug])).content.decode()
    assert "<script" not in markdown and "<img" not in markdown and "<a " not in markdown
    exported = {e.title for e in parse_reading_list(markdown).entries}
    assert exported == {" ".join(s.paper.title.split()) for s in club.suggestions.all()}
    bibtex = client.get(reverse("papers:export_bibtex", args=[club.slug])).content.decode()
    assert bibtex.count("{") == bibtex.count("}")


HUGE = "x" * 100_000


@pytest.mark.parametrize(
    ("url_name", "data"),
    [
        (
            "clubs:create",
            {
                "name": HUGE,
                "time_zone": "UTC",
                "meeting_weekday": "1",
                "meeting_time": "18:00",
                "meeting_duration": "60",
                "discussion_questions": "Q",
                "visibility": "public",
                "joining": "open",
            },
        ),
        (
            "clubs:create",
            {
                "name": "ok",
                "description": HUGE,
                "time_zone": "UTC",
                "meeting_weekday": "1",
                "meeting_time": "18:00",
                "meeting_duration": "60",
                "discussion_questions": HUGE,
                "visibility": "public",
                "joining": "open",
            },
        ),
        ("profile", {"display_name": HUGE, "time_zone": "UTC"}),
    ],
)
def test_huge_values_are_refused_with_a_message(member_client, url_name, data):
    response = member_client.post(reverse(url_name), data)

    assert response.status_code == 422
    assert (
        "Ensure this value has at most" in response.content.decode()
        or "120 characters" in response.content.decode()
    )
    assert Club.objects.count() == 0


def test_huge_pitch_and_notes_are_refused(member_client, organizer_client, club, member, organizer):
    response = member_client.post(
        reverse("papers:suggest", args=[club.slug]),
        {"link": "2305.18290", "title": "T", "pitch": HUGE},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert Suggestion.objects.count() == 0

    paper = suggest_paper(club=club, suggested_by=member, link="1706.03762", title="A", pitch="p")
    meeting = schedule_meeting(club=club, suggestions=[paper])
    organizer_client.force_login(organizer)
    response = organizer_client.post(
        reverse("meetings:notes", args=[club.slug, meeting.number]),
        {"q0": HUGE * 3, "q1": "", "q2": ""},
    )
    assert response.status_code == 422
    assert meeting.note_sections.count() == 0
