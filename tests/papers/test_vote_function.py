"""The vote's PostgreSQL function (papers_set_vote) against the same rules in ORM statements.

Every state a poll, a paper and a member's ballot can be in, each voted for and taken
back through both: the same refusal or the same counts, and the same votes afterwards.
"""

import datetime as dt
import itertools

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from paperclub.errors import RuleViolation
from papers.models import Poll, Suggestion, Vote
from papers.polls import open_poll
from papers.services import suggest_paper
from papers.votes import _cast_vote, _cast_vote_plain, set_vote, vote_as_member

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the function is PostgreSQL's"),
]

BUDGET = 2
NOW = timezone.now()
HOUR = dt.timedelta(hours=1)

POLL_STATES = {
    "method": [Poll.Method.APPROVAL, Poll.Method.IRV],
    "closed_at": [None, NOW - HOUR],
    "closes_at": [None, NOW + HOUR, NOW - dt.timedelta(minutes=1), NOW],
    "live": [False, True],
    "shortlisted": [False, True],
}
PAPER_STATES = [Suggestion.State.OPEN, Suggestion.State.WITHDRAWN, Suggestion.State.CHOSEN]
BALLOTS = ["none", "this paper", "others up to the budget"]


@pytest.fixture
def ballot(club, organizer, member):
    papers = [
        suggest_paper(
            club=club, suggested_by=organizer, link=f"2402.{i:05d}", title=f"T{i}", pitch="p"
        )
        for i in range(BUDGET + 1)
    ]
    poll = open_poll(club=club, opened_by=organizer, budget=BUDGET)
    Poll.objects.filter(pk=poll.pk).update(opened_at=NOW - 2 * HOUR)
    return poll, club.memberships.get(user=member), papers


def outcome(cast, poll, membership, paper, approve):
    """What one implementation answers, and the member's votes after, rolled back."""
    try:
        with transaction.atomic():
            try:
                locked, state, used, here = cast(poll, membership.pk, paper.pk, approve, NOW)
                answer = ("done", state, used, here, locked.budget, locked.show_live_results)
            except RuleViolation as refusal:
                answer = ("refused", refusal.message, refusal.status)
            votes = sorted(
                Vote.objects.filter(poll=poll, membership=membership).values_list(
                    "suggestion_id", flat=True
                )
            )
            raise _RollBack
    except _RollBack:
        pass
    return answer, votes


class _RollBack(Exception):
    pass


def test_the_function_and_the_orm_statements_agree_on_every_state(ballot):
    poll, membership, papers = ballot
    paper, others = papers[0], papers[1:]
    compared = 0
    for values in itertools.product(*POLL_STATES.values()):
        state = dict(zip(POLL_STATES, values, strict=True))
        try:
            with transaction.atomic():
                Poll.objects.filter(pk=poll.pk).update(
                    method=state["method"],
                    closed_at=state["closed_at"],
                    closes_at=state["closes_at"],
                    countdown_minutes=5 if state["live"] else None,
                    live_code=f"L{poll.pk}" if state["live"] else None,
                )
        except IntegrityError:  # a live poll without an end: the database allows none
            continue
        poll.refresh_from_db()
        poll.shortlist.set([paper] if state["shortlisted"] else [])
        for paper_state, kept, approve in itertools.product(PAPER_STATES, BALLOTS, [True, False]):
            Suggestion.objects.filter(pk=paper.pk).update(state=paper_state)
            Vote.objects.filter(poll=poll).delete()
            held = {"none": [], "this paper": [paper], "others up to the budget": others}[kept]
            Vote.objects.bulk_create(
                Vote(poll=poll, membership=membership, suggestion=p) for p in held
            )
            case = (state, paper_state, kept, approve)
            function = outcome(_cast_vote, poll, membership, paper, approve)
            plain = outcome(_cast_vote_plain, poll, membership, paper, approve)
            assert function == plain, case
            compared += 1
    assert compared >= 300  # the sweep ran (live polls without an end are skipped)


def test_a_member_who_left_cannot_vote_through_a_membership_held_from_before(ballot):
    poll, membership, papers = ballot
    membership.delete()
    with pytest.raises(RuleViolation) as refusal:
        set_vote(poll=poll, membership=membership, suggestion=papers[0], approve=True)
    assert refusal.value.status == 403
    assert not Vote.objects.filter(poll=poll).exists()


def test_a_vote_is_one_statement(ballot):
    """One call: outside a transaction it commits by itself, with no BEGIN or COMMIT."""
    poll, membership, papers = ballot

    with CaptureQueriesContext(connection) as queries:
        set_vote(poll=poll, membership=membership, suggestion=papers[1], approve=True)

    # A prepared statement is logged as Django logs a query it cannot print bound.
    statements = [q["sql"].removeprefix("QUERY = '").split("(")[0] for q in queries]
    assert statements == ["SELECT * FROM papers_set_vote"]
    assert Vote.objects.filter(poll=poll, membership=membership, suggestion=papers[1]).exists()


def test_a_members_vote_is_read_and_cast_in_one_statement(ballot, member):
    poll, membership, papers = ballot

    with CaptureQueriesContext(connection) as queries:
        access, got_poll, got_paper, cast = vote_as_member(
            user=member, slug=poll.club.slug, poll_id=poll.pk, suggestion_id=papers[0].pk,
            approve=True,
        )  # fmt: skip

    assert len(queries) == 1 and "CROSS JOIN LATERAL papers_set_vote" in queries[0]["sql"]
    assert (access.membership.pk, got_poll.pk, got_paper.pk) == (
        membership.pk, poll.pk, papers[0].pk,
    )  # fmt: skip
    assert cast.votes_used == 1 and access.is_member and not access.is_organizer
    assert list(Vote.objects.filter(poll=poll).values_list("suggestion", flat=True)) == [
        papers[0].pk
    ]


@pytest.mark.parametrize(
    "who", ["outsider", "member, another club's poll", "member, another club's paper",
            "member, another club's slug", "anonymous"],
)  # fmt: skip
def test_the_function_never_runs_for_a_row_the_read_does_not_find(
    request, ballot, who, organizer, outsider, member
):
    """Whoever is not a member voting in their own club's poll for its own paper is left to
    the access helpers: nothing is written, not even a vote that the rules would allow."""
    from django.contrib.auth.models import AnonymousUser

    from clubs.services import create_club, join_club

    poll, _membership, papers = ballot
    other = create_club(creator=organizer, name="Other", slug="other")
    join_club(club=other, user=member)
    other_paper = suggest_paper(club=other, suggested_by=organizer, link="2403.00001", title="O",
                                pitch="p")  # fmt: skip
    other_poll = open_poll(club=other, opened_by=organizer, budget=BUDGET)
    user, slug, poll_id, paper_id = member, poll.club.slug, poll.pk, papers[0].pk
    if who == "outsider":
        user = outsider
    elif who == "anonymous":
        user = AnonymousUser()
    elif who == "member, another club's poll":
        poll_id = other_poll.pk
    elif who == "member, another club's paper":
        paper_id = other_paper.pk
    else:
        slug = other.slug

    with CaptureQueriesContext(connection) as queries:
        found = vote_as_member(
            user=user, slug=slug, poll_id=poll_id, suggestion_id=paper_id, approve=True
        )

    assert found is None
    assert not Vote.objects.exists()
    assert len(queries) == (0 if who == "anonymous" else 1)
