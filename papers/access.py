"""Who may do what with suggestions and polls. Built on the club helpers."""

import functools

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404

from clubs.access import (
    ClubAccess,
    club_for_member,
    club_for_organizer,
    club_for_reader,
    readable,
)
from clubs.models import Club, Membership
from paperclub.rows import Join, fetch
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


_POLL_READ = Join(
    (Club, "c"),
    (Membership, "m"),
    (Poll, "p"),
    (get_user_model(), "ob"),
    (get_user_model(), "cb"),
    (get_user_model(), "vb"),
)


@functools.cache
def _poll_read_sql() -> str:
    user = get_user_model()._meta.db_table
    return (
        f"SELECT {_POLL_READ.columns()} FROM {Club._meta.db_table} c"
        f" LEFT JOIN {Membership._meta.db_table} m ON m.club_id = c.id AND m.user_id = %s"
        f" LEFT JOIN {Poll._meta.db_table} p ON p.club_id = c.id AND p.id = %s"
        f" LEFT JOIN {user} ob ON ob.id = p.opened_by_id"
        f" LEFT JOIN {user} cb ON cb.id = p.closed_by_id"
        f" LEFT JOIN {user} vb ON vb.id = p.overridden_by_id"
        " WHERE c.slug = %s"
    )


def poll_for_reader(request, slug: str, pk: int) -> tuple[ClubAccess, Poll]:
    """Anyone for a public club's poll, members for a private one's (404 otherwise), with
    the people its page names. The poll page and a live vote's screens are read often, so
    this is one query of fixed SQL (paperclub.rows) for the club, the viewer's membership,
    the poll and who opened, closed and overrode it."""
    user_pk = request.user.pk if request.user.is_authenticated else None
    rows = fetch(_poll_read_sql(), [user_pk, pk if 0 < pk < 2**31 else 0, slug])
    if not rows:
        raise Http404("No such club.")
    club, membership, poll, opened_by, closed_by, overridden_by = _POLL_READ.instances(rows[0])
    access = readable(club, membership)
    if poll is None:
        raise Http404("No such poll.")
    poll.club, poll.opened_by, poll.closed_by = club, opened_by, closed_by
    poll.overridden_by = overridden_by
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


_VOTE_TARGET = Join(
    (Membership, "m"),
    (Club, "c"),
    (Poll, "p"),
    (Suggestion, "s", ("id", "club_id", "state", "suggested_by_id")),
)


@functools.cache
def vote_target_sql(then: str = "") -> str:
    """The fixed read of a member's club, poll and paper (parameters: poll id, paper id,
    then those of `then`, a lateral join on m, c, p and s whose columns follow, then slug
    and user id); `vote_target_row(row)` builds its models."""
    return (
        f"SELECT {_VOTE_TARGET.columns()}{', t.*' if then else ''}"
        f" FROM {Membership._meta.db_table} m"
        f" JOIN {Club._meta.db_table} c ON c.id = m.club_id"
        f" JOIN {Poll._meta.db_table} p ON p.club_id = c.id AND p.id = %s"
        f" JOIN {Suggestion._meta.db_table} s ON s.club_id = c.id AND s.id = %s"
        f"{f' CROSS JOIN LATERAL {then} t' if then else ''}"
        " WHERE c.slug = %s AND m.user_id = %s"
    )


def vote_target_row(row) -> tuple[ClubAccess, Poll, Suggestion]:
    membership, club, poll, suggestion = _VOTE_TARGET.instances(row)
    membership.club = poll.club = club
    return ClubAccess(club=club, membership=membership), poll, suggestion


def may_hold(*ids: int) -> bool:
    """Ids past the database's integer range are in no table (and not sent to it)."""
    return all(0 < pk < 2**63 for pk in ids)


def vote_target(request, slug: str, pk: int, suggestion_pk: int):
    """A member's club (with their membership), its poll `pk` and its paper `suggestion_pk`
    (with only club_id, state and suggested_by_id loaded), for a vote.

    The vote is the site's busiest write, so the common case, a member voting in their
    club, is one query of fixed SQL (paperclub.rows). Anything else takes the usual
    helpers, which answer as they do everywhere: 404 for a private club, a poll or a paper
    that is not there, 403 for someone who is not a member.
    """
    if request.user.is_authenticated and may_hold(pk, suggestion_pk):
        rows = fetch(vote_target_sql(), [pk, suggestion_pk, slug, request.user.pk])
        if rows:
            return vote_target_row(rows[0])
    access = club_for_member(request, slug)
    poll = get_object_or_404(Poll, pk=pk, club=access.club)
    # Another club's paper is not found, as a missing one is: the answer tells no one
    # which paper numbers exist elsewhere.
    suggestion = get_object_or_404(Suggestion, pk=suggestion_pk, club=access.club)
    return access, poll, suggestion
