"""The one helper that writes dates and times: the viewer's zone, named, the club's beside."""

import datetime as dt
import zoneinfo

import pytest
from django.template import Context, Template

from paperclub.when import DATE, describe, reset_viewer_zone, set_viewer_zone, when_text

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

    html = Template("{% load paperclub %}{% when moment club %}").render(
        Context({"moment": NOON, "club": Club()})
    )

    assert (
        html == '<time datetime="2026-12-02T12:00:00+00:00">'
        "Wed 2 Dec 2026, 13:00 CET (Europe/Berlin)</time>"
    )
    assert (
        Template("{% load paperclub %}{% when none club %}").render(Context({"club": Club()})) == ""
    )
