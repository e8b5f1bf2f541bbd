"""Polls and votes: opening, voting, ranking, counting, closing. Each write runs in one
transaction."""

import datetime as dt
from collections import Counter

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from clubs.models import Club, Membership
from paperclub import cache
from paperclub.errors import RuleViolation
from paperclub.text import checked_text, vote_word
from papers import ranked
from papers.models import (
    REASON_MAX,
    Poll,
    Ranking,
    Suggestion,
    Tally,
)

State = Suggestion.State

RANKED_TIE_BREAK_RULE = (
    "the paper that stood in fewer earlier polls goes through; if still tied, "
    "the one suggested first"
)
TIE_BREAK_RULE = (
    "Most votes wins. On a tie, the paper that stood in fewer earlier polls wins; "
    "if still tied, the one suggested first."
)


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
    cache.bump(cache.ballot_scope(club.pk))
    from sessions.tasks import announce, queue_poll_emails

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
    announce(club, f"{club.name}: a poll is open. Vote: {club_url(club)}#ballot", poll=poll)
    return poll


def club_url(club: Club) -> str:
    return f"{settings.SITE_URL}{club.get_absolute_url()}"


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


def changes_live_state(poll: Poll) -> None:
    """A live poll's screens and ballots show a new state once this transaction commits
    (papers.live: the cached fragment's key holds the state's version). A refusal rolls
    back before it: one needless new version, nothing shown wrong."""
    if poll.is_live:
        from papers.live import bump_state

        transaction.on_commit(lambda: bump_state(poll.pk))


def _tie_break_description(first: Suggestion, second: Suggestion | None) -> str:
    if second is None or second.vote_count != first.vote_count:
        return ""
    votes = f"{first.vote_count} {vote_word(first.vote_count)}"
    if first.earlier_ballots != second.earlier_ballots:
        return (
            f"“{first.display_title}” and “{second.display_title}” tied on {votes}; "
            f"“{first.display_title}” had stood in fewer earlier polls "
            f"({first.earlier_ballots} against {second.earlier_ballots})."
        )
    return (
        f"“{first.display_title}” and “{second.display_title}” tied on {votes} "
        f"and on earlier polls ({first.earlier_ballots}); "
        f"“{first.display_title}” was suggested first."
    )


def _candidates(poll: Poll):
    """The poll's candidates in tie-break order: fewer earlier polls, then suggested first.
    A live poll's candidates are the open papers of its shortlist."""
    candidates = Suggestion.objects.filter(club=poll.club_id, state=State.OPEN)
    if poll.is_live:
        candidates = candidates.filter(pk__in=poll.shortlist.values("pk"))
    return (
        candidates.with_ballot_history()
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
    if poll.is_live and len(order) != poll.shortlist.filter(pk__in=order).count():
        raise RuleViolation("That paper is not on this vote's shortlist.", status=400)
    changes_live_state(poll)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    _lock(Suggestion, order)
    open_ids = set(
        Suggestion.objects.filter(club=poll.club_id, state=State.OPEN, pk__in=order).values_list(
            "pk", flat=True
        )
    )
    if len(open_ids) != len(order):
        raise RuleViolation("That paper is no longer on the ballot.", status=400)
    if poll.results_visible():  # the first choices on the club page change for everyone
        cache.bump(cache.ballot_scope(poll.club_id))
    Ranking.objects.filter(poll=poll, membership=membership).delete()
    Ranking.objects.bulk_create(
        Ranking(poll=poll, membership=membership, suggestion_id=pk, position=position)
        for position, pk in enumerate(order, start=1)
    )
    return order


def winner_if_closed_now(poll: Poll) -> Suggestion | None:
    """The paper the open poll would pick if it closed now (None without votes): counted
    as close_poll counts, nothing written."""
    count = _count_ranked if poll.is_ranked else _count_approval
    return count(poll)[1]


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
    per candidate; the winner becomes "chosen" and gets a scheduled Meeting; with a Discord
    bot, an edit of the poll's Discord messages queued.
    """
    cache.bump(cache.ballot_scope(poll.club_id), cache.sessions_scope(poll.club_id))
    from sessions.services import schedule_meeting
    from sessions.tasks import announce

    poll = Poll.objects.select_for_update(of=("self",)).select_related("club").get(pk=poll.pk)
    if poll.closed_at is not None:
        raise RuleViolation("This poll is already closed.")
    now = now or timezone.now()
    if poll.closes_at is not None and poll.closes_at <= now:
        # The deadline closed it; whoever triggered the count only did the bookkeeping.
        now, closed_by = poll.closes_at, None
    changes_live_state(poll)
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
    from integrations.tasks import queue_poll_refresh

    queue_poll_refresh(poll, closed=True)  # its Discord messages lose their buttons
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
    cache.bump(cache.ballot_scope(poll.club_id), cache.sessions_scope(poll.club_id))
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
    from papers.votes import release_votes  # papers.votes builds on this module

    release_votes(suggestion_ids=[suggestion.pk])  # in other polls still open
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
