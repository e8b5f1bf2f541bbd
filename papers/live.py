"""The live vote at the end of a session: a poll with a countdown of a few minutes, on a
shortlist, watched on a shared screen and on members' phones.

Screens and ballots poll a fragment every second (htmx). The fragment is rendered once per
poll state: its cache key holds the poll's state version, kept in the shared cache and
bumped when a transaction that changed the state commits (a vote, a vote taken back, a
ranking, the close: papers.polls calls `bump_state`). A watcher's request then costs a
cache read, whichever web process serves it. At zero the poll closes on the next read,
with no job: `close_if_due` goes through papers.polls.close_poll, which locks the poll row,
so of two processes racing only one counts.
"""

import contextlib
import datetime as dt
import secrets
import time

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from clubs.models import Club
from paperclub.errors import RuleViolation
from paperclub.text import vote_word
from papers import polls
from papers.models import Poll, Ranking, Suggestion, Tally, Vote

MINUTES_DEFAULT, MINUTES_MIN, MINUTES_MAX = 3, 1, 15
SHORTLIST_DEFAULT = 6  # papers ticked by default: enough choice, few enough to read aloud
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off a screen
CODE_LENGTH = 8
STATE_TIMEOUT = 24 * 3600  # a live vote lasts minutes; its cache entries go after a day
FRAGMENT_TIMEOUT = 3600


# ---------- The state version and the cached fragment ----------


def _state_key(poll_id: int) -> str:
    return f"live:poll:{poll_id}:state"


def state_version(poll_id: int) -> int:
    """The poll's state version. A missing entry (never set, or evicted) starts from the
    clock in nanoseconds, above any version handed out before, so an old fragment is never
    served under a new state."""
    version = cache.get(_state_key(poll_id))
    if version is None:
        cache.add(_state_key(poll_id), time.time_ns(), STATE_TIMEOUT)
        version = cache.get(_state_key(poll_id))
    return version


def bump_state(poll_id: int) -> int:
    """A new state version: every screen and ballot renders the poll again on its next read.
    Atomic in Redis (INCR), so two processes bumping at once get two versions."""
    try:
        return cache.incr(_state_key(poll_id))
    except ValueError:  # no entry yet: start one, or bump the one another process started
        if cache.add(_state_key(poll_id), time.time_ns(), STATE_TIMEOUT):
            return cache.get(_state_key(poll_id))
        return cache.incr(_state_key(poll_id))


def _fragment_key(poll_id: int, variant: str, zone: str) -> str:
    return f"live:poll:{poll_id}:v{state_version(poll_id)}:{variant}:{zone}"


def fresh_fragment(poll_id: int, slug: str, variant: str, zone: str) -> dict | None:
    """The cached fragment, when it can be served without reading the database: kept
    under the poll's current state version, for this club's address, and either closed or
    not yet at zero (at zero the view reads the poll, to close it)."""
    entry = cache.get(_fragment_key(poll_id, variant, zone))
    if entry is None or entry["slug"] != slug:
        return None
    if not entry["closed"] and time.time() >= entry["closes_at"]:
        return None
    return entry


def cached_fragment(poll: Poll, variant: str, zone: str, render) -> dict:
    """The fragment `variant` of the poll for viewers in `zone`: the cached entry, or the
    one `render()` makes, kept under the current state version with what the fast path
    needs (the club's address and visibility, the closing time). The version is read
    before the counts are, so a fragment can be newer than its key, never older; an entry
    that disagrees with the poll just read on being closed is made again (a lost bump)."""
    key = _fragment_key(poll.pk, variant, zone)
    entry = cache.get(key)
    closed = poll.closed_at is not None
    if entry is None or entry["closed"] != closed:
        entry = {
            "html": render(),
            "closed": closed,
            "closes_at": poll.closes_at.timestamp() if poll.closes_at else float("inf"),
            "slug": poll.club.slug,
            "public": poll.club.is_public,
            "club": poll.club_id,
        }
        cache.set(key, entry, FRAGMENT_TIMEOUT)
    return entry


MEMBER_TIMEOUT = 60  # someone removed from a private club may see its counts this long


def remember_member(club_id: int, user_id: int) -> None:
    """The viewer was found to be a member: their next fragment reads skip that query."""
    cache.set(f"live:member:{club_id}:{user_id}", True, MEMBER_TIMEOUT)


def known_member(club_id: int, user_id: int) -> bool:
    return bool(cache.get(f"live:member:{club_id}:{user_id}"))


# ---------- Writes ----------


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@transaction.atomic
def open_live_poll(
    *,
    club: Club,
    opened_by,
    shortlist: list[int],
    minutes: int = MINUTES_DEFAULT,
    method: str = Poll.Method.APPROVAL,
    budget: int = 3,
    show_live_results: bool = True,
    close_open: bool = False,
    now: dt.datetime | None = None,
) -> Poll:
    """Open the vote for next week with a countdown of `minutes`, on the shortlisted papers
    (suggestion ids). Results show live unless `show_live_results` is False.

    At most one open poll per club: a running live vote is never closed from here (its
    screen is counting down in a room); a week-long poll is closed first only when
    `close_open` says so (its result counts and schedules its winner as usual, and the winner leaves
    the shortlist); otherwise refused.
    No emails: the vote is over before anyone would read them.
    Side effects: may close the club's open poll (papers.polls.close_poll); one Poll row
    with its code and shortlist; the poll's state version is bumped on commit.
    """
    now = now or timezone.now()
    if minutes is None or not MINUTES_MIN <= minutes <= MINUTES_MAX:
        raise RuleViolation(
            f"The countdown runs from {MINUTES_MIN} to {MINUTES_MAX} minutes.", status=400
        )
    if budget is None or not 1 <= budget <= 50:
        raise RuleViolation("Each member needs between 1 and 50 votes.", status=400)
    if method not in Poll.Method.values:
        raise RuleViolation("Choose how the poll is counted.", status=400)
    ids = set(shortlist)
    if len(ids) < 2:
        raise RuleViolation(
            "A live vote needs at least two papers to choose between: tick two or more.",
            status=400,
        )
    found = Suggestion.objects.filter(club=club, state=Suggestion.State.OPEN, pk__in=ids).count()
    if found != len(ids):
        raise RuleViolation("Only the club's open suggestions can be on the shortlist.", status=400)
    polls.close_due_polls(club=club)
    current = Poll.objects.filter(club=club).unclosed().first()
    if current is not None:
        if current.is_live:  # a countdown is on a screen in a room: never cut it short
            raise RuleViolation(
                "A live vote is running. Let its countdown reach zero before starting another."
            )
        if not close_open:
            raise RuleViolation(
                "This club already has an open poll. Close it first to start the live vote."
            )
        closed = polls.close_poll(poll=current, closed_by=opened_by)
        ids.discard(closed.winner_id)  # its winner is now scheduled, off the list
        if len(ids) < 2:
            raise RuleViolation(
                "Closing the open poll schedules its winner, which leaves fewer than two "
                "papers ticked: tick two others.",
                status=400,
            )
    try:
        with transaction.atomic():
            poll = Poll.objects.create(
                club=club,
                opened_by=opened_by,
                opened_at=now,
                closes_at=now + dt.timedelta(minutes=minutes),
                countdown_minutes=minutes,
                live_code=new_code(),
                budget=budget,
                method=method,
                show_live_results=show_live_results,
            )
    except IntegrityError:
        raise RuleViolation("This club already has an open poll. Close it first.") from None
    poll.shortlist.set(ids)
    transaction.on_commit(lambda: bump_state(poll.pk))
    return poll


def close_if_due(poll: Poll) -> Poll:
    """Close the poll if its countdown has reached zero, whoever asks first; the poll as it
    now stands. Through papers.polls.close_poll, in one transaction that locks the poll
    row: the result, the scheduled session and the webhook post happen once."""
    if poll.closed_at is None and poll.closes_at is not None and poll.closes_at <= timezone.now():
        with contextlib.suppress(RuleViolation):  # another request closed it meanwhile
            polls.close_poll(poll=poll, closed_by=None)
        poll.refresh_from_db()
    return poll


# ---------- Reads ----------


def default_shortlist(club: Club, size: int = SHORTLIST_DEFAULT) -> list[int]:
    """The open suggestions with the most earlier interest (votes in earlier polls), then
    the oldest: the papers ticked when the organizer starts a live vote."""
    return list(
        Suggestion.objects.filter(club=club)
        .backlog()
        .with_earlier_interest()
        .order_by("-earlier_votes", "created_at", "id")
        .values_list("pk", flat=True)[:size]
    )


def voters(poll: Poll) -> int:
    """How many members have voted (approval) or ranked anything (ranked polls)."""
    rows = Ranking.objects if poll.is_ranked else Vote.objects
    return rows.filter(poll=poll).values("membership").distinct().count()


def board(poll: Poll) -> dict:
    """What the screen and the ballots show of the poll as it stands: each candidate with
    its count (votes, or first choices), who has voted, and once closed the result and the
    session scheduled for the winner."""
    from sessions.models import Meeting

    members = poll.club.memberships.count()
    if poll.is_closed:
        tallies = list(Tally.objects.filter(poll=poll).select_related("suggestion__paper"))
        rows = [(t.suggestion, t.votes) for t in tallies]
        meeting = (
            Meeting.objects.filter(poll=poll).exclude(state=Meeting.State.CANCELLED).first()
            if poll.winner_id
            else None
        )
    else:
        tallies = []
        candidates = (
            Suggestion.objects.filter(pk__in=poll.shortlist.values("pk"), state="open")
            .select_related("paper")
            .defer("paper__abstract")
        )
        if poll.is_ranked:
            candidates = candidates.with_first_choices(poll)
        else:
            candidates = candidates.with_vote_counts(poll)
        rows = [(c, c.vote_count) for c in candidates.order_by("-vote_count", "created_at", "id")]
        if not poll.results_visible():
            rows = [(c, None) for c, _ in sorted(rows, key=lambda row: row[0].pk)]
        meeting = None
    top = max((n or 0 for _, n in rows), default=0)
    return {
        "tie": tie_in_words(poll, tallies) if poll.is_closed else "",
        "poll": poll,
        "rows": rows,
        "top": top,
        "voted": voters(poll),
        "members": members,
        "meeting": meeting,
        "unit": "first choice" if poll.is_ranked else "vote",
    }


def tie_in_words(poll: Poll, tallies: list[Tally]) -> str:
    """The tie-break as the screen says it, in one short line without the titles (the
    winner is named above it, the bars below): papers.polls keeps the full sentence."""
    if not poll.tie_break_applied or poll.winner_id is None:
        return ""
    if poll.is_ranked or len(tallies) < 2:
        return "A tie, broken by fewer earlier polls, then the paper suggested first."
    first, second = tallies[0], tallies[1]
    votes = f"{first.votes} {vote_word(first.votes)}"
    if first.earlier_ballots != second.earlier_ballots:
        return f"Tied on {votes}; the winner had stood in fewer earlier polls."
    return f"Tied on {votes} and on earlier polls; the winner was suggested first."


def before_start(club: Club, open_poll: Poll | None) -> dict:
    """What the start form says the live vote will do: the paper the open week-long poll
    would schedule if closed first (`scheduled`, None without votes), and the date the
    live vote's winner is scheduled for (`choosing_for`): the next free week, or the
    one after when the closed poll's winner takes it."""
    from sessions.services import next_free_slot

    scheduled = None
    if open_poll is not None and not open_poll.is_live:
        scheduled = polls.winner_if_closed_now(open_poll)
    choosing_for = next_free_slot(club, timezone.now())
    if scheduled is not None:
        choosing_for = next_free_slot(club, choosing_for)
    return {"scheduled": scheduled, "choosing_for": choosing_for}


def shortlist_choices(club: Club):
    """The club's open suggestions with their earlier interest, for the shortlist form."""
    return (
        Suggestion.objects.filter(club=club)
        .backlog()
        .with_earlier_interest()
        .select_related("paper")
        .defer("paper__abstract")
        .order_by("-earlier_votes", "created_at", "id")
    )


def poll_by_code(code: str) -> Poll | None:
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return Poll.objects.filter(live_code=code).select_related("club").first()
