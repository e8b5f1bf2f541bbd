"""Who may do what with suggestions and polls. Built on the club helpers."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404

from clubs.access import ClubAccess, club_for_member, club_for_organizer, club_for_reader
from papers.models import Poll, Suggestion, Track, TrackEntry


def suggestion_for_editor(request, slug: str, pk: int) -> tuple[ClubAccess, Suggestion]:
    """The suggester edits or withdraws their own open suggestion; organizers any."""
    access = club_for_member(request, slug)
    suggestion = get_object_or_404(
        Suggestion.objects.select_related("paper", "suggested_by"), pk=pk, club=access.club
    )
    own_open = suggestion.suggested_by_id == request.user.pk and suggestion.is_open
    if not (access.is_organizer or own_open):
        raise PermissionDenied(
            "Only the person who suggested it, or an organizer, can change this."
        )
    return access, suggestion


def poll_for_reader(request, slug: str, pk: int) -> tuple[ClubAccess, Poll]:
    access = club_for_reader(request, slug)
    poll = get_object_or_404(
        Poll.objects.select_related("club", "closed_by", "opened_by", "overridden_by"),
        pk=pk,
        club=access.club,
    )
    return access, poll


def live_poll_for_reader(request, slug: str, pk: int) -> tuple[ClubAccess, Poll]:
    """A live poll, for its shared screen, fragment and QR code: a week-long poll has
    none (its votes do not renew a live fragment), so it is not found there."""
    access, poll = poll_for_reader(request, slug, pk)
    if not poll.is_live:
        raise Http404("This poll has no shared screen.")
    return access, poll


def track_for_reader(request, slug: str, pk: int) -> tuple[ClubAccess, Track]:
    access = club_for_reader(request, slug)
    return access, get_object_or_404(Track, pk=pk, club=access.club)


def track_for_organizer(request, slug: str, pk: int) -> tuple[ClubAccess, Track]:
    access = club_for_organizer(request, slug)
    return access, get_object_or_404(Track, pk=pk, club=access.club)


def track_entry_for_organizer(
    request, slug: str, pk: int, entry_pk: int
) -> tuple[ClubAccess, TrackEntry]:
    access = club_for_organizer(request, slug)
    entry = get_object_or_404(
        TrackEntry.objects.select_related("track", "suggestion__paper"),
        pk=entry_pk,
        track__pk=pk,
        track__club=access.club,
    )
    return access, entry


def suggestion_for_member(request, slug: str, pk: int) -> tuple[ClubAccess, Suggestion]:
    """A paper of the club's list, for a member acting on their own behalf (read marks)."""
    access = club_for_member(request, slug)
    on_the_list = Suggestion.objects.exclude(state=Suggestion.State.WITHDRAWN)
    return access, get_object_or_404(on_the_list.select_related("paper"), pk=pk, club=access.club)
