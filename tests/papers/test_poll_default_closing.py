"""A new poll's default closing time: the day before the next session, at meeting time."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from clubs.services import create_club
from papers.polls import default_poll_closing
from papers.services import suggest_paper
from sessions.services import next_free_slot, schedule_meeting

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def berlin(organizer):
    # Mondays 19:00 in Berlin.
    return create_club(
        creator=organizer,
        name="Berlin Club",
        slug="berlin",
        time_zone="Europe/Berlin",
        meeting_weekday=0,
        meeting_time=dt.time(19, 0),
    )


def at(year, month, day, hour, minute=0, zone=BERLIN):
    return dt.datetime(year, month, day, hour, minute, tzinfo=zone)


def schedule(club, starts_at):
    paper = suggest_paper(
        club=club,
        suggested_by=club.memberships.first().user,
        link=f"https://example.com/{starts_at:%Y%m%d%H%M}",
        title=f"P {starts_at}",
        pitch="p",
    )
    return schedule_meeting(club=club, suggestions=[paper], starts_at=starts_at)


@pytest.mark.parametrize(
    ("now", "closes"),
    [
        # An ordinary week: Sunday 19:00 before Monday's session.
        (at(2026, 1, 14, 12), at(2026, 1, 18, 19)),
        # Clocks go forward on Sun 29 March: still 19:00 local, 17:00 UTC.
        (at(2026, 3, 25, 12), at(2026, 3, 29, 19)),
        # Clocks go back on Sun 25 October: still 19:00 local, 18:00 UTC.
        (at(2026, 10, 21, 12), at(2026, 10, 25, 19)),
        # The session is tonight: an hour before it.
        (at(2026, 1, 19, 10), at(2026, 1, 19, 18)),
        # Sunday evening, just before the day-before time: an hour before the session.
        (at(2026, 1, 18, 18, 30), at(2026, 1, 19, 18)),
        # Tonight's session is too close for a vote: the day before next week's.
        (at(2026, 1, 19, 17, 30), at(2026, 1, 25, 19)),
    ],
)
def test_closes_the_day_before_the_weekly_slot_at_meeting_time(berlin, now, closes):
    got = default_poll_closing(berlin, now=now.astimezone(dt.UTC))

    assert got == closes
    assert got.astimezone(BERLIN).time() in {dt.time(19), dt.time(18)}


def test_dst_cases_keep_local_meeting_time(berlin):
    spring = default_poll_closing(berlin, now=at(2026, 3, 25, 12))
    autumn = default_poll_closing(berlin, now=at(2026, 10, 21, 12))

    assert spring.astimezone(dt.UTC) == dt.datetime(2026, 3, 29, 17, tzinfo=dt.UTC)
    assert autumn.astimezone(dt.UTC) == dt.datetime(2026, 10, 25, 18, tzinfo=dt.UTC)


def test_a_scheduled_session_before_the_slot_comes_first(berlin):
    schedule(berlin, at(2026, 1, 16, 18))  # an extra Friday session

    assert default_poll_closing(berlin, now=at(2026, 1, 14, 12)) == at(2026, 1, 15, 18)


def test_a_session_on_the_slot_is_the_next_meeting(berlin):
    schedule(berlin, at(2026, 1, 19, 19))  # Monday's session already has its paper

    assert default_poll_closing(berlin, now=at(2026, 1, 14, 12)) == at(2026, 1, 18, 19)


def test_skipped_week_is_passed_over(berlin):
    from sessions.models import SkippedWeek

    SkippedWeek.objects.create(club=berlin, day=dt.date(2026, 1, 19))

    assert default_poll_closing(berlin, now=at(2026, 1, 14, 12)) == at(2026, 1, 25, 19)


@pytest.mark.parametrize(
    ("zone", "weekday", "time"),
    [
        ("Europe/Berlin", 0, dt.time(19)),
        ("America/New_York", 6, dt.time(2, 30)),  # inside the skipped hour in March
        ("Australia/Sydney", 4, dt.time(23)),
        ("Asia/Singapore", 2, dt.time(0, 15)),
    ],
)
def test_never_in_the_past_and_never_after_the_next_session(organizer, zone, weekday, time):
    club = create_club(
        creator=organizer,
        name=f"Club {zone}",
        slug=zone.replace("/", "-").lower(),
        time_zone=zone,
        meeting_weekday=weekday,
        meeting_time=time,
    )
    start = dt.datetime(2026, 2, 20, tzinfo=dt.UTC)
    # Every 5 hours and 7 minutes for ten weeks, across the spring DST change of each zone
    # (and Sydney's autumn one).
    moments = [start + i * dt.timedelta(minutes=307) for i in range(340)]

    for now in moments:
        closes = default_poll_closing(club, now=now)
        session = next_free_slot(club, now + dt.timedelta(hours=2))
        assert now < closes < session, (zone, now, closes, session)
        assert session - closes <= dt.timedelta(hours=25), (zone, now, closes, session)


def test_poll_form_shows_the_default_in_the_clubs_time(organizer_client, club):
    expected = default_poll_closing(club).astimezone(club.tz)

    html = organizer_client.get(reverse("papers:poll_open", args=[club.slug])).content.decode()

    assert f'value="{expected:%Y-%m-%dT%H:%M}"' in html
