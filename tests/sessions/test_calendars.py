"""Calendar feeds: identifiers on the site's own host, the personal feed, subscribing."""

import datetime as dt

import feedparser
import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from clubs.models import Club
from clubs.services import create_club, leave_club
from papers.services import suggest_paper
from sessions.services import (
    personal_feed,
    post_notes,
    schedule_meeting,
    update_meeting,
)

pytestmark = pytest.mark.django_db

SITE = "https://paperclub.example.org"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


def session(club, title: str, *, days: int = 3):
    paper = suggest_paper(
        club=club,
        suggested_by=club.memberships.first().user,
        link=f"https://example.com/{club.slug}/{title}",
        title=title,
        pitch="p",
    )
    return schedule_meeting(
        club=club, suggestions=[paper], starts_at=timezone.now() + dt.timedelta(days=days)
    )


def events(response) -> dict[str, dict]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    return {
        str(e["uid"]): {"summary": str(e["summary"]), "sequence": int(e["sequence"])}
        for e in calendar.walk("VEVENT")
    }


@pytest.fixture
def elsewhere(outsider) -> Club:
    return create_club(creator=outsider, name="Elsewhere", slug="elsewhere")


# Identifiers


def test_event_uids_are_on_the_sites_host_and_stable_when_moved(client, club):
    meeting = session(club, "Attention")
    url = reverse("meetings:calendar", args=[club.slug])

    first = events(client.get(url))
    update_meeting(
        meeting=meeting,
        starts_at=meeting.starts_at + dt.timedelta(hours=2),
        duration=meeting.duration,
        place_name="Room 2",
        place_url="",
        presenters=[],
    )
    second = events(client.get(url))

    uid = f"session-{meeting.pk}@paperclub.example.org"
    assert list(first) == list(second) == [uid]
    assert second[uid]["sequence"] > first[uid]["sequence"]


def test_single_session_download_has_the_same_uid(client, club):
    meeting = session(club, "Attention")

    one = events(client.get(reverse("meetings:meeting_calendar", args=[club.slug, 1])))

    assert list(one) == [f"session-{meeting.pk}@paperclub.example.org"]


def test_notes_feed_ids_are_tag_uris(client, club, organizer, start_session):
    meeting = session(club, "Attention")
    start_session(meeting)
    post_notes(meeting=meeting, author=organizer, bodies=["n", "", ""], takeaways={})

    feed = feedparser.parse(client.get(reverse("meetings:notes_feed", args=[club.slug])).content)

    day = f"{club.created_at:%Y-%m-%d}"
    assert feed.feed.id == f"tag:paperclub.example.org,{day}:club/{club.pk}/notes"
    made = f"{meeting.created_at:%Y-%m-%d}"
    assert [e.id for e in feed.entries] == [
        f"tag:paperclub.example.org,{made}:session/{meeting.pk}/notes"
    ]


# The personal feed


def test_personal_feed_has_all_my_clubs_and_no_others(
    client, club, private_club, member, elsewhere
):
    mine = [session(club, "Public one"), session(private_club, "Private one", days=4)]
    session(elsewhere, "Not mine")
    token = personal_feed(member).token

    got = events(client.get(reverse("meetings:personal_calendar", args=[token])))

    assert sorted(got) == sorted(f"session-{m.pk}@paperclub.example.org" for m in mine)
    assert {e["summary"] for e in got.values()} == {
        "Asia Paper Club #1: Public one",
        "Secret Club #1: Private one",
    }


def test_private_club_sessions_do_not_leak(client, club, private_club, outsider):
    session(private_club, "Private one")

    outsiders = events(
        client.get(reverse("meetings:personal_calendar", args=[personal_feed(outsider).token]))
    )
    public = events(client.get(reverse("meetings:calendar", args=[club.slug])))

    assert outsiders == {}
    assert public == {}
    assert client.get(reverse("meetings:calendar", args=[private_club.slug])).status_code == 404


def test_leaving_a_club_takes_its_sessions_off_my_feed(client, club, private_club, member):
    session(private_club, "Private one")
    url = reverse("meetings:personal_calendar", args=[personal_feed(member).token])
    assert len(events(client.get(url))) == 1

    leave_club(membership=private_club.memberships.get(user=member))

    assert events(client.get(url)) == {}


def test_reset_gives_a_new_address_and_the_old_one_stops_working(member_client, club, member):
    session(club, "Attention")
    old = personal_feed(member).token

    response = member_client.post(reverse("meetings:personal_feed_reset"))

    new = personal_feed(member).token
    assert response.status_code == 302
    assert new != old
    assert member_client.get(reverse("meetings:personal_calendar", args=[old])).status_code == 404
    assert len(events(member_client.get(reverse("meetings:personal_calendar", args=[new])))) == 1


@pytest.mark.parametrize("token", ["wrong", "x" * 32, "%00"])
def test_wrong_token_is_not_found(client, member, token):
    personal_feed(member)

    assert client.get(f"/calendar/{token}/sessions.ics").status_code == 404


def test_personal_token_is_not_a_club_token(client, private_club, member):
    token = personal_feed(member).token

    url = reverse("meetings:private_calendar", args=[private_club.slug, token])

    assert client.get(url).status_code == 404


def test_personal_feed_answers_not_modified_and_follows_changes(client, club, member):
    meeting = session(club, "Attention")
    url = reverse("meetings:personal_calendar", args=[personal_feed(member).token])
    etag = client.get(url)["ETag"]

    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    update_meeting(
        meeting=meeting,
        starts_at=meeting.starts_at,
        duration=meeting.duration,
        place_name="Moved room",
        place_url="",
        presenters=[],
    )
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 200


def test_personal_feed_query_count_does_not_grow(client, club, private_club, member, same_queries):
    url = reverse("meetings:personal_calendar", args=[personal_feed(member).token])
    session(club, "First")

    def fetch():
        cache.clear()
        client.get(url)

    same_queries(fetch, lambda: [session(private_club, f"P{i}", days=i) for i in range(1, 6)])


# Subscribing


def test_club_page_offers_webcal_and_a_copyable_address(client, club):
    html = client.get(reverse("clubs:detail", args=[club.slug])).content.decode()

    assert 'href="webcal://testserver/c/asia/calendar.ics"' in html
    assert 'value="http://testserver/c/asia/calendar.ics" readonly' in html
    assert "From URL" in html and "New Calendar Subscription" in html
    assert "Subscribe from web" in html


def test_private_club_page_offers_the_members_own_address(member_client, private_club, member):
    token = private_club.memberships.get(user=member).feed_token

    html = member_client.get(reverse("clubs:detail", args=[private_club.slug])).content.decode()

    assert f'href="webcal://testserver/c/secret/feeds/{token}/calendar.ics"' in html
    assert 'href="webcal://testserver/c/secret/calendar.ics"' not in html


def test_my_calendar_page_and_profile_link(member_client, member):
    html = member_client.get(reverse("meetings:my_calendar")).content.decode()
    token = personal_feed(member).token

    assert f'href="webcal://testserver/calendar/{token}/sessions.ics"' in html
    assert f'value="http://testserver/calendar/{token}/sessions.ics"' in html
    assert reverse("meetings:my_calendar") in member_client.get(reverse("profile")).content.decode()


def test_my_calendar_needs_signing_in(client):
    response = client.get(reverse("meetings:my_calendar"))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("token", ["wrong", "%00" * 20, "a" * 65])
def test_malformed_club_feed_token_is_not_found(client, private_club, token):
    url = f"/c/{private_club.slug}/feeds/{token}/calendar.ics"

    assert client.get(url).status_code == 404
