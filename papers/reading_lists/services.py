"""Write a planned reading-list import into a club."""

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from clubs.models import Club
from paperclub import cache
from paperclub.errors import RuleViolation
from paperclub.text import multi_line, one_line
from papers.catalog import club_copy
from papers.identifiers import arxiv_url, normalize_url
from papers.models import Paper, PaperLink, Suggestion, Track
from papers.reading_lists.plan import ImportPlan, PlannedPaper, plan_import
from papers.services import (
    MAX_LINKS,
    PITCH_MAX,
    TAKEAWAY_MAX,
    TRACK_TITLE_MAX,
    add_to_track,
    create_track,
    set_paper_links,
)
from papers.tasks import queue_refresh
from papers.titles import title_url_key

IMPORTED_PITCH = "From the club's imported reading list."
QUESTIONS_MAX = 20  # discussion questions kept from one list
QUESTION_MAX = 300


@transaction.atomic
def import_reading_list(
    *,
    club: Club,
    text: str,
    imported_by,
    base_url: str = "",
    include: frozenset[int] = frozenset(),
    reject_matches: frozenset[int] = frozenset(),
    apply_questions: bool = False,
) -> ImportPlan:
    """Add a reading list to the club: each paper as a suggestion, each section as a track.

    All or nothing: the plan is made and written in one transaction, and a paper that
    the club already has keeps its own title, takeaway and pitch: it joins the tracks it is
    newly listed in, gains the list's links it lacks (within MAX_LINKS), and the list's
    authors and year where the club's copy has none, so importing a list twice adds nothing
    and the preview's placement is what is written. The takeaway becomes the suggestion's
    takeaway and its pitch; a description too long for a takeaway becomes the summary of
    its track entries, or the pitch of a paper in no track; a paper without either gets
    IMPORTED_PITCH. Authors and year typed in the list are the club's copy of them. Further
    links on the line become the paper's labeled links. With `apply_questions`, the list's
    discussion questions replace the club's. `base_url`, `include` and `reject_matches` are
    as in `plan_import`. Raises ReadingListError for text that is not a readable list.
    Side effects: Paper, Suggestion, PaperLink, Track and TrackEntry rows; with
    `apply_questions`, Club.discussion_questions.
    """
    Club.objects.select_for_update().get(pk=club.pk)  # one import per club at a time
    plan = plan_import(
        club=club, text=text, base_url=base_url, include=include, reject_matches=reject_matches
    )
    tracks = {t.title.casefold(): t for t in Track.objects.filter(club=club)}
    for section in plan.new_tracks:
        tracks[section.casefold()] = create_track(club=club, title=section[:TRACK_TITLE_MAX])
    try:
        with transaction.atomic():
            _write_import(club, plan, tracks, imported_by)
            if apply_questions and plan.questions:
                questions = [q[:QUESTION_MAX] for q in plan.questions[:QUESTIONS_MAX]]
                Club.objects.filter(pk=club.pk).update(discussion_questions=questions)
                club.discussion_questions = questions
    except IntegrityError:
        raise RuleViolation(
            "The club's list changed while the list was being imported, so nothing was "
            "imported. Try again."
        ) from None
    return plan


def _write_import(club: Club, plan: ImportPlan, tracks: dict, imported_by) -> None:
    cache.bump_clubs([club.pk])  # new papers on the list, papers added to held sessions
    for planned in plan.papers:
        entry = planned.entry
        suggestion = planned.suggestion
        if suggestion is None:
            paper = planned.paper or _imported_paper(planned)
            queue_refresh(paper)  # arXiv confirms it (or finds it by title) in the background
            takeaway = one_line(entry.takeaway)[:TAKEAWAY_MAX]
            copy = club_copy(
                paper,
                title=one_line(planned.title)[:300],  # the title the preview showed
                authors=one_line(entry.authors)[:1000],
                year=planned.year,
            )
            suggestion = Suggestion.objects.create(
                club=club,
                paper=paper,
                suggested_by=imported_by,
                pitch=one_line(planned.pitch)[:PITCH_MAX] or IMPORTED_PITCH,
                takeaway=takeaway,
                **copy,
            )
            links = [(m.label, m.url) for m in planned.new_links][:MAX_LINKS]
            set_paper_links(suggestion=suggestion, links=links)
        else:
            _add_to_held(planned)
        for section in planned.new_sections:
            add_to_track(
                track=tracks[section.casefold()],
                suggestion=suggestion,
                summary=multi_line(entry.summary),
                further_reading=planned.note,
            )


def _add_to_held(planned: PlannedPaper) -> None:
    """A paper the club has gets the list's links it lacks and, where the club's copy is
    empty, the list's authors and year (PlannedPaper.new_links, filled_details)."""
    suggestion = planned.suggestion
    links = planned.new_links
    if links:
        last = PaperLink.objects.filter(suggestion=suggestion).aggregate(Max("position"))
        start = (last["position__max"] or 0) + 1
        PaperLink.objects.bulk_create(
            PaperLink(suggestion=suggestion, label=m.label, url=m.url, position=start + n)
            for n, m in enumerate(links)
        )
    filled = planned.filled_details
    if filled:
        # Only still-empty fields, in case the club typed them since the plan was made.
        rows = Suggestion.objects.filter(pk=suggestion.pk)
        if "authors" in filled:
            rows.filter(authors="").update(authors=filled["authors"][:1000])
        if "year" in filled:
            rows.filter(year__isnull=True).update(year=filled["year"])


def _imported_paper(planned: PlannedPaper) -> Paper:
    """A catalog row for a paper the catalog does not have yet."""
    entry = planned.entry
    details = planned.details or planned.found
    title = one_line(planned.title)[:300]
    fields = {"title": title}
    if details is not None and entry.arxiv_id == details.arxiv_id:
        fields.update(
            title=details.title[:300] or title,
            authors=details.authors,
            year=details.year,
            abstract=details.abstract,
            fetched_at=timezone.now(),
        )
    if entry.arxiv_id:
        return Paper.objects.create(
            arxiv_id=entry.arxiv_id, url=arxiv_url(entry.arxiv_id), **fields
        )
    try:
        return Paper.objects.create(url=entry.url, url_key=normalize_url(entry.url), **fields)
    except ValueError:  # no link, or one that is not a URL: the title is the key
        return Paper.objects.create(url="", url_key=title_url_key(title), **fields)
