"""A club's reading list out: the groups of an export, as a Markdown README or BibTeX.
Writing the text itself is `writer`; importing a list is `plan` and `services`.
"""

from collections.abc import Callable
from dataclasses import replace

from django.db.models import Max, Prefetch, Q

from clubs.models import Club
from papers.models import Suggestion, Track, TrackEntry
from papers.reading_lists.writer import ExportItem, Material, to_bibtex, to_markdown

# ---------- Export ----------


def export_groups(
    club: Club, *, absolute: Callable[[str], str]
) -> list[tuple[str, list[ExportItem]]]:
    """The club's list for export: papers read (in session order), those scheduled next,
    the backlog, then one group per track. A paper in a track is listed under its track only.

    `absolute` turns a path into a full URL, for links back to the notes.
    """
    from sessions.models import Meeting

    tracked: dict[int, list[tuple[Track, int]]] = {}
    entries = TrackEntry.objects.filter(track__club=club).select_related("track")
    for entry in entries.order_by("track__position", "track_id", "position", "id"):
        tracked.setdefault(entry.suggestion_id, []).append((entry.track, entry.position))
    suggestions = (
        Suggestion.objects.filter(club=club)
        .exclude(state=Suggestion.State.WITHDRAWN)
        .select_related("paper")
        .prefetch_related(
            "links",
            Prefetch(
                "meetings",
                queryset=Meeting.objects.select_related("club").prefetch_related("materials"),
            ),
        )
        .annotate(
            last_session=Max(
                "meetings__starts_at", filter=~Q(meetings__state=Meeting.State.CANCELLED)
            )
        )
    )
    items = {s.pk: _export_item(s, absolute) for s in suggestions}
    states = {s.pk: (s.state, s.last_session, s.created_at) for s in suggestions}

    def untracked(state: str) -> list[int]:
        return [pk for pk in items if pk not in tracked and states[pk][0] == state]

    def in_session_order(pk: int):
        last_session, created_at = states[pk][1], states[pk][2]
        return (last_session is None, last_session or created_at, pk)

    State = Suggestion.State
    groups: list[tuple[str, list[ExportItem]]] = []
    for label, state, order in (
        ("*Read*", State.READ, in_session_order),
        ("*Up next*", State.CHOSEN, in_session_order),
        ("*Backlog*", State.OPEN, lambda pk: (states[pk][2], pk)),
    ):
        if chosen := sorted(untracked(state), key=order):
            groups.append((label, [items[pk] for pk in chosen]))
    by_track: dict[int, tuple[Track, list[ExportItem]]] = {}
    for pk, places in tracked.items():
        if pk not in items:
            continue
        track, _ = places[0]  # listed once: under its first track
        by_track.setdefault(track.pk, (track, []))[1].append((places[0][1], items[pk]))
    for track, positioned in sorted(by_track.values(), key=lambda t: (t[0].position, t[0].pk)):
        positioned.sort(key=lambda pair: pair[0])
        groups.append((track.title, [replace(item, section=track.title) for _, item in positioned]))
    return groups


def _export_item(suggestion: Suggestion, absolute: Callable[[str], str]) -> ExportItem:
    paper = suggestion.paper
    materials = [Material(label=link.label, url=link.url) for link in suggestion.links.all()]
    for meeting in suggestion.meetings.all():
        if meeting.has_notes:
            materials.append(Material(label="Notes", url=absolute(meeting.get_absolute_url())))
        materials += [Material(label=m.title, url=m.url) for m in meeting.materials.all()]
    return ExportItem(  # to_markdown drops repeated links
        # The club's copy of the details (Suggestion.display_title), not another club's.
        title=suggestion.display_title,
        arxiv_id=paper.arxiv_id,
        url=paper.link,
        authors=suggestion.display_authors,
        year=suggestion.display_year,
        takeaway=suggestion.takeaway,
        materials=tuple(materials),
        section="",
    )


def club_markdown(club: Club, *, absolute: Callable[[str], str]) -> str:
    groups = export_groups(club, absolute=absolute)
    items = [item for _, group in groups for item in group]
    intro = club.description.strip() if club.description else ""
    return to_markdown(title=f"{club.name} reading list", items=items, intro=intro, groups=groups)


def club_bibtex(club: Club, *, absolute: Callable[[str], str]) -> str:
    groups = export_groups(club, absolute=absolute)
    return to_bibtex([item for _, group in groups for item in group])
