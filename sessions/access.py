"""Who may do what with a club's sessions."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from clubs.access import ClubAccess, club_for_member, club_for_organizer, club_for_reader
from sessions.models import Meeting


def _meeting(access: ClubAccess, number: int) -> Meeting:
    return get_object_or_404(
        Meeting.objects.select_related("club", "poll", "notes_posted_by")
        .with_papers()
        .with_later_start(),
        club=access.club,
        number=number,
    )


def meeting_for_reader(request, slug: str, number: int) -> tuple[ClubAccess, Meeting]:
    access = club_for_reader(request, slug)
    return access, _meeting(access, number)


def meeting_for_member(request, slug: str, number: int) -> tuple[ClubAccess, Meeting]:
    access = club_for_member(request, slug)
    return access, _meeting(access, number)


def meeting_for_organizer(request, slug: str, number: int) -> tuple[ClubAccess, Meeting]:
    access = club_for_organizer(request, slug)
    return access, _meeting(access, number)


def may_write_notes(access: ClubAccess, meeting: Meeting, user) -> bool:
    """Organizers and the session's presenters write the notes."""
    if access.is_organizer:
        return True
    return access.is_member and any(p.pk == user.pk for p in meeting.presenters.all())


def meeting_for_note_taker(request, slug: str, number: int) -> tuple[ClubAccess, Meeting]:
    access = club_for_member(request, slug)
    meeting = _meeting(access, number)
    if not may_write_notes(access, meeting, request.user):
        raise PermissionDenied("Only organizers and the session's presenters write the notes.")
    return access, meeting
