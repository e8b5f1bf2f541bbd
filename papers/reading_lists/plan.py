"""What importing a reading list into a club would do. Reads only; `services` writes it.

Papers are matched to the catalog by arXiv ID, then normalized URL, then normalized title
(papers.titles: case, punctuation, hyphens, a nickname prefix). A paper given by title alone
that the catalog does not have is looked up on arXiv by title, a paper given by ID alone by
ID (at most ARXIV_LOOKUPS per list, cached; offline nothing waits and the entry stays as it
is). A person can untick a title match and tick in a line that was skipped as prose.
"""

import logging
from dataclasses import dataclass, field, replace

from django.core.cache import cache
from django.core.validators import URLValidator, ValidationError
from django.db.models import Prefetch, Q

from clubs.models import Club
from paperclub.text import strip_control
from papers import arxiv
from papers.catalog import club_copy
from papers.identifiers import arxiv_url, normalize_url
from papers.models import Paper, PaperLink, Suggestion, Track, TrackEntry
from papers.reading_lists.items import Entry, Material, Problem
from papers.reading_lists.parse import parse_reading_list
from papers.titles import title_key, title_keys, title_url_key, titles_match

logger = logging.getLogger(__name__)

ARXIV_LOOKUPS = 25  # lookups on arXiv per import (by ID or by title), at most
ARXIV_CACHE_SECONDS = 24 * 3600
MAX_MATCHES = 5000  # catalog rows matched by title in one import
LABEL_MAX = 60  # PaperLink.label
LINK_MAX = 500  # PaperLink.url, Paper.url
PITCH_MAX = 500  # Suggestion.pitch
MAX_LINKS = 12  # labeled links kept with one paper (papers.services.MAX_LINKS)


@dataclass(frozen=True)
class PlannedPaper:
    """One paper of the list and what importing it does."""

    entry: Entry
    paper: Paper | None  # the catalog's row, when it has one
    suggestion: Suggestion | None  # the club's row, when the club has the paper
    details: arxiv.ArxivMetadata | None = None  # from arXiv, for a paper given only by ID
    found: arxiv.ArxivMetadata | None = None  # arXiv's paper for a title-only entry
    new_sections: tuple[str, ...] = ()  # tracks it joins (all of them for a new paper)
    ticked_in: bool = False  # skipped as prose, and ticked in by a person

    @property
    def title(self) -> str:
        """The title the club will see: its own for a paper it has; arXiv's for a paper
        arXiv confirmed; else the list's. A catalog row arXiv has not confirmed holds a
        title another club typed, which this club is not shown."""
        if self.suggestion is not None:
            return self.suggestion.display_title
        if self.paper is not None and self.paper.from_arxiv and self.paper.title:
            return self.paper.title
        if self.entry.title:
            return self.entry.title
        if self.details is not None:
            return self.details.title
        return self.paper.title if self.paper is not None else ""

    @property
    def year(self) -> int | None:
        year = self.entry.year
        return year if year and 1900 <= year <= 2100 else None

    @property
    def held_links(self) -> tuple[Material, ...]:
        """The list's links the club's copy of the paper has already."""
        if self.suggestion is None:
            return ()
        held = {link.url for link in self.suggestion.links.all()}
        return tuple(m for m in self.entry.materials if m.url in held)

    @property
    def new_links(self) -> tuple[Material, ...]:
        """The list's links the import adds, within MAX_LINKS per paper."""
        held = {link.url for link in self.suggestion.links.all()} if self.suggestion else set()
        fresh = tuple(dict((m.url, m) for m in self.entry.materials if m.url not in held).values())
        return fresh[: max(MAX_LINKS - len(held), 0)]

    @property
    def dropped_links(self) -> tuple[Material, ...]:
        """The list's links over the limit, which are not kept."""
        kept = {m.url for m in (*self.held_links, *self.new_links)}
        return tuple(m for m in self.entry.materials if m.url not in kept)

    @property
    def filled_details(self) -> dict:
        """The authors and year the import writes into the club's copy of a paper it has:
        only where that copy is empty, and only what does not merely repeat arXiv's."""
        if self.suggestion is None or self.paper is None:
            return {}
        copy = club_copy(self.paper, authors=self.entry.authors, year=self.year)
        filled = {}
        if copy["authors"] and not self.suggestion.authors:
            filled["authors"] = copy["authors"]
        if copy["year"] and self.suggestion.year is None:
            filled["year"] = copy["year"]
        return filled

    @property
    def adds_details(self) -> bool:
        """For a paper the club has: links or details the import adds to it."""
        return not self.is_new and bool(self.new_links or self.filled_details)

    @property
    def is_new(self) -> bool:
        return self.suggestion is None

    @property
    def adds_to_track(self) -> bool:
        return not self.is_new and bool(self.new_sections)

    @property
    def note(self) -> str:
        """The relative links the list gave and no base URL resolved, as text."""
        return f"Links in the list: {', '.join(self.entry.notes)}" if self.entry.notes else ""

    @property
    def pitch(self) -> str:
        """The suggestion's pitch: the takeaway, else the summary when no track holds it;
        a paper in no track keeps its unresolved links here too."""
        entry = self.entry
        text = entry.takeaway or ("" if entry.sections else entry.summary)
        if self.note and not entry.sections:
            text = f"{text} ({self.note})" if text else self.note
        return text[:PITCH_MAX]

    @property
    def status(self) -> str:
        if self.is_new:
            return "in the catalog, new to this club" if self.paper else "new"
        state = self.suggestion.get_state_display().lower()
        if self.new_sections:
            names = ", ".join(f"“{name}”" for name in self.new_sections)
            return f"already on the list ({state}); added to {names}"
        return f"already on the list ({state})"

    @property
    def placement(self) -> list[tuple[str, str]]:
        """Where each piece of the entry's text goes, for the preview: what the import
        writes, and for a paper the club has, what it leaves as the club has it."""
        if not self.is_new:
            return self._placement_held()
        entry = self.entry
        pieces = [("title", self.title)]
        if entry.arxiv_id:
            pieces.append(("arXiv", entry.arxiv_id))
        if entry.year:
            pieces.append(("year" if self.year else "year (not kept: not a year)", str(entry.year)))
        if entry.authors:
            pieces.append(("authors", entry.authors))
        if entry.takeaway:
            pieces.append(("takeaway", entry.takeaway))
        if entry.summary:
            where = "track summary" if entry.sections else "pitch"
            cut = len(entry.summary) > PITCH_MAX and not entry.sections
            pieces.append((where + (" (first 500 characters)" if cut else ""), entry.summary))
        self._link_pieces(pieces)
        if entry.sections:
            pieces.append(("tracks", ", ".join(entry.sections)))
        if entry.notes:
            where = "track further reading" if entry.sections else "pitch"
            pieces.append((f"relative links (in the {where})", ", ".join(entry.notes)))
        return pieces

    def _placement_held(self) -> list[tuple[str, str]]:
        entry, filled = self.entry, self.filled_details
        kept = "not kept: already on the list"
        pieces = [("title (the club's)", self.title)]
        if entry.arxiv_id:
            pieces.append(("arXiv", entry.arxiv_id))
        for name in ("year", "authors"):
            value = getattr(entry, name)
            if not value:
                continue
            if name in filled:
                pieces.append((name, str(value)))
            elif str(getattr(self.suggestion, name) or "") == str(value):
                pieces.append((f"{name} (the club's copy has it already)", str(value)))
            elif getattr(self.suggestion, name):
                pieces.append((f"{name} (not kept: the club's copy has its own)", str(value)))
            else:
                pieces.append((f"{name} (not kept: arXiv's are shown)", str(value)))
        if entry.takeaway:
            pieces.append((f"takeaway ({kept})", entry.takeaway))
        if entry.summary:
            where = "track summary" if self.new_sections else f"summary ({kept})"
            pieces.append((where, entry.summary))
        self._link_pieces(pieces)
        if self.new_sections:
            pieces.append(("tracks", ", ".join(self.new_sections)))
        if entry.notes:
            where = "track further reading" if self.new_sections else kept
            pieces.append((f"relative links ({where})", ", ".join(entry.notes)))
        return pieces

    def _link_pieces(self, pieces: list[tuple[str, str]]) -> None:
        if self.new_links:
            pieces.append(("links", ", ".join(m.label for m in self.new_links)))
        if self.held_links:
            held = ", ".join(m.label for m in self.held_links)
            pieces.append(("links (the paper has them already)", held))
        if self.dropped_links:
            dropped = ", ".join(m.label for m in self.dropped_links)
            pieces.append((f"links (not kept: {MAX_LINKS} per paper at most)", dropped))


@dataclass(frozen=True)
class ImportPlan:
    title: str
    papers: tuple[PlannedPaper, ...]
    problems: tuple[Problem, ...]
    new_tracks: tuple[str, ...] = field(default=())
    # Lines that are not papers; those with an entry can be ticked in.
    skipped: tuple[Problem, ...] = field(default=())
    questions: tuple[str, ...] = field(default=())  # discussion questions offered to the club
    base_url: str = ""  # the base URL relative links were resolved against

    @property
    def new(self) -> list[PlannedPaper]:
        return [p for p in self.papers if p.is_new]

    @property
    def duplicates(self) -> list[PlannedPaper]:
        return [p for p in self.papers if not p.is_new]

    @property
    def matched_on_arxiv(self) -> list[PlannedPaper]:
        return [p for p in self.papers if p.found is not None]

    @property
    def track_additions(self) -> int:
        return sum(len(p.new_sections) for p in self.papers)

    @property
    def changes_anything(self) -> bool:
        return bool(
            self.new
            or self.new_tracks
            or self.track_additions
            or any(p.adds_details for p in self.papers)
        )


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


def _catalog_by_title(titles: set[str]) -> dict[str, Paper]:
    """Catalog papers for titles typed without a link, by title: one query for all."""
    keys = set().union(*(title_keys(t) for t in titles)) if titles else set()
    if not keys:
        return {}
    rows = Paper.objects.filter(Q(title_key__in=keys) | Q(short_title_key__in=keys))
    rows = list(rows.order_by("fetched_at", "arxiv_id", "id")[:MAX_MATCHES])
    # An arXiv-confirmed row first, then any arXiv row, then the oldest.
    rows.sort(key=lambda p: (p.fetched_at is None, p.arxiv_id is None, p.pk))
    found = {}
    for title in titles:
        paper = next((p for p in rows if titles_match(title, p.title)), None)
        if paper is not None:
            found[title] = paper
    return found


def plan_import(
    *,
    club: Club,
    text: str,
    base_url: str = "",
    include: frozenset[int] = frozenset(),
    reject_matches: frozenset[int] = frozenset(),
) -> ImportPlan:
    """What importing `text` into the club would create, skip and refuse. Writes nothing.

    `base_url` resolves relative links (else the one the list names, if any); `include`
    holds the lines of skipped entries a person ticked in; `reject_matches` the lines whose
    arXiv match by title a person unticked. Raises ReadingListError for text that cannot be
    read as a list at all.
    """
    parsed = parse_reading_list(text, base_url=base_url)
    if not base_url and parsed.base_url and any(e.notes for e in parsed.entries):
        parsed = parse_reading_list(text, base_url=parsed.base_url)
    problems = list(parsed.problems)
    ticked = [p.entry for p in parsed.skipped if p.entry is not None and p.line in include]
    skipped = [p for p in parsed.skipped if not (p.entry is not None and p.line in include)]
    ticked_lines = {entry.line for entry in ticked}
    entries = []
    for entry in sorted([*parsed.entries, *ticked], key=lambda e: e.line):
        materials, dropped = _usable_materials(entry)
        problems += dropped
        url = entry.url if len(entry.url) <= LINK_MAX else ""
        entries.append(replace(entry, materials=materials, url=url))

    # Title-only entries: the catalog first (where the title ends is the catalog's reading
    # when it knows one of the others), then arXiv, within the lookup budget.
    bare = {e.title for e in entries if _catalog_key(e)[0] == "title" and e.title}
    bare |= {t for e in entries if e.title in bare for t, _ in e.alternatives}
    by_title = _catalog_by_title(bare)
    for index, entry in enumerate(entries):
        if entry.title in by_title or entry.arxiv_id or entry.url:
            continue
        known = next(((t, k) for t, k in entry.alternatives if t in by_title), None)
        if known is not None:
            entries[index] = replace(entry, title=known[0], takeaway=known[1] or entry.takeaway)
    lookups, arxiv_down = 0, False
    found: dict[int, arxiv.ArxivMetadata] = {}
    for index, entry in enumerate(entries):
        if _catalog_key(entry)[0] != "title" or entry.title in by_title or not entry.title:
            continue
        if arxiv_down or lookups >= ARXIV_LOOKUPS:
            break
        lookups += 1
        try:
            match = arxiv.search_title(entry.title)
        except arxiv.ArxivUnavailable:
            arxiv_down = True
            continue
        if match is not None:
            found[entry.line] = match
            if entry.line not in reject_matches:
                entries[index] = replace(
                    entry, arxiv_id=match.arxiv_id, url=arxiv_url(match.arxiv_id)
                )

    keys = {_catalog_key(entry) for entry in entries}
    arxiv_ids = [key for kind, key in keys if kind == "arxiv"]
    url_keys = [key for kind, key in keys if kind == "url"]
    by_arxiv = {p.arxiv_id: p for p in Paper.objects.filter(arxiv_id__in=arxiv_ids)}
    by_url = {
        p.url_key: p for p in Paper.objects.filter(arxiv_id__isnull=True, url_key__in=url_keys)
    }
    suggestions = {
        s.paper_id: s
        for s in Suggestion.objects.filter(club=club)
        .select_related("paper")
        .prefetch_related(
            Prefetch("track_entries", queryset=TrackEntry.objects.select_related("track")),
            Prefetch("links", queryset=PaperLink.objects.only("suggestion_id", "url")),
        )
    }
    # Sections that differ only in case are one track: the club's own spelling, else the
    # list's first.
    section_names = {t.title.casefold(): t.title for t in Track.objects.filter(club=club)}
    existing_tracks = set(section_names)
    for entry in entries:
        for section in entry.sections:
            section_names.setdefault(section.casefold(), section)

    def spelled(entry: Entry) -> Entry:
        sections = tuple(dict.fromkeys(section_names[s.casefold()] for s in entry.sections))
        return replace(entry, section=sections[0] if sections else "", sections=sections)

    entries = [spelled(e) for e in entries]

    planned = []
    listed: dict[tuple, int] = {}  # the paper (or its key) -> index in planned
    for entry in entries:
        kind, key = _catalog_key(entry)
        paper = by_arxiv.get(key) if kind == "arxiv" else by_url.get(key)
        if paper is None and kind == "title":
            paper = by_title.get(entry.title)
        details = None
        if paper is None and entry.arxiv_id and entry.line in found:
            details = found[entry.line]
        elif paper is None and not entry.title:
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
            # Listed twice (by title here, by link there): one paper, in every track named.
            index = listed[same]
            earlier = planned[index]
            more = tuple(s for s in entry.sections if s not in earlier.entry.sections)
            if not more:
                problems.append(
                    Problem(
                        entry.line,
                        entry.title,
                        f"Already listed on line {earlier.entry.line}.",
                    )
                )
                continue
            merged = replace(earlier.entry, sections=(*earlier.entry.sections, *more))
            planned[index] = replace(
                earlier, entry=merged, new_sections=_new_sections(merged, earlier.suggestion)
            )
            continue
        listed[same] = len(planned)
        suggestion = suggestions.get(paper.pk) if paper is not None else None
        if suggestion is not None and suggestion.state == Suggestion.State.WITHDRAWN:
            problems.append(Problem(entry.line, entry.title, _WITHDRAWN))
            continue
        planned.append(
            PlannedPaper(
                entry=entry,
                paper=paper,
                suggestion=suggestion,
                details=details,
                found=found.get(entry.line),
                new_sections=_new_sections(entry, suggestion),
                ticked_in=entry.line in ticked_lines,
            )
        )
    # A title match a person unticked is still shown, so it can be ticked again.
    planned = [
        replace(p, found=found[p.entry.line]) if p.entry.line in found and not p.found else p
        for p in planned
    ]
    wanted = {s.casefold() for p in planned for s in p.new_sections}
    order = [section_names[s.casefold()] for s in parsed.sections if s.casefold() in wanted]
    order += [s for p in planned for s in p.new_sections]  # in the order the list gives them
    new_tracks = tuple(dict.fromkeys(s for s in order if s.casefold() not in existing_tracks))
    problems.sort(key=lambda p: p.line)
    return ImportPlan(
        title=parsed.title,
        papers=tuple(planned),
        problems=tuple(problems),
        new_tracks=new_tracks,
        skipped=tuple(skipped),
        questions=parsed.questions,
        base_url=base_url or parsed.base_url,
    )


def _new_sections(entry: Entry, suggestion: Suggestion | None) -> tuple[str, ...]:
    if suggestion is None:
        return entry.sections
    held = {te.track.title.casefold() for te in suggestion.track_entries.all()}
    return tuple(s for s in entry.sections if s.casefold() not in held)


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
    return "title", title_url_key(entry.title)


__all__ = ["ImportPlan", "PlannedPaper", "plan_import", "title_key"]
