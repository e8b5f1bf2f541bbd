"""Writes for papers, suggestions, tracks and read marks. Each runs in one transaction."""

from django.db import IntegrityError, models, transaction
from django.db.models import Max
from django.utils import timezone

from clubs.models import Club, Membership
from paperclub import cache
from paperclub.errors import RuleViolation
from paperclub.text import checked_text, one_line
from paperclub.when import DATE, when_text
from papers import arxiv, catalog, votes
from papers.identifiers import arxiv_url, normalize_arxiv_id, normalize_url
from papers.models import (
    AUTHORS_MAX,
    PITCH_MAX,
    TAKEAWAY_MAX,
    TEXT_MAX,
    TITLE_MAX,
    Paper,
    PaperLink,
    Ranking,
    ReadMark,
    Suggestion,
    Track,
    TrackEntry,
)
from papers.tasks import queue_refresh

State = Suggestion.State

MAX_LINK = 500  # Paper.url and Paper.url_key hold this many characters


class DuplicateSuggestion(RuleViolation):
    """The club already has this paper. `suggestion` is the row it has."""

    def __init__(self, suggestion: Suggestion):
        self.suggestion = suggestion
        super().__init__(duplicate_message(suggestion), status=409)


def last_session(suggestion: Suggestion):
    """The latest session that read or will read this suggestion, if any."""
    return suggestion.meetings.order_by("-starts_at").first()


def duplicate_message(suggestion: Suggestion) -> str:
    """Why the club does not take this paper again, with dates in the reader's zone."""
    tz = suggestion.club.tz
    if suggestion.state == State.READ:
        meeting = last_session(suggestion)
        if meeting:
            day = when_text(meeting.starts_at, club_zone=tz, style=DATE)
            return f"The club already read this on {day}, session #{meeting.number}."
        return "The club already read this."
    if suggestion.state == State.CHOSEN:
        return "This paper is already chosen for an upcoming session."
    who = suggestion.suggested_by or "a former member"
    day = when_text(suggestion.created_at, club_zone=tz, style=DATE)
    return f"Already suggested by {who} on {day}."


def identify_paper(link: str) -> tuple[str | None, str | None]:
    """(arxiv_id, url_key) for what someone pasted, or a RuleViolation saying what is wrong."""
    link = (link or "").strip()
    if not link:
        raise RuleViolation("Paste an arXiv ID or a link to the paper.", status=400)
    if len(link) > MAX_LINK or any(ord(c) < 32 or ord(c) == 127 for c in link):
        raise RuleViolation("That link is too long or has control characters.", status=400)
    arxiv_id = normalize_arxiv_id(link)
    if arxiv_id:
        return arxiv_id, None
    if not link.lower().startswith(("http://", "https://")):
        raise RuleViolation(
            "That is neither an arXiv ID (like 2305.18290) nor a web link (https://…).", status=400
        )
    try:
        url_key = normalize_url(link)
    except ValueError:
        raise RuleViolation("That link is not a well-formed web address.", status=400) from None
    if len(url_key) > MAX_LINK:
        raise RuleViolation("That link is too long.", status=400)
    return None, url_key


def find_paper(link: str) -> Paper | None:
    arxiv_id, url_key = identify_paper(link)
    if arxiv_id:
        return Paper.objects.filter(arxiv_id=arxiv_id).first()
    return Paper.objects.filter(arxiv_id__isnull=True, url_key=url_key).first()


@transaction.atomic
def get_or_create_paper(*, link: str, title: str) -> Paper:
    """The catalog row for `link`, created when it is new.

    A new row gets the typed title as its stand-in title (its key for matching), nothing
    else typed: authors and year a member types are their club's (catalog.club_copy), and
    arXiv fills the row when it can be reached (fetch_paper).
    Side effects: at most one Paper row.
    """
    arxiv_id, url_key = identify_paper(link)
    existing = find_paper(link)
    if existing:
        return existing
    title = one_line(title)
    if not title:
        raise RuleViolation("Give the paper's title.", status=400)
    url = arxiv_url(arxiv_id) if arxiv_id else link.strip()
    try:
        with transaction.atomic():
            return Paper.objects.create(
                title=checked_text(title, max_length=TITLE_MAX, label="The title"),
                url=url,
                arxiv_id=arxiv_id,
                url_key=url_key,
            )
    except IntegrityError:
        # Someone added the same paper a moment ago: use theirs.
        return find_paper(link)


def fetch_paper(*, arxiv_id: str) -> Paper:
    """The catalog's paper for an arXiv ID, with title, authors, year and abstract from
    the arXiv API. A paper is fetched once, whichever club suggests it.

    arXiv's details are the shared row's: they replace a title typed while arXiv could not
    be reached (each club keeps its own copy on its suggestion), and a title-only row of the
    same paper becomes this one (catalog.merge_papers).
    The request runs outside any transaction, so a slow arXiv holds no locks. Raises
    ArxivError (arXiv unreachable, or no such paper); nothing is written then.
    Side effects: at most one Paper row created or filled; title-only rows of the same
    title merged into it; club copies that only repeat arXiv cleared.
    """
    paper = Paper.objects.filter(arxiv_id=arxiv_id).first()
    if paper is not None and paper.fetched_at is not None:
        return paper
    return confirm_paper(metadata=arxiv.fetch_metadata(arxiv_id))


@transaction.atomic
def confirm_paper(*, metadata: arxiv.ArxivMetadata, paper: Paper | None = None) -> Paper:
    """Write what arXiv said about a paper into the catalog: the row with its arXiv ID (or
    `paper`, a row typed by hand that arXiv turned out to have), as one row.

    Side effects: the Paper row created or its details replaced by arXiv's; `paper` and
    title-only rows with a matching title merged into it; club copies that only repeat
    arXiv cleared (catalog.forget_stand_ins); new versions of the page cache of every club
    with the paper on its list.
    """
    details = {
        "title": metadata.title,
        "authors": metadata.authors,
        "year": metadata.year,
        "abstract": metadata.abstract,
        "url": metadata.url,
    }
    row = Paper.objects.select_for_update().filter(arxiv_id=metadata.arxiv_id).first()
    if row is None and paper is not None:
        row = Paper.objects.select_for_update().filter(pk=paper.pk, arxiv_id__isnull=True).first()
        if row is not None:
            row.arxiv_id, row.url_key = metadata.arxiv_id, None
    if row is None:
        try:
            with transaction.atomic():
                row = Paper.objects.create(
                    arxiv_id=metadata.arxiv_id, fetched_at=timezone.now(), **details
                )
        except IntegrityError:
            row = Paper.objects.select_for_update().get(arxiv_id=metadata.arxiv_id)
    if row.fetched_at is None or row.title != metadata.title:
        for field, value in details.items():
            setattr(row, field, value)
        row.fetched_at = row.fetched_at or timezone.now()
        row.save()
    # matching_title is the titles_match rule in SQL.
    duplicates = list(catalog.matching_title(row.title).title_only())
    if paper is not None and paper.pk != row.pk and paper.pk not in {d.pk for d in duplicates}:
        # arXiv named this row's paper by its ID: it is the same paper, whatever its title.
        duplicates += Paper.objects.filter(pk=paper.pk, arxiv_id__isnull=True)
    for duplicate in duplicates:
        catalog.merge_papers(survivor=row, duplicate=duplicate)
    catalog.forget_stand_ins(row)
    # Every club with the paper on its list shows arXiv's details now.
    cache.bump_clubs(Suggestion.objects.filter(paper=row).values_list("club_id", flat=True))
    return row


def _typed_copy(paper: Paper, *, title: str, authors: str, year: int | None) -> dict:
    """What a member typed about `paper`, by the input rule, as the club's copy."""
    return catalog.club_copy(
        paper,
        title=checked_text(title, max_length=TITLE_MAX, label="The title"),
        authors=checked_text(authors, max_length=AUTHORS_MAX, label="The authors"),
        year=year,
    )


@transaction.atomic
def suggest_paper(
    *,
    club: Club,
    suggested_by,
    link: str,
    pitch: str,
    title: str = "",
    authors: str = "",
    year: int | None = None,
) -> Suggestion:
    """Put a paper on the club's list.

    What the member typed (title, authors, year) is the club's copy of the paper's details
    (catalog.club_copy), shown in this club only; the shared row only arXiv fills. A paper
    arXiv has not confirmed yet is looked up again in the background (papers.tasks).
    Refuses a paper the club already has (open, chosen or read) with DuplicateSuggestion.
    A paper withdrawn earlier is reopened with the new pitch and suggester.
    Side effects: at most one Paper row and one Suggestion row; a refresh task queued.
    """
    cache.bump(cache.ballot_scope(club.pk))
    pitch = checked_text(pitch, max_length=PITCH_MAX, label="The pitch")
    if not pitch:
        raise RuleViolation("Say in a sentence why the club should read this.", status=400)
    paper = get_or_create_paper(link=link, title=title)
    existing = Suggestion.objects.select_for_update().filter(club=club, paper=paper).first()
    if existing and existing.state != State.WITHDRAWN:
        raise DuplicateSuggestion(existing)
    copy = _typed_copy(paper, title=title, authors=authors, year=year)
    if existing and not any(copy.values()):
        # Suggested again without details: the club's copy from before stays.
        copy = {"title": existing.title, "authors": existing.authors, "year": existing.year}
    if not paper.from_arxiv:
        if not copy["title"]:
            # The catalog's title for it was typed by another club: this club types its own.
            raise RuleViolation("Give the paper's title.", status=400)
        queue_refresh(paper)
    if existing:
        existing.state = State.OPEN
        existing.pitch = pitch
        existing.suggested_by = suggested_by
        existing.created_at = timezone.now()
        for field, value in copy.items():
            setattr(existing, field, value)
        existing.save()
        return existing
    try:
        with transaction.atomic():
            return Suggestion.objects.create(
                club=club, paper=paper, suggested_by=suggested_by, pitch=pitch, **copy
            )
    except IntegrityError:
        raise DuplicateSuggestion(Suggestion.objects.get(club=club, paper=paper)) from None


@transaction.atomic
def edit_suggestion(
    *,
    suggestion: Suggestion,
    pitch: str,
    takeaway: str | None = None,
    details: catalog.ClubDetails | None = None,
) -> Suggestion:
    """Change the pitch, and (organizers) the club's takeaway and the club's copy of the
    paper's details: blank title or authors follow arXiv's. The shared row is untouched.
    Side effects: updates the Suggestion.
    """
    cache.bump(cache.ballot_scope(suggestion.club_id))
    pitch = checked_text(pitch, max_length=PITCH_MAX, label="The pitch")
    if not pitch:
        raise RuleViolation("The pitch cannot be empty.", status=400)
    suggestion.pitch = pitch
    if takeaway is not None:
        suggestion.takeaway = checked_text(takeaway, max_length=TAKEAWAY_MAX, label="The takeaway")
    if details is not None:
        paper = suggestion.paper
        copy = _typed_copy(paper, title=details.title, authors=details.authors, year=details.year)
        if not paper.from_arxiv and not copy["title"]:
            raise RuleViolation(
                "Give the paper's title: arXiv has not confirmed this paper yet.", status=400
            )
        for field, value in copy.items():
            setattr(suggestion, field, value)
    suggestion.save(update_fields=["pitch", "takeaway", "title", "authors", "year", "updated_at"])
    return suggestion


@transaction.atomic
def withdraw_suggestion(*, suggestion: Suggestion) -> Suggestion:
    """Take an open suggestion off the list. Its votes in an open poll are removed.

    Side effects: Suggestion.state becomes withdrawn; deletes its votes in unclosed polls,
    and its place on ranked ballots there (the papers below move up).
    """
    cache.bump(cache.ballot_scope(suggestion.club_id))
    suggestion = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
    if suggestion.state != State.OPEN:
        raise RuleViolation("Only open suggestions can be withdrawn.")
    suggestion.state = State.WITHDRAWN
    suggestion.save(update_fields=["state", "updated_at"])
    votes.release_votes(suggestion_ids=[suggestion.pk])
    ballots = Ranking.objects.filter(suggestion=suggestion, poll__closed_at__isnull=True)
    for poll_id, membership_id in set(ballots.values_list("poll_id", "membership_id")):
        ballot = Ranking.objects.filter(poll_id=poll_id, membership_id=membership_id)
        order = [pk for pk in ballot.values_list("suggestion_id", flat=True) if pk != suggestion.pk]
        ballot.delete()
        Ranking.objects.bulk_create(
            Ranking(poll_id=poll_id, membership_id=membership_id, suggestion_id=pk, position=n)
            for n, pk in enumerate(order, start=1)
        )
    return suggestion


# ---------- Tracks ----------

TRACK_TITLE_MAX = 100
MAX_LINKS = 12  # labeled links kept with one paper


def _track_title(title: str) -> str:
    title = one_line(title)
    if not title:
        raise RuleViolation("Give the track a title.", status=400)
    if len(title) > TRACK_TITLE_MAX:
        raise RuleViolation(f"Keep the title to {TRACK_TITLE_MAX} characters.", status=400)
    return title


def _long_text(text: str | None, label: str) -> str:
    return checked_text(text, max_length=TEXT_MAX, label=label, multiline=True)


def _refuse_taken_title(club: Club, title: str, *, exclude: int | None = None) -> None:
    # The database refuses a title that differs only in case (papers_track_unique_title);
    # this says so in words, and also folds non-ASCII letters, which SQLite's lower() does not.
    titles = Track.objects.filter(club=club).exclude(pk=exclude).values_list("title", flat=True)
    if title.casefold() in {taken.casefold() for taken in titles}:
        raise RuleViolation(f"This club already has a track called “{title}”.")


@transaction.atomic
def create_track(*, club: Club, title: str, description: str = "") -> Track:
    """A new track, placed after the club's others.

    Side effects: one Track row.
    """
    title = _track_title(title)
    Club.objects.select_for_update().get(pk=club.pk)  # one position per new track
    _refuse_taken_title(club, title)
    last = Track.objects.filter(club=club).aggregate(last=Max("position"))["last"]
    return Track.objects.create(
        club=club,
        title=title,
        description=_long_text(description, "The description"),
        position=0 if last is None else last + 1,
    )


@transaction.atomic
def edit_track(*, track: Track, title: str, description: str) -> Track:
    """Side effects: Track.title/description."""
    title = _track_title(title)
    Club.objects.select_for_update().get(pk=track.club_id)  # titles change one at a time
    _refuse_taken_title(track.club, title, exclude=track.pk)
    track.title = title
    track.description = _long_text(description, "The description")
    track.save(update_fields=["title", "description"])
    return track


@transaction.atomic
def delete_track(*, track: Track) -> None:
    """Side effects: the Track and its entries go; the papers stay on the club's list."""
    track.delete()


def _swap_position(rows: models.QuerySet, row, direction: str) -> None:
    """Swap `row` with its neighbour above ("up") or below ("down") in `rows`, which are
    ordered by position, then id. Positions are renumbered 0..n-1 first, so gaps and
    equal positions from older data cannot make a move do nothing."""
    if direction not in ("up", "down"):
        raise RuleViolation("Move a row up or down.", status=400)
    ordered = list(rows.select_for_update().order_by("position", "id"))
    index = next((i for i, other in enumerate(ordered) if other.pk == row.pk), None)
    if index is None:
        raise RuleViolation("That row is no longer there.", status=404)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, item in enumerate(ordered):
        if item.position != position:
            item.position = position
    type(row).objects.bulk_update(ordered, ["position"])


@transaction.atomic
def move_track(*, track: Track, direction: str) -> None:
    """Side effects: Track.position of the club's tracks."""
    _swap_position(Track.objects.filter(club=track.club_id), track, direction)


@transaction.atomic
def add_to_track(
    *, track: Track, suggestion: Suggestion, summary: str = "", further_reading: str = ""
) -> TrackEntry:
    """Put a paper of the club's list at the end of a track.

    Side effects: one TrackEntry row.
    """
    if suggestion.club_id != track.club_id:
        raise RuleViolation("That paper is not on this club's list.", status=400)
    if suggestion.state == State.WITHDRAWN:
        raise RuleViolation("That paper was taken off the club's list.", status=400)
    Track.objects.select_for_update().get(pk=track.pk)
    if TrackEntry.objects.filter(track=track, suggestion=suggestion).exists():
        raise RuleViolation(f"“{suggestion.display_title}” is already in this track.")
    last = TrackEntry.objects.filter(track=track).aggregate(last=Max("position"))["last"]
    return TrackEntry.objects.create(
        track=track,
        suggestion=suggestion,
        position=0 if last is None else last + 1,
        summary=_long_text(summary, "The summary"),
        further_reading=_long_text(further_reading, "The further reading"),
    )


@transaction.atomic
def edit_track_entry(
    *,
    entry: TrackEntry,
    summary: str,
    further_reading: str,
    links: list[tuple[str, str]] | None = None,
) -> TrackEntry:
    """The club's summary and further reading for a paper in a track, and the paper's
    labeled links (slides, recording...), which every track and the export share.

    Side effects: TrackEntry.summary/further_reading; the suggestion's PaperLink rows
    replaced when `links` is given.
    """
    entry.summary = _long_text(summary, "The summary")
    entry.further_reading = _long_text(further_reading, "The further reading")
    entry.save(update_fields=["summary", "further_reading"])
    if links is not None:
        set_paper_links(suggestion=entry.suggestion, links=links)
    return entry


@transaction.atomic
def set_paper_links(*, suggestion: Suggestion, links: list[tuple[str, str]]) -> None:
    """Replace the labeled links kept with a paper on the club's list.

    Side effects: the suggestion's PaperLink rows replaced.
    """
    if len(links) > MAX_LINKS:
        raise RuleViolation(f"Keep to {MAX_LINKS} links per paper.", status=400)
    unique: dict[str, str] = {}
    for label, url in links:
        label = one_line(label)[:60]
        if not label:
            raise RuleViolation(f"Give the link {url} a label.", status=400)
        unique.setdefault(url, label)
    PaperLink.objects.filter(suggestion=suggestion).delete()
    PaperLink.objects.bulk_create(
        PaperLink(suggestion=suggestion, label=label, url=url, position=position)
        for position, (url, label) in enumerate(unique.items())
    )


@transaction.atomic
def move_track_entry(*, entry: TrackEntry, direction: str) -> None:
    """Side effects: TrackEntry.position of the track's entries."""
    _swap_position(TrackEntry.objects.filter(track=entry.track_id), entry, direction)


@transaction.atomic
def remove_track_entry(*, entry: TrackEntry) -> None:
    """Side effects: the TrackEntry goes; the paper stays on the club's list."""
    entry.delete()


@transaction.atomic
def set_read_mark(*, membership: Membership, suggestion: Suggestion, read: bool) -> bool:
    """A member marks a paper of their club's list as read by them, or not. Idempotent.

    Side effects: inserts or deletes at most one ReadMark row.
    """
    if membership.club_id != suggestion.club_id:
        raise RuleViolation("That paper is not on your club's list.", status=403)
    if suggestion.state == State.WITHDRAWN:
        raise RuleViolation("That paper was taken off the club's list.", status=400)
    if read:
        ReadMark.objects.get_or_create(membership=membership, suggestion=suggestion)
    else:
        ReadMark.objects.filter(membership=membership, suggestion=suggestion).delete()
    return read
