"""Who may do what with suggestions and polls. Built on the club helpers."""

import functools

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django.shortcuts import get_object_or_404

from clubs.access import ClubAccess, club_for_member, club_for_organizer, club_for_reader
from clubs.models import Club, Membership
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


def vote_target(request, slug: str, pk: int, suggestion_pk: int):
    """A member's club (with their membership), its poll `pk` and its paper `suggestion_pk`
    (with only club_id, state and suggested_by_id loaded), for a vote.

    The vote is the site's busiest write, so the common case, a member voting in their
    club, is one query of fixed SQL (no ORM query building). Anything else takes the usual
    helpers, which answer as they do everywhere: 404 for a private club, a poll or a paper
    that is not there, 403 for someone who is not a member.
    """
    if request.user.is_authenticated:
        with connection.cursor() as cursor:
            cursor.execute(_vote_target_sql(), [pk, suggestion_pk, slug, request.user.pk])
            row = cursor.fetchone()
        if row is not None:
            membership, club, poll, suggestion = _split(row)
            membership.club = poll.club = club
            return ClubAccess(club=club, membership=membership), poll, suggestion
    access = club_for_member(request, slug)
    poll = get_object_or_404(Poll, pk=pk, club=access.club)
    # Another club's paper is not found, as a missing one is: the answer tells no one
    # which paper numbers exist elsewhere.
    suggestion = get_object_or_404(Suggestion, pk=suggestion_pk, club=access.club)
    return access, poll, suggestion


# What the query reads: each model's fields, in order (a vote needs only these of the paper).
_TARGET = (
    (Membership, None),
    (Club, None),
    (Poll, None),
    (Suggestion, ("id", "club_id", "state", "suggested_by_id")),
)


def _fields(model, names) -> list:
    return [f for f in model._meta.concrete_fields if names is None or f.attname in names]


@functools.cache
def _vote_target_sql() -> str:
    aliases = ("m", "c", "p", "s")
    selected = [
        f'{alias}."{field.column}"'
        for (model, names), alias in zip(_TARGET, aliases, strict=True)
        for field in _fields(model, names)
    ]
    return (
        f"SELECT {', '.join(selected)} FROM {Membership._meta.db_table} m"
        f" JOIN {Club._meta.db_table} c ON c.id = m.club_id"
        f" JOIN {Poll._meta.db_table} p ON p.club_id = c.id AND p.id = %s"
        f" JOIN {Suggestion._meta.db_table} s ON s.club_id = c.id AND s.id = %s"
        " WHERE c.slug = %s AND m.user_id = %s"
    )


@functools.cache
def _readers(vendor: str) -> list[tuple]:
    """Per model: its field names and each field's converters from database values (the
    ones the ORM applies: SQLite's dates arrive as text, for one)."""
    readers = []
    for model, names in _TARGET:
        fields = _fields(model, names)
        converters = []
        for field in fields:
            column = field.get_col(model._meta.db_table)
            converters.append(
                (
                    connection.ops.get_db_converters(column) + field.get_db_converters(connection),
                    column,
                )
            )
        readers.append((model, [f.attname for f in fields], converters))
    return readers


def _split(row) -> tuple:
    """The row of _vote_target_sql() as model instances, as the ORM would build them."""
    instances, start = [], 0
    for model, names, converters in _readers(connection.vendor):
        values = []
        for value, (functions, column) in zip(
            row[start : start + len(names)], converters, strict=True
        ):
            for convert in functions:
                value = convert(value, column, connection)
            values.append(value)
        instances.append(model.from_db(connection.alias, names, values))
        start += len(names)
    return tuple(instances)
