"""The timeline loads 20 sessions at a time; the calendar is built once per change."""

import datetime as dt

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from papers.services import suggest_paper
from sessions.feeds import event_uid
from sessions.services import cancel_meeting, schedule_meeting
from sessions.views import TIMELINE_PAGE

pytestmark = pytest.mark.django_db


@pytest.fixture
def sessions(club, member):
    made = []
    for i in range(TIMELINE_PAGE + 3):
        paper = suggest_paper(
            club=club,
            suggested_by=member,
            link=f"https://example.org/{i}",
            title=f"P{i}",
            pitch="p",
        )
        made.append(
            schedule_meeting(
                club=club,
                suggestions=[paper],
                starts_at=timezone.now() - dt.timedelta(days=7 * i + 1),
            )
        )
    return made


def test_timeline_shows_a_page_and_loads_earlier_sessions_as_they_scroll(client, club, sessions):
    url = reverse("meetings:timeline", args=[club.slug])

    first = client.get(url).content.decode()
    more = client.get(
        url, {"page": "2"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="more-sessions"
    ).content.decode()
    both = client.get(url, {"page": "2"}).content.decode()

    assert first.count('class="card timeline-item"') == TIMELINE_PAGE
    assert f'hx-get="{url}?page=2" hx-trigger="revealed"' in first
    assert more.count('class="card timeline-item"') == 3 and "<ol" not in more
    assert both.count('class="card timeline-item"') == TIMELINE_PAGE + 3


def events(client, club) -> dict:
    body = client.get(reverse("meetings:calendar", args=[club.slug])).content
    return {
        str(e["uid"]): str(e["status"]) for e in icalendar.Calendar.from_ical(body).walk("VEVENT")
    }


def test_calendar_changes_as_soon_as_a_session_does(client, club, member, sessions):
    paper = suggest_paper(club=club, suggested_by=member, link="1706.03762", title="A", pitch="p")
    upcoming = schedule_meeting(
        club=club, suggestions=[paper], starts_at=timezone.now() + dt.timedelta(days=3)
    )
    before = events(client, club)

    cancel_meeting(meeting=upcoming)

    assert before[event_uid(upcoming)] == "CONFIRMED"
    assert events(client, club)[event_uid(upcoming)] == "CANCELLED"


def test_calendar_answers_not_modified_to_a_client_that_has_it(client, club, sessions):
    url = reverse("meetings:calendar", args=[club.slug])
    etag = client.get(url)["ETag"]

    again = client.get(url, HTTP_IF_NONE_MATCH=etag)

    assert again.status_code == 304
    assert again["ETag"] == etag


def test_earlier_sessions_page_queries_do_not_grow(client, club, member, sessions, same_queries):
    url = reverse("meetings:timeline", args=[club.slug])

    def grow():
        for i in range(20):
            paper = suggest_paper(
                club=club, suggested_by=member, link=f"https://e.org/g{i}", title=f"G{i}", pitch="p"
            )
            schedule_meeting(
                club=club,
                suggestions=[paper],
                starts_at=timezone.now() - dt.timedelta(days=999 + i),
            )

    same_queries(
        lambda: client.get(
            url, {"page": "2"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="more-sessions"
        ),
        grow,
    )
