"""The one helper that writes dates and times: the viewer's zone, named, the club's beside."""

import datetime as dt
import zoneinfo

import pytest
from django.template import Context, Template

from paperclub.when import (
    DATE,
    describe,
    reset_viewer_zone,
    set_viewer_zone,
    weekly_slot_text,
    when_text,
)

Z = zoneinfo.ZoneInfo
BERLIN, NEW_YORK, SINGAPORE = Z("Europe/Berlin"), Z("America/New_York"), Z("Asia/Singapore")
# Wednesday 2 Dec 2026, 12:00 UTC: 20:00 in Singapore, 13:00 in Berlin, 07:00 in New York.
NOON = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("viewer", "club", "style", "expected"),
    [
        (SINGAPORE, SINGAPORE, "datetime", "Wed 2 Dec 2026, 20:00 (Asia/Singapore)"),
        (
            NEW_YORK,
            BERLIN,
            "datetime",
            "Wed 2 Dec 2026, 07:00 EST (America/New York)"
            " · 13:00 in the club's time (Europe/Berlin)",
        ),
        (
            BERLIN,
            SINGAPORE,
            "datetime",
            "Wed 2 Dec 2026, 13:00 CET (Europe/Berlin) · 20:00 in the club's time (Asia/Singapore)",
        ),
        (
            Z("Asia/Kuala_Lumpur"),
            SINGAPORE,
            "datetime",
            "Wed 2 Dec 2026, 20:00 (Asia/Kuala Lumpur)",
        ),
        (NEW_YORK, BERLIN, DATE, "2 Dec 2026 (America/New York)"),
        (Z("Pacific/Honolulu"), SINGAPORE, DATE, "2 Dec 2026 (Pacific/Honolulu)"),
        (
            Z("Pacific/Kiritimati"),
            Z("Pacific/Honolulu"),
            DATE,
            "3 Dec 2026 (Pacific/Kiritimati) · 2 Dec in the club's time (Pacific/Honolulu)",
        ),
        (Z("UTC"), None, "datetime", "Wed 2 Dec 2026, 12:00 (UTC)"),
    ],
)
def test_when_text(viewer, club, style, expected):
    assert when_text(NOON, club_zone=club, viewer=viewer, style=style) == expected


def test_the_clubs_time_names_the_day_when_it_is_another():
    late = dt.datetime(2026, 12, 2, 23, 0, tzinfo=dt.UTC)  # Thursday 07:00 in Singapore

    assert when_text(late, club_zone=SINGAPORE, viewer=NEW_YORK) == (
        "Wed 2 Dec 2026, 18:00 EST (America/New York) · Thu 3 Dec, 07:00 in the club's time "
        "(Asia/Singapore)"
    )


def test_summer_time_is_named_and_counted():
    june = dt.datetime(2026, 6, 3, 17, 0, tzinfo=dt.UTC)

    assert when_text(june, club_zone=BERLIN, viewer=NEW_YORK) == (
        "Wed 3 Jun 2026, 13:00 EDT (America/New York) · 19:00 in the club's time (Europe/Berlin)"
    )


def test_without_a_viewer_the_clubs_zone_is_used_and_with_one_theirs():
    assert describe(NOON, club_zone=BERLIN).mine == "Wed 2 Dec 2026, 13:00 CET (Europe/Berlin)"
    token = set_viewer_zone(SINGAPORE)
    try:
        assert describe(NOON, club_zone=BERLIN).mine == "Wed 2 Dec 2026, 20:00 (Asia/Singapore)"
    finally:
        reset_viewer_zone(token)


def test_an_unknown_style_is_a_programming_error():
    with pytest.raises(ValueError, match="Unknown style"):
        describe(NOON, club_zone=BERLIN, style="ago")


def test_the_tag_writes_a_machine_readable_time_and_escapes_nothing_it_should_not():
    class Club:
        tz = BERLIN
        time_zone = "Europe/Berlin"

    tag = Template("{% load paperclub %}{% when moment club %}")
    html = tag.render(Context({"moment": NOON, "club": Club()}))

    # The viewer's zone is unknown: the club's time, marked for the browser to rewrite.
    assert html == (
        '<time datetime="2026-12-02T12:00:00+00:00" data-zone-guessed data-when-format="datetime"'
        ' data-club-zone="Europe/Berlin">Wed 2 Dec 2026, 13:00 CET (Europe/Berlin)</time>'
    )
    token = set_viewer_zone(BERLIN)
    try:
        assert tag.render(Context({"moment": NOON, "club": Club()})) == (
            '<time datetime="2026-12-02T12:00:00+00:00">'
            "Wed 2 Dec 2026, 13:00 CET (Europe/Berlin)</time>"
        )
    finally:
        reset_viewer_zone(token)
    assert (
        Template("{% load paperclub %}{% when none club %}").render(Context({"club": Club()})) == ""
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        (None, "Wednesdays at 20:00 (Asia/Singapore), 60 min"),
        (SINGAPORE, "Wednesdays at 20:00 (Asia/Singapore), 60 min"),
        (
            NEW_YORK,
            "Wednesdays at 20:00 (Asia/Singapore), 60 min · Wednesdays at 07:00 for you"
            " (America/New York)",
        ),
        (
            Z("America/Los_Angeles"),
            "Wednesdays at 20:00 (Asia/Singapore), 60 min · Wednesdays at 04:00 for you"
            " (America/Los Angeles)",
        ),
        (
            Z("Pacific/Auckland"),
            "Wednesdays at 20:00 (Asia/Singapore), 60 min · Thursdays at 01:00 for you"
            " (Pacific/Auckland)",
        ),
        (Z("Asia/Kuala_Lumpur"), "Wednesdays at 20:00 (Asia/Singapore), 60 min"),
    ],
)
def test_the_weekly_slot_names_the_viewers_own_day_and_hour(viewer, expected):
    from clubs.models import Club, Weekday

    club = Club(
        name="Asia",
        slug="asia",
        time_zone="Asia/Singapore",
        meeting_weekday=Weekday.WEDNESDAY,
        meeting_time=dt.time(20, 0),
        meeting_duration=60,
    )
    token = set_viewer_zone(viewer)
    try:
        assert weekly_slot_text(club, now=NOON - dt.timedelta(days=1)) == expected
        html = Template("{% load paperclub %}{% weekly_slot club %}").render(
            Context({"club": club})
        )
        assert html == expected
    finally:
        reset_viewer_zone(token)


def test_the_weekly_slot_follows_daylight_saving():
    from clubs.models import Club, Weekday

    club = Club(
        time_zone="Europe/Berlin",
        meeting_weekday=Weekday.THURSDAY,
        meeting_time=dt.time(19, 0),
        meeting_duration=90,
    )
    token = set_viewer_zone(NEW_YORK)
    try:
        # Both on summer time in July; in early November New York has changed, Berlin too.
        july = weekly_slot_text(club, now=dt.datetime(2026, 7, 1, tzinfo=dt.UTC))
        assert july.endswith("Thursdays at 13:00 for you (America/New York)")
        # The week between the two changes (Berlin 25 Oct, New York 1 Nov 2026).
        gap = weekly_slot_text(club, now=dt.datetime(2026, 10, 26, tzinfo=dt.UTC))
        assert gap.endswith("Thursdays at 14:00 for you (America/New York)")
    finally:
        reset_viewer_zone(token)
