"""Reading lists in and out of a club: what an import would do, and the club's list as a
Markdown README or BibTeX. Parsing and writing the text itself is `papers.reading_list`.

`plan_import` only reads; `papers.services.import_reading_list` writes what it planned.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from django.core.cache import cache
from django.core.validators import URLValidator, ValidationError
from django.db.models import F, Max, Prefetch, Q

from clubs.models import Club
from paperclub.text import strip_control
from papers import arxiv
from papers.identifiers import normalize_url
from papers.models import Paper, Suggestion, Track, TrackEntry
from papers.reading_list import (
    Entry,
    ExportItem,
    Material,
    ParsedList,
    Problem,
    ReadingListError,
    parse_reading_list,
    to_bibtex,
    to_markdown,
)
from papers.titles import title_keys, title_url_key, titles_match

logger = logging.getLogger(__name__)

ARXIV_LOOKUPS = 25  # titles looked up on arXiv per import, at most; the rest are problems
ARXIV_CACHE_SECONDS = 24 * 3600
MAX_MATCHES = 5000  # catalog rows matched by title in one import
LABEL_MAX = 60  # PaperLink.label
LINK_MAX = 500  # PaperLink.url, Paper.url


@dataclass(frozen=True)
class PlannedPaper:
    """One paper of the list and what importing it does."""

    entry: Entry
    paper: Paper | None  # the catalog's row, when it has one
    suggestion: Suggestion | None  # the club's row, when the club has the paper
    details: arxiv.ArxivMetadata | None = None  # from arXiv, for a paper given only by ID
    adds_to_track: bool = False  # already on the list, but new to the entry's track

    @property
    def title(self) -> str:
        # Another club's typed title is not shown: only a row arXiv filled (catalog rule).
        if self.paper is not None and self.paper.from_arxiv:
            return self.paper.title
        if self.entry.title:
            return self.entry.title
        return self.details.title if self.details else ""

    @property
    def is_new(self) -> bool:
        return self.suggestion is None

    @property
    def status(self) -> str:
        if self.is_new:
            return "in the catalog, new to this club" if self.paper else "new"
        state = self.suggestion.get_state_display().lower()
        if self.adds_to_track:
            return f"already on the list ({state}); added to “{self.entry.section}”"
        return f"already on the list ({state})"


@dataclass(frozen=True)
class ImportPlan:
    title: str
    papers: tuple[PlannedPaper, ...]
    problems: tuple[Problem, ...]
    new_tracks: tuple[str, ...] = field(default=())

    @property
    def new(self) -> list[PlannedPaper]:
        return [p for p in self.papers if p.is_new]

    @property
    def duplicates(self) -> list[PlannedPaper]:
        return [p for p in self.papers if not p.is_new]

    @property
    def track_additions(self) -> int:
        return sum(1 for p in self.papers if p.entry.section and (p.is_new or p.adds_to_track))

    @property
    def changes_anything(self) -> bool:
        return bool(self.new or self.new_tracks or self.track_additions)


def title_key(title: str) -> str:
    """The catalog key (Paper.url_key) of a paper known only by its title."""
    return title_url_key(title)


def arxiv_details(arxiv_id: str) -> arxiv.ArxivMetadata:
    """arXiv's details for an ID, kept a day in the cache so a preview and the import that
    follows it ask arXiv once. Raises ArxivError."""
    key = f"arxiv:{arxiv_id}"
    details = cache.get(key)
    if details is None:
        details = arxiv.fetch_metadata(arxiv_id)
        cache.set(key, details, ARXIV_CACHE_SECONDS)
    return details


def _usable_materials(entry: Entry) -> tuple[tuple[Material, ...], list[Problem]]:
    check = URLValidator(schemes=["http", "https"])
    kept, problems = [], []
    for material in entry.materials:
        try:
            if len(material.url) > LINK_MAX:
                raise ValidationError("too long")
            check(material.url)
        except ValidationError:
            problems.append(
                Problem(
                    entry.line, material.url[:200], "This link could not be kept: not a web link."
                )
            )
            continue
        label = strip_control(material.label).strip()[:LABEL_MAX] or "Link"
        kept.append(Material(label=label, url=material.url))
    return tuple(kept), problems


def plan_import(*, club: Club, text: str) -> ImportPlan:
    """What importing `text` into the club would create, skip and refuse. Writes nothing.

    Papers are matched to the catalog by arXiv ID, then normalized URL, then title; a paper
    given only by an arXiv ID gets its title from the catalog or from arXiv (at most
    ARXIV_LOOKUPS per list; when arXiv cannot be reached the line is a problem).
    Raises ReadingListError for text that cannot be read as a list at all.
    """
    parsed: ParsedList = parse_reading_list(text)
    problems = list(parsed.problems)
    entries = []
    for entry in parsed.entries:
        materials, dropped = _usable_materials(entry)
        problems += dropped
        url = entry.url if len(entry.url) <= LINK_MAX else ""
        entries.append(replace(entry, materials=materials, url=url))

    keys = {_catalog_key(entry) for entry in entries}
    arxiv_ids = [key for kind, key in keys if kind == "arxiv"]
    url_keys = [key for kind, key in keys if kind != "arxiv"]  # titles are url keys too
    by_arxiv = {p.arxiv_id: p for p in Paper.objects.filter(arxiv_id__in=arxiv_ids)}
    by_url = {
        p.url_key: p for p in Paper.objects.filter(arxiv_id__isnull=True, url_key__in=url_keys)
    }
    # A paper listed by title alone may be in the catalog with a link: match the title.
    by_title: dict[str, Paper] = {}
    bare_titles = {e.title for e in entries if _catalog_key(e)[0] == "title"}
    if bare_titles:
        # The catalog's title keys (papers.catalog), in one indexed query; an arXiv row first.
        keys = {key for title in bare_titles for key in title_keys(title)}
        matches = Paper.objects.filter(Q(title_key__in=keys) | Q(short_title_key__in=keys))
        for paper in matches.order_by(F("fetched_at").desc(nulls_last=True), "id")[:MAX_MATCHES]:
            for title in bare_titles:
                if titles_match(title, paper.title):
                    by_title.setdefault(title_key(title), paper)

    suggestions = {
        s.paper_id: s
        for s in Suggestion.objects.filter(club=club).prefetch_related(
            Prefetch("track_entries", queryset=TrackEntry.objects.select_related("track"))
        )
    }
    # Sections that differ only in case are one track: the club's own spelling, else the
    # list's first.
    section_names = {t.title.casefold(): t.title for t in Track.objects.filter(club=club)}
    existing_tracks = set(section_names)
    for section in parsed.sections:
        section_names.setdefault(section.casefold(), section)
    entries = [replace(e, section=section_names.get(e.section.casefold(), "")) for e in entries]

    planned, lookups, arxiv_down = [], 0, False
    listed: dict[tuple, int] = {}  # the paper (or its key) -> the line that listed it first
    for entry in entries:
        kind, key = _catalog_key(entry)
        paper = by_arxiv.get(key) if kind == "arxiv" else by_url.get(key)
        if paper is None and kind == "title":
            paper = by_title.get(key)
        details = None
        if paper is None and not entry.title:
            if arxiv_down or lookups >= ARXIV_LOOKUPS:
                problems.append(Problem(entry.line, entry.arxiv_id or "", _NO_TITLE_LOOKUP))
                continue
            lookups += 1
            try:
                details = arxiv_details(entry.arxiv_id)
            except arxiv.ArxivUnavailable:
                arxiv_down = True
                problems.append(Problem(entry.line, entry.arxiv_id or "", _NO_TITLE_LOOKUP))
                continue
            except arxiv.ArxivError as error:
                problems.append(Problem(entry.line, entry.arxiv_id or "", error.message))
                continue
        same = ("paper", paper.pk) if paper is not None else (kind, key)
        if same in listed:
            problems.append(
                Problem(entry.line, entry.title, f"Already listed on line {listed[same]}.")
            )
            continue
        listed[same] = entry.line
        suggestion = suggestions.get(paper.pk) if paper is not None else None
        if suggestion is not None and suggestion.state == Suggestion.State.WITHDRAWN:
            problems.append(Problem(entry.line, entry.title, _WITHDRAWN))
            continue
        in_track = suggestion is not None and any(
            te.track.title.casefold() == entry.section.casefold()
            for te in suggestion.track_entries.all()
        )
        planned.append(
            PlannedPaper(
                entry=entry,
                paper=paper,
                suggestion=suggestion,
                details=details,
                adds_to_track=bool(entry.section) and suggestion is not None and not in_track,
            )
        )
    new_tracks = tuple(
        dict.fromkeys(
            entry.section
            for entry in entries
            if entry.section and entry.section.casefold() not in existing_tracks
        )
    )
    problems.sort(key=lambda p: p.line)
    return ImportPlan(
        title=parsed.title, papers=tuple(planned), problems=tuple(problems), new_tracks=new_tracks
    )


_WITHDRAWN = "The club took this paper off its list earlier; suggest it again to bring it back."
_NO_TITLE_LOOKUP = (
    "This line has an arXiv ID but no title, and arXiv could not be asked for it. "
    "Add the title to the line."
)


def _catalog_key(entry: Entry) -> tuple[str, str]:
    if entry.arxiv_id:
        return "arxiv", entry.arxiv_id
    if entry.url:
        try:
            return "url", normalize_url(entry.url)
        except ValueError:
            pass
    return "title", title_key(entry.title)


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


__all__ = ["ImportPlan", "PlannedPaper", "ReadingListError", "plan_import"]
