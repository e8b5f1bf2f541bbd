"""Who may do what with a club's sessions."""

import functools

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Prefetch, prefetch_related_objects
from django.shortcuts import get_object_or_404
from django.utils import timezone

from clubs.access import (
    ClubAccess,
    club_for_member,
    club_for_organizer,
    club_for_reader,
    readable,
)
from clubs.models import Club, Membership
from paperclub.rows import Join, fetch
from papers.models import Poll, Suggestion
from sessions.models import Meeting


def _meeting(access: ClubAccess, number: int) -> Meeting:
    meeting = get_object_or_404(
        Meeting.objects.select_related("club", "poll", "notes_posted_by")
        .with_papers()
        .with_later_start(),
        club=access.club,
        number=number,
    )
    if meeting.poll is not None:  # its link names the club: the same one
        meeting.poll.club = meeting.club
    return meeting


_READ = Join(
    (Club, "c"),
    (Membership, "m"),
    (Meeting, "mt"),
    (Poll, "p"),
    (get_user_model(), "u"),
)


@functools.cache
def _read_sql() -> str:
    user = get_user_model()._meta.db_table
    meetings = Meeting._meta.db_table
    presenters = Meeting.presenters.through._meta.db_table
    return (
        f"SELECT {_READ.columns()}, EXISTS (SELECT 1 FROM {meetings} l"
        "  WHERE l.club_id = mt.club_id AND l.starts_at > mt.starts_at AND l.starts_at <= %s"
        "  AND l.state <> %s),"
        f" EXISTS (SELECT 1 FROM {presenters} pr WHERE pr.meeting_id = mt.id AND pr.user_id = %s)"
        f" FROM {Club._meta.db_table} c"
        f" JOIN {meetings} mt ON mt.club_id = c.id AND mt.number = %s"
        f" LEFT JOIN {Membership._meta.db_table} m ON m.club_id = c.id AND m.user_id = %s"
        f" LEFT JOIN {Poll._meta.db_table} p ON p.id = mt.poll_id"
        f" LEFT JOIN {user} u ON u.id = mt.notes_posted_by_id"
        " WHERE c.slug = %s"
    )


def meeting_for_reader(request, slug: str, number: int) -> tuple[ClubAccess, Meeting]:
    """Anyone for a public club's session, members for a private one's (404 otherwise).
    The meeting's `viewer_presents` says whether the viewer is one of its presenters; its
    papers and presenters are read when first used (`with_papers` reads both at once).

    The session page is read often, so this is one query of fixed SQL (paperclub.rows)
    for the club, the viewer's membership and the session as _meeting() loads it; a
    missing club or session is looked up the usual way."""
    user_pk = request.user.pk if request.user.is_authenticated else None
    if 0 < number < 2**31:
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        params = [now, Meeting.State.CANCELLED, user_pk, number, user_pk, slug]
        rows = fetch(_read_sql(), params)
        if rows:
            club, membership, meeting, poll, posted_by = _READ.instances(rows[0])
            access = readable(club, membership)
            meeting.club, meeting.poll, meeting.notes_posted_by = club, poll, posted_by
            meeting.later_started, meeting.viewer_presents = map(bool, rows[0][-2:])
            if poll is not None:
                poll.club = club
            return access, meeting
    access = club_for_reader(request, slug)
    meeting = _meeting(access, number)
    meeting.viewer_presents = meeting.presented_by(request.user)
    return access, meeting


def with_papers(meeting: Meeting) -> Meeting:
    """The meeting with its papers (and their catalog rows) and presenters read, in two
    queries (none when they are read already)."""
    papers = Suggestion.objects.select_related("paper")
    prefetch_related_objects([meeting], Prefetch("suggestions", papers), "presenters")
    return meeting


def meeting_for_member(request, slug: str, number: int) -> tuple[ClubAccess, Meeting]:
    access = club_for_member(request, slug)
    return access, _meeting(access, number)


def meeting_for_organizer(request, slug: str, number: int) -> tuple[ClubAccess, Meeting]:
    access = club_for_organizer(request, slug)
    return access, _meeting(access, number)


def may_write_notes(access: ClubAccess, *, presents: bool) -> bool:
    """Organizers and the session's presenters (`presents`: the viewer is one) write the
    notes."""
    return access.is_organizer or (access.is_member and presents)


def meeting_for_note_taker(request, slug: str, number: int) -> tuple[ClubAccess, Meeting]:
    access = club_for_member(request, slug)
    meeting = _meeting(access, number)
    if not may_write_notes(access, presents=meeting.presented_by(request.user)):
        raise PermissionDenied("Only organizers and the session's presenters write the notes.")
    return access, meeting
