"""The shared catalog: one Paper row per real paper, and each club's own copy of its details.

- Matching: a title matches a catalog paper by its normalized keys (papers.titles), in
  one indexed query (`find_by_title`).
- The display rule: what a member types is the club's copy, kept on the Suggestion; the
  shared row holds what arXiv said (`club_copy`, Suggestion.display_title).
- Merging: two rows for one paper become one, with every suggestion, vote, ranking,
  tally, track entry, read mark, link and session moved (`merge_papers`).
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, Value, When

from paperclub import cache
from papers.models import (
    AUTHORS_MAX,
    TITLE_MAX,
    Paper,
    PaperLink,
    Poll,
    Ranking,
    ReadMark,
    Suggestion,
    Tally,
    TrackEntry,
    Vote,
)
from papers.titles import (
    TITLE_URL_PREFIX,
    short_title_key,
    title_key,
    title_keys,
    title_url_key,
    titles_match,
)

__all__ = [
    "CatalogConflict",
    "ClubDetails",
    "club_copy",
    "duplicate_pairs",
    "find_by_title",
    "forget_stand_ins",
    "merge_papers",
    "merge_suggestions",
    "paper_for_title",
    "rekey_title_only",
    "title_key",
    "title_keys",
    "title_url_key",
    "titles_match",
]

State = Suggestion.State
# How far a suggestion has come: a merge keeps the furthest.
STATE_ORDER = {State.WITHDRAWN: 0, State.OPEN: 1, State.CHOSEN: 2, State.READ: 3}


@dataclass(frozen=True)
class ClubDetails:
    """A club's copy of a paper's details, as an organizer corrects it."""

    title: str
    authors: str
    year: int | None


@dataclass(frozen=True)
class SharedDetails:
    """A paper's details as one club may see them (the link check on the suggest form)."""

    title: str
    authors: str
    year: int | None
    abstract: str

    @classmethod
    def of(cls, paper: Paper) -> "SharedDetails | None":
        """What every club may see of a catalog row: what arXiv said, or nothing."""
        if not paper.from_arxiv:
            return None
        return cls(paper.title, paper.authors, paper.year, paper.abstract)

    @classmethod
    def of_suggestion(cls, suggestion: Suggestion) -> "SharedDetails":
        """What the suggestion's club sees: its own copy, else arXiv's."""
        abstract = suggestion.paper.abstract if suggestion.paper.from_arxiv else ""
        return cls(
            suggestion.display_title,
            suggestion.display_authors,
            suggestion.display_year,
            abstract,
        )


class CatalogConflict(ValueError):
    """Two rows that cannot be one paper (two different arXiv IDs, or one row twice)."""


def _title_match(title: str) -> Q | None:
    full, short = title_key(title), short_title_key(title)
    if not full:
        return None
    match = Q(title_key=full) | Q(short_title_key=full)
    if short:
        match |= Q(title_key=short)
    return match


def _preference():
    """arXiv-confirmed rows first, then other arXiv rows, then linked, then title-only."""
    return Case(
        When(fetched_at__isnull=False, then=Value(0)),
        When(arxiv_id__isnull=False, then=Value(1)),
        When(url_key__startswith=TITLE_URL_PREFIX, then=Value(3)),
        default=Value(2),
        output_field=IntegerField(),
    )


def matching_title(title: str):
    """Catalog papers whose title matches `title` (the rule of papers.titles.titles_match),
    best first: an arXiv-backed row before a row typed by hand."""
    match = _title_match(title)
    if match is None:
        return Paper.objects.none()
    return Paper.objects.filter(match).order_by(_preference(), "id")


def find_by_title(title: str) -> Paper | None:
    """The catalog paper with a matching title, preferring an arXiv-backed row; None when
    the catalog has none (or the title has no letter or digit). One query."""
    return matching_title(title).first()


@transaction.atomic
def paper_for_title(title: str) -> Paper:
    """The catalog paper with this title (find_by_title), or a new title-only row for it.

    Side effects: at most one Paper row.
    """
    title = " ".join((title or "").split())[:TITLE_MAX]
    if not title_key(title):
        raise CatalogConflict("A title needs at least one letter or digit.")
    found = find_by_title(title)
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Paper.objects.create(title=title, url="", url_key=title_url_key(title))
    except IntegrityError:  # the same title a moment ago, from another request
        return find_by_title(title)


def club_copy(paper: Paper, *, title: str = "", authors: str = "", year: int | None = None):
    """The fields of a club's Suggestion for what a member typed about `paper`.

    The typed details are the club's own. Where they only repeat what arXiv says they are
    left blank, so the club follows the catalog. A paper arXiv has not confirmed needs the
    club's own title (the callers refuse a blank one): its shared row's title was typed by
    whichever club came first, and is not shown to another club.
    """
    title = " ".join((title or "").split())
    authors = " ".join((authors or "").split())
    if paper.from_arxiv:
        if title_key(title) == paper.title_key:
            title = ""
        if title_key(authors) == title_key(paper.authors):
            authors = ""
        if year == paper.year:
            year = None
    return {"title": title[:TITLE_MAX], "authors": authors[:AUTHORS_MAX], "year": year}


def forget_stand_ins(paper: Paper) -> int:
    """Once arXiv has confirmed a paper, a club's copy that only repeats arXiv's details
    (typed while arXiv could not be reached) is cleared, so the club follows arXiv.
    A copy that says something else stays: it is the club's. Returns how many changed.
    Side effects: Suggestion.title/authors/year of the paper's suggestions."""
    if not paper.from_arxiv:
        return 0
    changed = 0
    for suggestion in Suggestion.objects.filter(paper=paper).exclude(
        title="", authors="", year__isnull=True
    ):
        copy = club_copy(
            paper, title=suggestion.title, authors=suggestion.authors, year=suggestion.year
        )
        if (copy["title"], copy["authors"], copy["year"]) != (
            suggestion.title,
            suggestion.authors,
            suggestion.year,
        ):
            Suggestion.objects.filter(pk=suggestion.pk).update(**copy)
            changed += 1
    return changed


def _rank(paper: Paper) -> tuple[int, int]:
    """The order _preference() gives, for a row already read: lower is the better survivor."""
    if paper.from_arxiv:
        kind = 0
    elif paper.arxiv_id is not None:
        kind = 1
    elif paper.title_only:
        kind = 3
    else:
        kind = 2
    return kind, paper.pk


def duplicate_pairs() -> list[tuple[Paper, Paper]]:
    """(survivor, duplicate) for every title-only row that another catalog row has the same
    title as (titles_match): the survivor is the best such row (arXiv-confirmed, then
    arXiv, then linked, then the oldest title-only). Rows with an identity of their own (an
    arXiv ID, a link) are never a duplicate of each other: two IDs are two papers."""
    pairs = []
    merged: set[int] = set()
    for row in Paper.objects.title_only().order_by("id").iterator():
        if row.pk in merged:
            continue
        # matching_title is the titles_match rule in SQL, best first (_preference).
        best = matching_title(row.title).exclude(pk=row.pk).exclude(pk__in=merged).first()
        if best is not None and _rank(best) < _rank(row):
            pairs.append((best, row))
            merged.add(row.pk)
    return pairs


def rekey_title_only() -> int:
    """Give title-only rows still keyed the older way the current key (title_url_key), where
    no other row has it. Returns how many changed. Side effects: Paper.url_key."""
    changed = 0
    for paper in Paper.objects.title_only().order_by("id"):
        key = title_url_key(paper.title)
        if paper.url_key == key:
            continue
        if Paper.objects.filter(arxiv_id__isnull=True, url_key=key).exists():
            continue  # a duplicate that merge_papers has not merged (it refused)
        Paper.objects.filter(pk=paper.pk).update(url_key=key)
        changed += 1
    return changed


@transaction.atomic
def merge_papers(*, survivor: Paper, duplicate: Paper) -> Paper:
    """Make two catalog rows for one paper into one: `survivor` stays, `duplicate` goes.

    Every suggestion of the duplicate moves to the survivor; where a club has both, the two
    suggestions become one (merge_suggestions), so no vote is lost or counted twice. arXiv's
    details win over typed ones; a survivor without an arXiv ID takes the duplicate's.
    Raises CatalogConflict for two rows with different arXiv IDs, or one row twice.
    Side effects: Suggestion, Vote, Ranking, Tally, TrackEntry, ReadMark, PaperLink and
    session rows moved or merged; the duplicate Paper row deleted; the survivor updated.
    """
    cache.bump_clubs(
        Suggestion.objects.filter(paper__in=[survivor, duplicate]).values_list("club_id", flat=True)
    )
    if survivor.pk == duplicate.pk:
        raise CatalogConflict("A paper cannot be merged into itself.")
    # Both rows locked, in id order, so two merges of the same pair cannot deadlock.
    rows = Paper.objects.select_for_update().filter(pk__in=[survivor.pk, duplicate.pk])
    locked = {p.pk: p for p in rows.order_by("pk")}
    if len(locked) != 2:
        raise CatalogConflict("One of the papers is no longer in the catalog.")
    survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
    if survivor.arxiv_id and duplicate.arxiv_id and survivor.arxiv_id != duplicate.arxiv_id:
        raise CatalogConflict(
            f"arXiv:{survivor.arxiv_id} and arXiv:{duplicate.arxiv_id} are two papers."
        )
    for suggestion in Suggestion.objects.select_for_update().filter(paper=duplicate):
        if not suggestion.title and not duplicate.from_arxiv:
            # It showed the duplicate's typed title; it keeps showing it.
            suggestion.title = duplicate.title
        kept = (
            Suggestion.objects.select_for_update()
            .filter(club=suggestion.club_id, paper=survivor)
            .first()
        )
        if kept is None:
            suggestion.paper = survivor
            suggestion.save(update_fields=["paper", "title"])
        else:
            merge_suggestions(keep=kept, drop=suggestion)

    takes_identity = survivor.arxiv_id is None and duplicate.arxiv_id is not None
    takes_details = duplicate.from_arxiv and not survivor.from_arxiv
    arxiv_id, url, fetched = duplicate.arxiv_id, duplicate.url, duplicate.fetched_at
    details = {f: getattr(duplicate, f) for f in ("title", "authors", "year", "abstract")}
    if not survivor.from_arxiv and not duplicate.from_arxiv:
        # Neither is confirmed: keep the survivor's typed title, take the missing link.
        survivor.url = survivor.url or duplicate.url
    duplicate.delete()
    if takes_identity:
        survivor.arxiv_id, survivor.url, survivor.url_key = arxiv_id, url, None
    if takes_details:
        for field, value in details.items():
            setattr(survivor, field, value)
        survivor.fetched_at = fetched
    if survivor.title_only:
        survivor.url_key = title_url_key(survivor.title)
    survivor.save()
    forget_stand_ins(survivor)
    return survivor


@transaction.atomic
def merge_suggestions(*, keep: Suggestion, drop: Suggestion) -> Suggestion:
    """Make one club's two suggestions of one paper into one: `keep` stays.

    The furthest state wins (read, chosen, open, withdrawn); the earlier suggester and date,
    and the first non-blank takeaway and club copy of the details, are kept. A member who
    voted for (or ranked, or marked as read) both keeps one vote (ranking: the better
    place; their ballot is renumbered). In a closed poll where both stood, one tally stays:
    the votes of distinct members (first choices, for ranked polls) at the better rank.
    Side effects: `keep` updated; the Vote, Ranking, Tally, TrackEntry, ReadMark, PaperLink
    and session rows of `drop` moved to `keep` or deleted; `drop` deleted.
    """
    cache.bump_clubs([keep.club_id])
    if keep.club_id != drop.club_id or keep.pk == drop.pk:
        raise CatalogConflict("Only two suggestions of one club can be merged.")
    if STATE_ORDER[State(drop.state)] > STATE_ORDER[State(keep.state)]:
        keep.state = drop.state
    if drop.created_at < keep.created_at:
        keep.created_at, keep.suggested_by_id = drop.created_at, drop.suggested_by_id
    keep.takeaway = keep.takeaway or drop.takeaway
    keep.title = keep.title or drop.title
    keep.authors = keep.authors or drop.authors
    keep.year = keep.year or drop.year

    same_vote = Vote.objects.filter(
        suggestion=keep, poll=OuterRef("poll"), membership=OuterRef("membership")
    )
    Vote.objects.filter(suggestion=drop).filter(Exists(same_vote)).delete()
    Vote.objects.filter(suggestion=drop).update(suggestion=keep)

    _merge_rankings(keep, drop)
    _merge_tallies(keep, drop)
    Poll.objects.filter(winner=drop).update(winner=keep)

    for entry in TrackEntry.objects.filter(suggestion=drop):
        other = TrackEntry.objects.filter(track=entry.track_id, suggestion=keep).first()
        if other is None:
            TrackEntry.objects.filter(pk=entry.pk).update(suggestion=keep)
            continue
        other.summary = other.summary or entry.summary
        other.further_reading = other.further_reading or entry.further_reading
        other.position = min(other.position, entry.position)
        entry.delete()
        other.save(update_fields=["summary", "further_reading", "position"])

    same_mark = ReadMark.objects.filter(suggestion=keep, membership=OuterRef("membership"))
    ReadMark.objects.filter(suggestion=drop).filter(Exists(same_mark)).delete()
    ReadMark.objects.filter(suggestion=drop).update(suggestion=keep)

    same_link = PaperLink.objects.filter(suggestion=keep, url=OuterRef("url"))
    PaperLink.objects.filter(suggestion=drop).filter(Exists(same_link)).delete()
    PaperLink.objects.filter(suggestion=drop).update(suggestion=keep)

    through = Suggestion.meetings.through
    same_meeting = through.objects.filter(suggestion=keep, meeting=OuterRef("meeting"))
    through.objects.filter(suggestion=drop).filter(Exists(same_meeting)).delete()
    through.objects.filter(suggestion=drop).update(suggestion=keep)

    drop.delete()
    keep.save()
    return keep


def _merge_rankings(keep: Suggestion, drop: Suggestion) -> None:
    ballots = set(Ranking.objects.filter(suggestion=drop).values_list("poll_id", "membership_id"))
    for poll_id, membership_id in ballots:
        ballot = Ranking.objects.filter(poll_id=poll_id, membership_id=membership_id)
        order: list[int] = []
        for pk in ballot.order_by("position").values_list("suggestion_id", flat=True):
            pk = keep.pk if pk == drop.pk else pk
            if pk not in order:  # ranked twice: the better place stays
                order.append(pk)
        ballot.delete()
        Ranking.objects.bulk_create(
            Ranking(poll_id=poll_id, membership_id=membership_id, suggestion_id=pk, position=n)
            for n, pk in enumerate(order, start=1)
        )


def _merge_tallies(keep: Suggestion, drop: Suggestion) -> None:
    for tally in Tally.objects.filter(suggestion=drop).select_related("poll"):
        other = Tally.objects.filter(poll=tally.poll_id, suggestion=keep).first()
        if other is None:
            Tally.objects.filter(pk=tally.pk).update(suggestion=keep)
            continue
        if tally.poll.is_ranked:
            votes = other.votes + tally.votes  # one first choice per ballot
        else:
            # Votes were moved already, a member's two votes made one.
            votes = Vote.objects.filter(poll=tally.poll_id, suggestion=keep).count()
        rank = min(other.rank, tally.rank)
        other.votes = votes
        other.earlier_ballots = max(other.earlier_ballots, tally.earlier_ballots)
        tally.delete()
        other.rank = rank
        other.save(update_fields=["votes", "earlier_ballots", "rank"])
