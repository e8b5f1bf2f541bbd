"""Approval votes: a member's vote for a paper of the open poll, or taken back.

On PostgreSQL the locks, checks, write and count are one call of the function
`papers_set_vote` (migration papers 0010); a member's vote from the club page is read and
cast in one statement (`vote_as_member`). SQLite runs the same rules as ORM statements.
"""

import copy
import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from clubs.access import ClubAccess
from clubs.models import Membership
from paperclub import cache
from paperclub.errors import RuleViolation
from paperclub.rows import fetch
from papers.access import may_hold, vote_target_row, vote_target_sql
from papers.models import Poll, Suggestion, Vote
from papers.polls import changes_live_state

State = Suggestion.State

# papers_set_vote(poll, membership, paper, approve, now, approval, open) returns the poll's
# fields as locked, then whether the paper is on a live poll's shortlist, its state, the
# votes used and whether it had the member's vote (migration papers 0010).
_FUNCTION = "papers_set_vote(%s, %s, %s, %s, %s, %s, %s)"
_LOCKED_POLL_FIELDS = (
    "closed_at",
    "closes_at",
    "method",
    "countdown_minutes",
    "budget",
    "show_live_results",
)
_FUNCTION_COLUMNS = (*_LOCKED_POLL_FIELDS, "on_shortlist", "state", "used", "here")


@dataclass(frozen=True)
class Ballot:
    """A member's standing in a poll after a vote."""

    votes_used: int
    budget: int

    @property
    def votes_left(self) -> int:
        return max(self.budget - self.votes_used, 0)


def set_vote(
    *, poll: Poll, membership: Membership, suggestion: Suggestion, approve: bool
) -> Ballot:
    """Vote for (approve=True) or take back a vote from (approve=False) a candidate.

    Idempotent: voting twice for the same candidate leaves one vote. Refused when the
    poll is closed or past its closing time, when the suggestion is not an open
    candidate of this club, for someone outside the club, or past the vote budget.
    Side effects, when a vote was added or taken back: with live results, a new version
    of the club's ballot in the page cache (paperclub.cache) and an edit of the poll's
    Discord messages queued (integrations.tasks.queue_poll_refresh); in a live poll, a new
    version of its screens' state (papers.live).

    Runs in one transaction. On PostgreSQL it is one call of the function `papers_set_vote`
    (migration papers 0010), one round trip: it locks the poll FOR SHARE (closing it waits
    for the vote, and a vote waits for a close under way), the membership FOR UPDATE (one
    member's requests queue up, so a double-click cannot exceed the budget), and for a
    vote the suggestion FOR SHARE (a withdrawal waits for it, or the vote sees the paper
    withdrawn); it counts the member's votes in a second statement, whose snapshot is
    taken once the membership lock is held.
    """
    # A poll's, a membership's and a suggestion's club never change: checked as given.
    if membership.club_id != poll.club_id:
        raise RuleViolation("Only members of this club can vote in its polls.", status=403)
    if suggestion.club_id != poll.club_id:
        raise RuleViolation("That paper is not on this club's ballot.", status=400)
    now = timezone.now()
    if connection.vendor == "postgresql":
        outcome = _cast_vote(poll, membership.pk, suggestion.pk, approve, now)
    else:
        with transaction.atomic():
            outcome = _cast_vote_plain(poll, membership.pk, suggestion.pk, approve, now)
    return _ballot(*outcome, approve=approve)


@transaction.atomic
def release_votes(*, suggestion_ids: Iterable[int]) -> None:
    """Papers that left the ballot (withdrawn, or chosen for a session) give back the votes
    cast for them in unclosed polls: each voter may spend the vote on another paper, and
    the counts everyone sees drop. A closed poll's votes stay, as its result.

    Call after the papers' new state is written, in the same transaction: a vote for one
    of them waits on its row lock (set_vote) and then sees it gone, and a vote committed
    before is among those removed. Side effects, per poll that lost votes: as for a vote
    taken back (the page cache, a live poll's screens, its Discord messages).
    """
    ids = list(suggestion_ids)
    released = Vote.objects.filter(suggestion_id__in=ids, poll__closed_at__isnull=True)
    polls = list(Poll.objects.filter(pk__in=released.values("poll_id")))
    if polls:
        released.delete()
    for poll in polls:
        _vote_changed(poll)


def vote_as_member(
    *, user, slug: str, poll_id: int, suggestion_id: int, approve: bool
) -> tuple[ClubAccess, Poll, Suggestion, Ballot] | None:
    """set_vote for `user` in the club `slug`, its poll `poll_id` and its paper
    `suggestion_id`, read and cast in one statement: the club page's vote, the site's
    busiest write. None, with nothing written, when not done here: on another database
    than PostgreSQL, or when the read finds no such membership, poll or paper (the
    caller's access helpers then say why). A refusal raises, as from set_vote."""
    if connection.vendor != "postgresql" or not user.is_authenticated:
        return None
    if not may_hold(poll_id, suggestion_id):
        return None
    now = timezone.now()
    params = [poll_id, suggestion_id, *_function_params(approve, now), slug, user.pk]
    rows = fetch(_vote_as_member_sql(), params)
    if not rows:
        return None
    access, poll, suggestion = vote_target_row(rows[0])
    outcome = _locked_outcome(poll, rows[0][-len(_FUNCTION_COLUMNS) :], now)
    return access, poll, suggestion, _ballot(*outcome, approve=approve)


@functools.cache
def _vote_as_member_sql() -> str:
    # The function's first arguments come from the row read: it runs for that row only.
    return vote_target_sql(_FUNCTION.replace("%s, %s, %s, ", "p.id, m.id, s.id, ", 1))


def _ballot(poll: Poll, state, used: int, here: int, *, approve: bool) -> Ballot:
    """What a vote's outcome in the database means for the member, and its side effects."""
    added = approve and state == State.OPEN and not here and used < poll.budget
    if added or (not approve and here):
        _vote_changed(poll)
    if not approve:
        return Ballot(votes_used=used, budget=poll.budget)
    if state != State.OPEN:  # withdrawn, or merged into another row of the same paper
        raise RuleViolation("That paper is no longer on the ballot.")
    if here:
        return Ballot(votes_used=used, budget=poll.budget)
    if used >= poll.budget:
        raise RuleViolation(
            f"You have used all {poll.budget} of your votes. Take one back to vote for this paper."
        )
    return Ballot(votes_used=used + 1, budget=poll.budget)


def _vote_refusal(poll: Poll, *, on_shortlist: bool, now: dt.datetime) -> RuleViolation | None:
    """Why no vote can be written in the poll as it stands (papers_set_vote's own check)."""
    if poll.is_ranked:
        return RuleViolation("This poll takes a ranking: order the papers instead.", status=400)
    if not poll.is_open(now):
        return RuleViolation("Voting has closed for this poll.")
    if poll.is_live and not on_shortlist:
        return RuleViolation("That paper is not on this vote's shortlist.", status=400)
    return None


def _function_params(approve: bool, now: dt.datetime) -> list:
    return [approve, now, Poll.Method.APPROVAL, State.OPEN]


def _cast_vote(poll: Poll, membership_id: int, suggestion_id: int, approve: bool, now):
    """papers_set_vote: the poll as locked, the paper's state (a vote only), the votes used
    (before a vote, after taking one back) and whether this paper had the member's vote.
    A refusal raises; nothing was written."""
    rows = fetch(
        f"SELECT * FROM {_FUNCTION}",
        [poll.pk, membership_id, suggestion_id, *_function_params(approve, now)],
    )
    if not rows:  # the member left the club meanwhile
        raise RuleViolation("Only members of this club can vote in its polls.", status=403)
    return _locked_outcome(poll, rows[0], now)


def _locked_outcome(poll: Poll, row, now: dt.datetime):
    """_cast_vote's answer from a row of papers_set_vote."""
    locked = copy.copy(poll)
    for name, value in zip(_LOCKED_POLL_FIELDS, row[: len(_LOCKED_POLL_FIELDS)], strict=True):
        setattr(locked, name, value)
    on_shortlist, state, used, here = row[len(_LOCKED_POLL_FIELDS) :]
    if refusal := _vote_refusal(locked, on_shortlist=on_shortlist, now=now):
        raise refusal
    if used is None:  # the function's check and _vote_refusal disagree: a bug, not a refusal
        raise RuntimeError(f"papers_set_vote refused a vote in poll {poll.pk} for no stated rule")
    return locked, state, used, here


def _cast_vote_plain(poll: Poll, membership_id: int, suggestion_id: int, approve: bool, now):
    """The same as _cast_vote in plain ORM statements (SQLite has one writer at a time)."""
    member = Membership.objects.filter(pk=membership_id, club_id=OuterRef("club_id"))
    poll = Poll.objects.annotate(still_member=Exists(member)).get(pk=poll.pk)
    if not poll.still_member:  # left the club since the caller read the membership
        raise RuleViolation("Only members of this club can vote in its polls.", status=403)
    on_shortlist = not poll.is_live or poll.shortlist.filter(pk=suggestion_id).exists()
    if refusal := _vote_refusal(poll, on_shortlist=on_shortlist, now=now):
        raise refusal
    mine = Vote.objects.filter(poll=poll, membership_id=membership_id)
    if not approve:
        taken, _ = mine.filter(suggestion_id=suggestion_id).delete()
        return poll, None, mine.count(), taken
    state = Suggestion.objects.filter(pk=suggestion_id).values_list("state", flat=True).first()
    counts = mine.aggregate(used=Count("pk"), here=Count("pk", filter=Q(suggestion=suggestion_id)))
    if state == State.OPEN and not counts["here"] and counts["used"] < poll.budget:
        Vote.objects.create(
            poll=poll, membership_id=membership_id, suggestion_id=suggestion_id, cast_at=now
        )
    return poll, state, counts["used"], counts["here"]


def _vote_changed(poll: Poll) -> None:
    """What a vote added or taken back shows elsewhere: the live counts on the club page
    and on Discord, and a live poll's screens."""
    from integrations.tasks import queue_poll_refresh

    if poll.results_visible():  # the counts on the club page change for everyone
        cache.bump(cache.ballot_scope(poll.club_id))
    changes_live_state(poll)
    queue_poll_refresh(poll)
