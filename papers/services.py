"""Writes for papers, suggestions and polls. Each runs in one transaction."""

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.db import IntegrityError, connection, models, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from clubs.models import Club, Membership
from paperclub.errors import RuleViolation
from paperclub.text import checked_text, one_line
from paperclub.when import DATE, when_text
from papers import arxiv, catalog, ranked
from papers.identifiers import arxiv_url, normalize_arxiv_id, normalize_url
from papers.models import (
    AUTHORS_MAX,
    PITCH_MAX,
    REASON_MAX,
    TAKEAWAY_MAX,
    TEXT_MAX,
    TITLE_MAX,
    Paper,
    PaperLink,
    Poll,
    Ranking,
    ReadMark,
    Suggestion,
    Tally,
    Track,
    TrackEntry,
    Vote,
)
from papers.tasks import queue_refresh

State = Suggestion.State

RANKED_TIE_BREAK_RULE = (
    "the paper that stood in fewer earlier polls goes through; if still tied, "
    "the one suggested first"
)
TIE_BREAK_RULE = (
    "Most votes wins. On a tie, the paper that stood in fewer earlier polls wins; "
    "if still tied, the one suggested first."
)


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
    arXiv cleared (catalog.forget_stand_ins).
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
    suggestion = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
    if suggestion.state != State.OPEN:
        raise RuleViolation("Only open suggestions can be withdrawn.")
    suggestion.state = State.WITHDRAWN
    suggestion.save(update_fields=["state", "updated_at"])
    Vote.objects.filter(suggestion=suggestion, poll__closed_at__isnull=True).delete()
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


POLL_LEAD = dt.timedelta(hours=2)  # a session sooner than this already has its paper


def default_poll_closing(club: Club, now: dt.datetime | None = None) -> dt.datetime:
    """When a new poll closes unless the organizer says otherwise: the day before the
    next session, at the club's meeting time in its own zone, so the result is known
    in time to read the paper.

    The next session is the soonest of the club's scheduled sessions and its free weekly
    slots (the winner takes the first free slot) at least two hours away. When the day
    before has already begun (the session is within a day), one hour before it instead.
    Never in the past, never after that session. Computed when the form is shown.
    """
    from sessions.models import Meeting
    from sessions.services import next_free_slot

    now = now or timezone.now()
    soonest = now + POLL_LEAD
    target = next_free_slot(club, soonest)
    scheduled = (
        Meeting.objects.filter(club=club, state=Meeting.State.SCHEDULED, starts_at__gte=soonest)
        .order_by("starts_at")
        .values_list("starts_at", flat=True)
        .first()
    )
    if scheduled is not None and scheduled < target:
        target = scheduled
    local = target.astimezone(club.tz)
    day_before = dt.datetime.combine(
        local.date() - dt.timedelta(days=1), local.time(), tzinfo=club.tz
    )
    day_before = day_before.astimezone(dt.UTC).astimezone(club.tz)  # a skipped hour moves on
    if day_before > now + dt.timedelta(hours=1):
        closes = day_before
    else:
        closes = target - dt.timedelta(hours=1)
    return closes.replace(second=0, microsecond=0)


@transaction.atomic
def open_poll(
    *,
    club: Club,
    opened_by,
    closes_at: dt.datetime | None = None,
    budget: int = 3,
    show_live_results: bool = False,
    method: str = Poll.Method.APPROVAL,
) -> Poll:
    """Open "what do we read next?". At most one unclosed poll per club.

    Side effects: one Poll row; emails to members queued (poll open, a day before closing).
    """
    from sessions.tasks import queue_poll_emails

    now = timezone.now()
    if budget is None or budget < 1:
        raise RuleViolation("Each member needs at least one vote.", status=400)
    if budget > 50:
        raise RuleViolation("A budget of more than 50 votes is not useful.", status=400)
    if method not in Poll.Method.values:
        raise RuleViolation("Choose how the poll is counted.", status=400)
    if closes_at is not None and closes_at <= now:
        raise RuleViolation("The closing time must be in the future.", status=400)
    close_due_polls(club=club)
    if Poll.objects.filter(club=club).unclosed().exists():
        raise RuleViolation("This club already has an open poll. Close it first.")
    try:
        with transaction.atomic():
            poll = Poll.objects.create(
                club=club,
                opened_by=opened_by,
                opened_at=now,
                closes_at=closes_at,
                budget=budget,
                show_live_results=show_live_results,
                method=method,
            )
    except IntegrityError:
        raise RuleViolation("This club already has an open poll. Close it first.") from None
    queue_poll_emails(poll)
    return poll


def _lock(model, pks, mode: str = "SHARE") -> None:
    """Take row locks on PostgreSQL (SQLite has one writer at a time anyway).

    Votes share SHARE locks with each other; closing a poll and withdrawing a paper take
    exclusive locks, so a vote either commits before them or sees their result.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT 1 FROM {model._meta.db_table} WHERE id = ANY(%s) FOR {mode}", [list(pks)]
            )


def _locked(model, pk: int, mode: str = "SHARE"):
    """The row, read under a row lock on PostgreSQL (one query either way)."""
    if connection.vendor != "postgresql":
        return model.objects.get(pk=pk)
    table = model._meta.db_table
    rows = list(model.objects.raw(f"SELECT * FROM {table} WHERE id = %s FOR {mode}", [pk]))
    if not rows:
        raise model.DoesNotExist
    return rows[0]


@dataclass(frozen=True)
class Ballot:
    """A member's standing in a poll after a vote."""

    votes_used: int
    budget: int

    @property
    def votes_left(self) -> int:
        return max(self.budget - self.votes_used, 0)


@transaction.atomic
def set_vote(
    *, poll: Poll, membership: Membership, suggestion: Suggestion, approve: bool
) -> Ballot:
    """Vote for (approve=True) or take back a vote from (approve=False) a candidate.

    Idempotent: voting twice for the same candidate leaves one vote. Refused when the
    poll is closed or past its closing time, when the suggestion is not an open
    candidate of this club, for someone outside the club, or past the vote budget.
    Side effects: inserts or deletes at most one Vote row.
    """
    poll = _locked(Poll, poll.pk)
    if membership.club_id != poll.club_id:
        raise RuleViolation("Only members of this club can vote in its polls.", status=403)
    if suggestion.club_id != poll.club_id:
        raise RuleViolation("That paper is not on this club's ballot.", status=400)
    if poll.is_ranked:
        raise RuleViolation("This poll takes a ranking: order the papers instead.", status=400)
    if not poll.is_open():
        raise RuleViolation("Voting has closed for this poll.")
    # One member's requests queue up here, so a double-click cannot exceed the budget.
    _lock(Membership, [membership.pk], "UPDATE")
    mine = Vote.objects.filter(poll=poll, membership=membership)
    if not approve:
        mine.filter(suggestion=suggestion).delete()
        return Ballot(votes_used=mine.count(), budget=poll.budget)
    try:
        still_open = _locked(Suggestion, suggestion.pk).state == State.OPEN
    except Suggestion.DoesNotExist:  # merged into another row of the same paper meanwhile
        still_open = False
    if not still_open:
        raise RuleViolation("That paper is no longer on the ballot.")
    counts = mine.aggregate(used=Count("pk"), here=Count("pk", filter=Q(suggestion=suggestion)))
    if counts["here"]:
        return Ballot(votes_used=counts["used"], budget=poll.budget)
    if counts["used"] >= poll.budget:
        raise RuleViolation(
            f"You have used all {poll.budget} of your votes. Take one back to vote for this paper."
        )
    Vote.objects.create(poll=poll, membership=membership, suggestion=suggestion)
    return Ballot(votes_used=counts["used"] + 1, budget=poll.budget)


def _tie_break_description(first: Suggestion, second: Suggestion | None) -> str:
    if second is None or second.vote_count != first.vote_count:
        return ""
    if first.earlier_ballots != second.earlier_ballots:
        return (
            f"“{first.display_title}” and “{second.display_title}” tied on {first.vote_count} "
            f"votes; “{first.display_title}” had stood in fewer earlier polls "
            f"({first.earlier_ballots} against {second.earlier_ballots})."
        )
    return (
        f"“{first.display_title}” and “{second.display_title}” tied on {first.vote_count} votes "
        f"and on earlier polls ({first.earlier_ballots}); "
        f"“{first.display_title}” was suggested first."
    )


def _candidates(poll: Poll):
    """The poll's candidates in tie-break order: fewer earlier polls, then suggested first."""
    return (
        Suggestion.objects.filter(club=poll.club_id, state=State.OPEN)
        .with_ballot_history()
        .select_related("paper")
        .order_by("earlier_ballots", "created_at", "id")
    )


def _count_approval(poll: Poll):
    candidates = list(
        _candidates(poll)
        .with_vote_counts(poll)
        .order_by("-vote_count", "earlier_ballots", "created_at", "id")
    )
    winner = candidates[0] if candidates and candidates[0].vote_count > 0 else None
    tie_break = ""
    if winner is not None:
        tie_break = _tie_break_description(winner, candidates[1] if len(candidates) > 1 else None)
    return [(c, c.vote_count) for c in candidates], winner, tie_break, {}


def _count_ranked(poll: Poll):
    """Count the rankings by the poll's method; the detail keeps titles, not ids, so the
    result page shows the count as it was even if papers are renamed later."""
    candidates = list(_candidates(poll))
    by_pk = {c.pk: c for c in candidates}
    ballots: dict[int, list[int]] = {}
    for membership_id, suggestion_id in (
        Ranking.objects.filter(poll=poll, suggestion__in=by_pk)
        .order_by("membership_id", "position")
        .values_list("membership_id", "suggestion_id")
    ):
        ballots.setdefault(membership_id, []).append(suggestion_id)
    names = {pk: c.display_title for pk, c in by_pk.items()}
    _label, _about, method = ranked.METHODS[poll.method]
    result = method(
        list(by_pk),
        ballots.values(),
        tie_order=list(by_pk),
        names=names,
        tie_rule=RANKED_TIE_BREAK_RULE,
    )
    first_choices = Counter(ballot[0] for ballot in ballots.values() if ballot)
    order = [by_pk[pk] for pk in result.ranking]
    winner = by_pk[result.winner] if result.ballots and result.winner is not None else None
    detail = {
        "method": poll.method,
        "ballots": result.ballots,
        "rounds": [
            {
                "number": r.number,
                "counts": [[names[pk], n] for pk, n in r.counts.items()],
                "exhausted": r.exhausted,
                "note": r.note,
            }
            for r in result.rounds
        ],
        "pairwise": _pairwise_table(result, [c.pk for c in order[:PAIRWISE_SHOWN]], names),
    }
    tie_break = result.tie_break if winner is not None else ""
    return [(c, first_choices[c.pk]) for c in order], winner, tie_break, detail


PAIRWISE_SHOWN = 8  # the result page shows head-to-head counts among the top candidates


def _pairwise_table(result, top: list[int], names: dict[int, str]) -> list[dict]:
    """Rows of "how many preferred this paper to that one" among the top candidates."""
    if result.method != "schulze":
        return []
    return [
        {
            "title": names[a],
            "cells": [None if a == b else result.pairwise.get((a, b), 0) for b in top],
        }
        for a in top
    ]


def ranking_of(*, poll: Poll, membership: Membership) -> list[int]:
    """The member's ranked ballot as it stands: open papers' ids, first choice first."""
    return list(Ranking.objects.ballot(poll, membership).values_list("suggestion_id", flat=True))


@transaction.atomic
def set_ranking(*, poll: Poll, membership: Membership, order: list[int]) -> list[int]:
    """Replace a member's ranked ballot with `order` (suggestion ids, first choice first).

    An empty order takes the ballot back. Refused when the poll is not ranked or not
    open, for someone outside the club, for a paper twice, or for a paper that is not an
    open candidate of this club; a refusal changes nothing.
    Side effects: the member's Ranking rows for this poll are replaced.
    """
    _lock(Poll, [poll.pk])
    poll = Poll.objects.select_related("club").get(pk=poll.pk)
    if membership.club_id != poll.club_id:
        raise RuleViolation("Only members of this club can vote in its polls.", status=403)
    if not poll.is_ranked:
        raise RuleViolation("This poll is not a ranked poll.", status=400)
    if not poll.is_open():
        raise RuleViolation("Voting has closed for this poll.")
    if len(set(order)) != len(order):
        raise RuleViolation("A paper can appear only once in your ranking.", status=400)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    _lock(Suggestion, order)
    open_ids = set(
        Suggestion.objects.filter(club=poll.club_id, state=State.OPEN, pk__in=order).values_list(
            "pk", flat=True
        )
    )
    if len(open_ids) != len(order):
        raise RuleViolation("That paper is no longer on the ballot.", status=400)
    Ranking.objects.filter(poll=poll, membership=membership).delete()
    Ranking.objects.bulk_create(
        Ranking(poll=poll, membership=membership, suggestion_id=pk, position=position)
        for position, pk in enumerate(order, start=1)
    )
    return order


@transaction.atomic
def close_poll(*, poll: Poll, closed_by, now: dt.datetime | None = None) -> Poll:
    """Count the votes once, store the result, and schedule the winner as the next session.

    Past its closing time the poll counts as closed by the deadline (closed_by None, at
    that time), whoever triggers the count.
    Approval: most votes; then fewer earlier polls; then suggested first (TIE_BREAK_RULE).
    Ranked: instant runoff or Schulze over the members' rankings, ties broken by the same
    rule. A poll with no votes closes without a winner.
    Side effects: sets Poll.closed_at/closed_by/winner/tie_break_applied/result_detail; one
    Tally row
    per candidate; the winner becomes "chosen" and gets a scheduled Meeting.
    """
    from sessions.services import schedule_meeting
    from sessions.tasks import announce

    poll = Poll.objects.select_for_update(of=("self",)).select_related("club").get(pk=poll.pk)
    if poll.closed_at is not None:
        raise RuleViolation("This poll is already closed.")
    now = now or timezone.now()
    if poll.closes_at is not None and poll.closes_at <= now:
        # The deadline closed it; whoever triggered the count only did the bookkeeping.
        now, closed_by = poll.closes_at, None
    count = _count_ranked if poll.is_ranked else _count_approval
    ranked, winner, tie_break, detail = count(poll)
    Tally.objects.bulk_create(
        Tally(
            poll=poll,
            suggestion=candidate,
            votes=votes,
            earlier_ballots=candidate.earlier_ballots,
            rank=rank,
        )
        for rank, (candidate, votes) in enumerate(ranked, start=1)
    )
    poll.closed_at = now
    poll.closed_by = closed_by
    poll.winner = winner
    poll.tie_break_applied = tie_break
    poll.result_detail = detail
    poll.save(
        update_fields=["closed_at", "closed_by", "winner", "tie_break_applied", "result_detail"]
    )
    result = f"“{winner.display_title}” won." if winner else "No votes."
    announce(poll.club, f"{poll.club.name}: the poll closed. {result}")
    if winner:
        schedule_meeting(
            club=poll.club,
            suggestions=[winner],
            source="vote",
            poll=poll,
            after=max(now, timezone.now()),
        )
    return poll


def close_due_polls(*, club: Club | None = None, now: dt.datetime | None = None) -> int:
    """Close every poll whose closing time has passed. Returns how many were closed.

    Called by the `close_due_polls` command and before a club's poll is shown, so a
    result never waits for a scheduler.
    """
    polls = Poll.objects.due(now)
    if club is not None:
        polls = polls.filter(club=club)
    closed = 0
    for poll in polls:
        try:
            close_poll(poll=poll, closed_by=None, now=now)
            closed += 1
        except RuleViolation:
            pass  # closed by someone else in the meantime
    return closed


@transaction.atomic
def override_winner(*, poll: Poll, suggestion: Suggestion, overridden_by, reason: str) -> Poll:
    """An organizer replaces the winner of a closed poll, giving a reason for the record.

    Side effects: Poll.winner/override_reason/overridden_by; the old winner goes back
    on the list; the poll's scheduled session (created if missing) reads the new paper.
    """
    from sessions.models import Meeting
    from sessions.services import schedule_meeting, touch_meeting

    reason = checked_text(reason, max_length=REASON_MAX, label="The reason", multiline=True)
    if not reason:
        raise RuleViolation(
            "Say why the result is being overridden; it goes on the record.", status=400
        )
    poll = Poll.objects.select_for_update(of=("self",)).select_related("club").get(pk=poll.pk)
    if poll.closed_at is None:
        raise RuleViolation("Close the poll before overriding its result.")
    if not Tally.objects.filter(poll=poll, suggestion=suggestion).exists():
        raise RuleViolation("Only a paper that was on this poll's ballot can win it.", status=400)
    if poll.winner_id == suggestion.pk:
        raise RuleViolation("That paper already won this poll.")
    meeting = Meeting.objects.filter(poll=poll).exclude(state=Meeting.State.CANCELLED).first()
    if meeting is not None and meeting.state == Meeting.State.HELD:
        raise RuleViolation("The session for this poll has already taken place.")
    suggestion = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
    if suggestion.state != State.OPEN:
        raise RuleViolation("That paper is no longer on the club's list.")
    if poll.winner_id:
        Suggestion.objects.filter(pk=poll.winner_id, state=State.CHOSEN).update(state=State.OPEN)
    suggestion.state = State.CHOSEN
    suggestion.save(update_fields=["state", "updated_at"])
    poll.winner = suggestion
    poll.override_reason = reason
    poll.overridden_by = overridden_by
    poll.save(update_fields=["winner", "override_reason", "overridden_by"])
    if meeting is not None:
        meeting.suggestions.set([suggestion])
        touch_meeting(meeting)
    else:
        # A cancelled session gives its link to the poll over to the new one.
        Meeting.objects.filter(poll=poll).update(poll=None)
        schedule_meeting(club=poll.club, suggestions=[suggestion], source="vote", poll=poll)
    return poll


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
