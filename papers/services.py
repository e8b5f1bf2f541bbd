"""Writes for papers, suggestions and polls. Each runs in one transaction."""

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from clubs.models import Club, Membership
from paperclub.errors import RuleViolation
from paperclub.text import strip_control
from papers.identifiers import arxiv_url, normalize_arxiv_id, normalize_url
from papers.models import Paper, Poll, Suggestion, Tally, Vote

State = Suggestion.State

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
    tz = suggestion.club.tz
    if suggestion.state == State.READ:
        meeting = last_session(suggestion)
        if meeting:
            day = timezone.localtime(meeting.starts_at, tz)
            return f"The club already read this on {day:%d %b %Y}, session #{meeting.number}."
        return "The club already read this."
    if suggestion.state == State.CHOSEN:
        return "This paper is already chosen for an upcoming session."
    who = suggestion.suggested_by or "a former member"
    return (
        f"Already suggested by {who} on {timezone.localtime(suggestion.created_at, tz):%d %b %Y}."
    )


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
def get_or_create_paper(
    *, link: str, title: str, authors: str = "", year: int | None = None, abstract: str = ""
) -> Paper:
    """The catalog row for `link`, created from the given details when it is new.

    An existing row keeps its details: the catalog is shared by every club.
    Side effects: at most one Paper row.
    """
    arxiv_id, url_key = identify_paper(link)
    existing = find_paper(link)
    if existing:
        return existing
    if not (title or "").strip():
        raise RuleViolation("Give the paper's title.", status=400)
    url = arxiv_url(arxiv_id) if arxiv_id else link.strip()
    try:
        with transaction.atomic():
            return Paper.objects.create(
                title=strip_control(title).strip(),
                authors=strip_control(authors).strip(),
                year=year,
                abstract=strip_control(abstract).strip(),
                url=url,
                arxiv_id=arxiv_id,
                url_key=url_key,
            )
    except IntegrityError:
        # Someone added the same paper a moment ago: use theirs.
        return find_paper(link)


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

    Refuses a paper the club already has (open, chosen or read) with DuplicateSuggestion.
    A paper withdrawn earlier is reopened with the new pitch and suggester.
    Side effects: at most one Paper row and one Suggestion row.
    """
    pitch = (pitch or "").strip()
    if not pitch:
        raise RuleViolation("Say in a sentence why the club should read this.", status=400)
    paper = get_or_create_paper(link=link, title=title, authors=authors, year=year)
    existing = Suggestion.objects.select_for_update().filter(club=club, paper=paper).first()
    if existing:
        if existing.state != State.WITHDRAWN:
            raise DuplicateSuggestion(existing)
        existing.state = State.OPEN
        existing.pitch = pitch
        existing.suggested_by = suggested_by
        existing.created_at = timezone.now()
        existing.save()
        return existing
    try:
        with transaction.atomic():
            return Suggestion.objects.create(
                club=club, paper=paper, suggested_by=suggested_by, pitch=pitch
            )
    except IntegrityError:
        raise DuplicateSuggestion(Suggestion.objects.get(club=club, paper=paper)) from None


@transaction.atomic
def edit_suggestion(
    *, suggestion: Suggestion, pitch: str, takeaway: str | None = None
) -> Suggestion:
    """Change the pitch (and the club's takeaway). Side effects: updates the Suggestion."""
    pitch = (pitch or "").strip()
    if not pitch:
        raise RuleViolation("The pitch cannot be empty.", status=400)
    suggestion.pitch = pitch
    if takeaway is not None:
        suggestion.takeaway = takeaway.strip()
    suggestion.save(update_fields=["pitch", "takeaway", "updated_at"])
    return suggestion


@transaction.atomic
def withdraw_suggestion(*, suggestion: Suggestion) -> Suggestion:
    """Take an open suggestion off the list. Its votes in an open poll are removed.

    Side effects: Suggestion.state becomes withdrawn; deletes its votes in unclosed polls.
    """
    suggestion = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
    if suggestion.state != State.OPEN:
        raise RuleViolation("Only open suggestions can be withdrawn.")
    suggestion.state = State.WITHDRAWN
    suggestion.save(update_fields=["state", "updated_at"])
    Vote.objects.filter(suggestion=suggestion, poll__closed_at__isnull=True).delete()
    return suggestion


@transaction.atomic
def open_poll(
    *,
    club: Club,
    opened_by,
    closes_at: dt.datetime | None = None,
    budget: int = 3,
    show_live_results: bool = False,
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
            )
    except IntegrityError:
        raise RuleViolation("This club already has an open poll. Close it first.") from None
    queue_poll_emails(poll)
    return poll


def _share_lock(model, pk: int) -> None:
    """Take a shared row lock on PostgreSQL (SQLite has one writer at a time anyway).

    Votes share these locks with each other; closing a poll and withdrawing a paper
    take exclusive locks, so a vote either commits before them or sees their result.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {model._meta.db_table} WHERE id = %s FOR SHARE", [pk])


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
    _share_lock(Poll, poll.pk)
    poll = Poll.objects.select_related("club").get(pk=poll.pk)
    if membership.club_id != poll.club_id:
        raise RuleViolation("Only members of this club can vote in its polls.", status=403)
    if suggestion.club_id != poll.club_id:
        raise RuleViolation("That paper is not on this club's ballot.", status=400)
    if not poll.is_open():
        raise RuleViolation("Voting has closed for this poll.")
    # One member's requests queue up here, so a double-click cannot exceed the budget.
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    _share_lock(Suggestion, suggestion.pk)
    suggestion = Suggestion.objects.get(pk=suggestion.pk)
    mine = Vote.objects.filter(poll=poll, membership=membership)
    if approve:
        if suggestion.state != State.OPEN:
            raise RuleViolation("That paper is no longer on the ballot.")
        if not mine.filter(suggestion=suggestion).exists():
            used = mine.count()
            if used >= poll.budget:
                raise RuleViolation(
                    f"You have used all {poll.budget} of your votes. "
                    "Take one back to vote for this paper."
                )
            Vote.objects.create(poll=poll, membership=membership, suggestion=suggestion)
    else:
        mine.filter(suggestion=suggestion).delete()
    return Ballot(votes_used=mine.count(), budget=poll.budget)


def _tie_break_description(first: Suggestion, second: Suggestion | None) -> str:
    if second is None or second.vote_count != first.vote_count:
        return ""
    if first.earlier_ballots != second.earlier_ballots:
        return (
            f"“{first.paper.title}” and “{second.paper.title}” tied on {first.vote_count} "
            f"votes; “{first.paper.title}” had stood in fewer earlier polls "
            f"({first.earlier_ballots} against {second.earlier_ballots})."
        )
    return (
        f"“{first.paper.title}” and “{second.paper.title}” tied on {first.vote_count} votes "
        f"and on earlier polls ({first.earlier_ballots}); "
        f"“{first.paper.title}” was suggested first."
    )


@transaction.atomic
def close_poll(*, poll: Poll, closed_by, now: dt.datetime | None = None) -> Poll:
    """Count the votes once, store the result, and schedule the winner as the next session.

    Past its closing time the poll counts as closed by the deadline (closed_by None, at
    that time), whoever triggers the count.
    Ranking: most votes; then fewer earlier polls; then suggested first (TIE_BREAK_RULE).
    A poll with no votes closes without a winner.
    Side effects: sets Poll.closed_at/closed_by/winner/tie_break_applied; one Tally row
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
    candidates = list(
        Suggestion.objects.filter(club=poll.club_id, state=State.OPEN)
        .with_vote_counts(poll)
        .with_ballot_history()
        .select_related("paper")
        .order_by("-vote_count", "earlier_ballots", "created_at", "id")
    )
    Tally.objects.bulk_create(
        Tally(
            poll=poll,
            suggestion=candidate,
            votes=candidate.vote_count,
            earlier_ballots=candidate.earlier_ballots,
            rank=rank,
        )
        for rank, candidate in enumerate(candidates, start=1)
    )
    winner = candidates[0] if candidates and candidates[0].vote_count > 0 else None
    poll.closed_at = now
    poll.closed_by = closed_by
    poll.winner = winner
    poll.tie_break_applied = (
        _tie_break_description(winner, candidates[1] if len(candidates) > 1 else None)
        if winner
        else ""
    )
    poll.save(update_fields=["closed_at", "closed_by", "winner", "tie_break_applied"])
    result = (
        f"“{winner.paper.title}” won with {winner.vote_count} votes." if winner else "No votes."
    )
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

    reason = (reason or "").strip()
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
