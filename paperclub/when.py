"""The one way Paper Club writes a date or a time for a person to read.

Every moment is shown in the viewer's zone (a signed-in member's profile zone, else the
zone their browser reported, else the club's own), the zone is named, and when the club
keeps another clock its time is written beside: "Thu 29 Oct 2026, 14:00 EDT (America/New
York) · 19:00 in the club's time (Europe/Berlin)". Pages use it through the `{% when %}`
tag (clubs/templatetags/paperclub.py); messages built in Python call `when_text`.

The viewer's zone is set once per request by accounts.middleware.UserTimezoneMiddleware,
so code that builds a message deep in a service writes it for the person who will read it.
"""

import datetime as dt
import zoneinfo
from contextvars import ContextVar
from dataclasses import dataclass

from django.utils.dateformat import format as date_format

UTC = zoneinfo.ZoneInfo("UTC")
DATETIME = "datetime"
DATE = "date"
STYLES = {DATETIME, DATE}

_viewer_zone: ContextVar[zoneinfo.ZoneInfo | None] = ContextVar("viewer_zone", default=None)


def set_viewer_zone(zone: zoneinfo.ZoneInfo | None):
    """Set the zone of the person this request answers; returns the token to reset it."""
    return _viewer_zone.set(zone)


def reset_viewer_zone(token) -> None:
    _viewer_zone.reset(token)


def viewer_zone(club_zone: zoneinfo.ZoneInfo | None = None) -> zoneinfo.ZoneInfo:
    """The zone to show times in: the viewer's when known, else the club's, else UTC."""
    return _viewer_zone.get() or club_zone or UTC


def viewer_zone_known() -> bool:
    """Whether this request knows the viewer's zone (else pages guess with the club's,
    and static/js/app.js rewrites the guessed times in the browser's zone)."""
    return _viewer_zone.get() is not None


def zone_name(zone: zoneinfo.ZoneInfo) -> str:
    return zone.key.replace("_", " ")


def _abbreviation(moment: dt.datetime) -> str:
    # "CET", "EDT"; zones without letters ("+08" for Singapore) are named by their key only.
    abbreviation = moment.tzname() or ""
    return abbreviation if abbreviation[:1].isalpha() and abbreviation != "UTC" else ""


@dataclass(frozen=True)
class Moment:
    """A moment written for one viewer: `mine` in their zone, `club` (or "") beside it."""

    iso: str
    mine: str
    club: str


def describe(
    moment: dt.datetime,
    *,
    club_zone: zoneinfo.ZoneInfo | None = None,
    viewer: zoneinfo.ZoneInfo | None = None,
    style: str = DATETIME,
) -> Moment:
    if style not in STYLES:
        raise ValueError(f"Unknown style {style!r}; use one of {sorted(STYLES)}.")
    zone = viewer or viewer_zone(club_zone)
    mine = moment.astimezone(zone)
    if style == DATE:
        text = f"{date_format(mine, 'j M Y')} ({zone_name(zone)})"
    else:
        clock = " ".join(filter(None, [date_format(mine, "D j M Y, H:i"), _abbreviation(mine)]))
        text = f"{clock} ({zone_name(zone)})"
    beside = ""
    if club_zone is not None and club_zone.key != zone.key:
        theirs = moment.astimezone(club_zone)
        same_day = theirs.date() == mine.date()
        if style == DATE:
            if not same_day:
                beside = f"{date_format(theirs, 'j M')} in the club's time ({zone_name(club_zone)})"
        elif mine.utcoffset() != theirs.utcoffset() or not same_day:
            clock = date_format(theirs, "H:i" if same_day else "D j M, H:i")
            beside = f"{clock} in the club's time ({zone_name(club_zone)})"
    return Moment(iso=moment.isoformat(), mine=text, club=beside)


def when_text(
    moment: dt.datetime | None,
    *,
    club_zone: zoneinfo.ZoneInfo | None = None,
    viewer: zoneinfo.ZoneInfo | None = None,
    style: str = DATETIME,
) -> str:
    """The same words as the `{% when %}` tag, as plain text for messages and emails.
    `viewer` names the reader's zone when it is not this request's viewer (an email's
    recipient; a whole club, for a webhook post)."""
    if moment is None:
        return ""
    found = describe(moment, club_zone=club_zone, viewer=viewer, style=style)
    return f"{found.mine} · {found.club}" if found.club else found.mine


def weekly_slot_text(club, *, now: dt.datetime | None = None) -> str:
    """The club's weekly slot, "Wednesdays at 20:00 (Asia/Singapore), 60 min", with the
    viewer's own day and hour beside it when their zone differs: "· Tuesdays at 07:00 for
    you (America/New York)". Taken from the club's next slot, so it follows daylight saving."""
    zone = _viewer_zone.get()
    if zone is None or zone.key == club.time_zone:
        return club.slot_description
    slot = club.next_slot_after(now or dt.datetime.now(UTC))
    mine = slot.astimezone(zone)
    if mine.utcoffset() == slot.utcoffset():
        return club.slot_description
    return (
        f"{club.slot_description} · {date_format(mine, 'l')}s at {date_format(mine, 'H:i')} "
        f"for you ({zone_name(zone)})"
    )
