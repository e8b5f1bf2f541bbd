"""Concurrent voting against PostgreSQL, with real connections (one per thread)."""

import threading
import time

import pytest
from django.db import connection

from clubs.services import create_club, join_club
from paperclub.errors import RuleViolation
from papers.models import Poll, Tally, Vote
from papers.polls import close_poll, open_poll
from papers.services import suggest_paper
from papers.votes import set_vote, vote_as_member
from sessions.models import Meeting

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="concurrency is tested on PostgreSQL"
    ),
]


def run_together(functions):
    """Start every function at the same moment, each in its own thread and connection."""
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)

    def worker(i, fn):
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            results[i] = fn()
        except Exception as error:
            results[i] = error
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=worker, args=(i, fn)) for i, fn in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.fixture
def setup(django_user_model):
    owner = django_user_model.objects.create_user(email="owner@example.com", password="x")
    club = create_club(creator=owner, name="Race", slug="race")
    papers = [
        suggest_paper(club=club, suggested_by=owner, link=f"2401.{i:05d}", title=f"P{i}", pitch="p")
        for i in range(6)
    ]
    members = []
    for i in range(20):
        user = django_user_model.objects.create_user(email=f"m{i}@example.com", password="x")
        members.append(join_club(club=club, user=user))
    poll = open_poll(club=club, opened_by=owner, budget=3)
    return club, poll, papers, members, owner


def test_members_voting_at_the_same_moment_lose_nothing(setup):
    _, poll, papers, members, _ = setup

    results = run_together(
        [
            lambda m=m, p=p: set_vote(poll=poll, membership=m, suggestion=p, approve=True)
            for m in members
            for p in papers[:2]
        ]
    )

    assert [r for r in results if isinstance(r, Exception)] == []
    assert Vote.objects.filter(suggestion=papers[0]).count() == 20
    assert Vote.objects.filter(suggestion=papers[1]).count() == 20


def test_double_click_leaves_one_vote(setup):
    _, poll, papers, members, _ = setup

    run_together(
        [lambda: set_vote(poll=poll, membership=members[0], suggestion=papers[0], approve=True)] * 8
    )

    assert Vote.objects.filter(membership=members[0]).count() == 1


def naive_set_vote(*, poll, membership, suggestion, approve):
    """What a view without locks would do: check the budget, then insert."""
    poll = Poll.objects.get(pk=poll.pk)
    if not poll.is_open():
        raise RuleViolation("closed")
    used = Vote.objects.filter(poll=poll, membership=membership).count()
    time.sleep(0.05)  # the request is busy elsewhere; another request runs meanwhile
    if used >= poll.budget:
        raise RuleViolation("budget")
    Vote.objects.get_or_create(poll=poll, membership=membership, suggestion=suggestion)


def club_page_vote(*, poll, membership, suggestion, approve):
    """The club page's vote: read and cast in one statement (papers.votes.vote_as_member)."""
    cast = vote_as_member(
        user=membership.user,
        slug=poll.club.slug,
        poll_id=poll.pk,
        suggestion_id=suggestion.pk,
        approve=approve,
    )
    assert cast is not None
    return cast[3]


@pytest.mark.parametrize(
    "vote",
    [
        set_vote,
        club_page_vote,
        pytest.param(naive_set_vote, marks=pytest.mark.xfail(strict=True, reason="naive")),
    ],
    ids=["service", "club page", "naive"],
)
def test_fast_clicks_never_exceed_the_budget(setup, vote):
    _, poll, papers, members, _ = setup
    member = members[0]

    results = run_together(
        [lambda p=p: vote(poll=poll, membership=member, suggestion=p, approve=True) for p in papers]
    )

    refused = [r for r in results if isinstance(r, RuleViolation)]
    assert Vote.objects.filter(membership=member).count() == 3
    assert len(refused) == 3


def test_votes_racing_the_close_either_count_or_are_refused(setup):
    _, poll, papers, members, owner = setup

    def close():
        time.sleep(0.01)
        return close_poll(poll=poll, closed_by=owner)

    voters = [  # half through the service, half as the club page votes
        lambda m=m, vote=(set_vote, club_page_vote)[i % 2]: vote(
            poll=poll, membership=m, suggestion=papers[0], approve=True
        )
        for i, m in enumerate(members)
    ]
    results = run_together([*voters, close])

    acknowledged = sum(1 for r in results[:-1] if not isinstance(r, Exception))
    refused = [r for r in results[:-1] if isinstance(r, Exception)]
    assert all(isinstance(r, RuleViolation) and "closed" in r.message for r in refused)
    tally = Tally.objects.get(poll=poll, suggestion=papers[0])
    assert tally.votes == acknowledged == Vote.objects.filter(suggestion=papers[0]).count()


def test_two_organizers_closing_at_once_make_one_result(setup):
    club, poll, papers, members, owner = setup
    set_vote(poll=poll, membership=members[0], suggestion=papers[0], approve=True)

    results = run_together([lambda: close_poll(poll=poll, closed_by=owner)] * 2)

    assert sum(isinstance(r, RuleViolation) for r in results) == 1
    assert Tally.objects.filter(poll=poll).count() == len(papers)
    assert Meeting.objects.filter(club=club).count() == 1


def _withdraw(club, target):
    from papers.services import withdraw_suggestion

    return withdraw_suggestion(suggestion=target)


def _schedule(club, target):
    from sessions.services import schedule_meeting

    return schedule_meeting(club=club, suggestions=[target])


@pytest.mark.parametrize("leave", [_withdraw, _schedule], ids=["withdrawn", "scheduled"])
def test_a_vote_racing_the_paper_leaving_the_ballot_never_lands_on_it(setup, leave):
    club, poll, papers, members, _ = setup
    target = papers[5]

    results = run_together(
        [
            *[
                lambda m=m: set_vote(poll=poll, membership=m, suggestion=target, approve=True)
                for m in members[:10]
            ],
            lambda: leave(club, target),
        ]
    )

    assert not isinstance(results[-1], Exception)
    assert Vote.objects.filter(suggestion=target).count() == 0


@pytest.fixture
def big_setup(django_user_model):
    owner = django_user_model.objects.create_user(email="owner@example.com", password="x")
    club = create_club(creator=owner, name="Load", slug="load")
    papers = [
        suggest_paper(club=club, suggested_by=owner, link=f"2402.{i:05d}", title=f"P{i}", pitch="p")
        for i in range(6)
    ]
    members = [
        join_club(club=club, user=django_user_model.objects.create_user(email=f"l{i}@example.com"))
        for i in range(50)
    ]
    return club, open_poll(club=club, opened_by=owner, budget=3), papers, members


def replay(actions, budget):
    """What one member's votes end as, applying their clicks one after another."""
    mine = set()
    for index, approve in actions:
        if approve and index not in mine and len(mine) < budget:
            mine.add(index)
        elif not approve:
            mine.discard(index)
    return mine


def test_fifty_members_toggling_at_once_end_as_a_serial_replay(big_setup):
    import random

    _, poll, papers, members = big_setup
    rng = random.Random(7)
    plans = {m.pk: [(rng.randrange(6), rng.random() < 0.6) for _ in range(12)] for m in members}

    def clicks(member):
        def run():
            refused = 0
            for index, approve in plans[member.pk]:
                try:
                    set_vote(
                        poll=poll, membership=member, suggestion=papers[index], approve=approve
                    )
                except RuleViolation:
                    refused += 1
            return refused

        return run

    results = run_together([clicks(m) for m in members])

    assert [r for r in results if isinstance(r, Exception)] == []
    for member in members:
        actual = {
            papers.index(v.suggestion)
            for v in Vote.objects.filter(membership=member).select_related("suggestion")
        }
        assert actual == replay(plans[member.pk], poll.budget)
    expected_total = sum(len(replay(plan, poll.budget)) for plan in plans.values())
    assert Vote.objects.filter(poll=poll).count() == expected_total


def test_many_suggestions_of_the_same_paper_at_once_leave_exactly_one(big_setup):
    from papers.models import Paper, Suggestion
    from papers.services import DuplicateSuggestion

    club, _, _, members = big_setup

    results = run_together(
        [
            lambda m=m: suggest_paper(
                club=club,
                suggested_by=m.user,
                link="https://arxiv.org/abs/2312.00752v2",
                title="Mamba",
                pitch="same paper",
            )
            for m in members[:12]
        ]
    )

    assert sum(isinstance(r, DuplicateSuggestion) for r in results) == 11
    assert [
        r for r in results if isinstance(r, Exception) and not isinstance(r, DuplicateSuggestion)
    ] == []
    assert Paper.objects.filter(arxiv_id="2312.00752").count() == 1
    assert Suggestion.objects.filter(club=club, paper__arxiv_id="2312.00752").count() == 1


# ---------- Merging two catalog rows while members vote ----------


@pytest.fixture
def two_rows(django_user_model):
    from django.utils import timezone

    from papers.models import Paper, Suggestion
    from papers.titles import title_url_key

    owner = django_user_model.objects.create_user(email="owner@example.com", password="x")
    club = create_club(creator=owner, name="Race", slug="race")
    real = Paper.objects.create(
        arxiv_id="1706.03762",
        title="Attention Is All You Need",
        url="https://arxiv.org/abs/1706.03762",
        fetched_at=timezone.now(),
    )
    typed = Paper.objects.create(
        title="attention is all you need", url_key=title_url_key("attention is all you need")
    )
    by_id = Suggestion.objects.create(club=club, paper=real, suggested_by=owner, pitch="p")
    by_title = Suggestion.objects.create(
        club=club, paper=typed, suggested_by=owner, pitch="p", title="attention"
    )
    members = [
        join_club(
            club=club,
            user=django_user_model.objects.create_user(email=f"m{i}@example.com", password="x"),
        )
        for i in range(12)
    ]
    poll = open_poll(club=club, opened_by=owner, budget=3)
    return poll, real, typed, by_id, by_title, members


def test_votes_cast_while_two_rows_merge_are_all_kept_once(two_rows):
    from papers.catalog import merge_papers

    poll, real, typed, by_id, by_title, members = two_rows

    def voter(membership, suggestion):
        return lambda: set_vote(
            poll=poll, membership=membership, suggestion=suggestion, approve=True
        )

    votes = [voter(m, by_title if i % 2 else by_id) for i, m in enumerate(members)]
    results = run_together([*votes, lambda: merge_papers(survivor=real, duplicate=typed)])

    merged = results[-1]
    assert merged == real
    cast = [r for r in results[:-1] if not isinstance(r, Exception)]
    refused = [r for r in results[:-1] if isinstance(r, Exception)]
    assert all(isinstance(r, RuleViolation) for r in refused), refused
    # A vote for the title row either landed before the merge (and moved) or found the
    # row gone; none is lost once counted, none is counted twice.
    assert Vote.objects.filter(poll=poll).count() == len(cast)
    assert set(Vote.objects.filter(poll=poll).values_list("suggestion", flat=True)) == {by_id.pk}
    assert len(cast) >= len(members) // 2  # the votes for the arXiv row all land


def test_two_merges_of_one_pair_make_one_row(two_rows):
    from papers.catalog import CatalogConflict, merge_papers
    from papers.models import Paper, Suggestion

    _poll, real, typed, by_id, _by_title, _members = two_rows

    results = run_together([lambda: merge_papers(survivor=real, duplicate=typed)] * 2)

    assert sorted(type(r).__name__ for r in results) == ["CatalogConflict", "Paper"]
    assert isinstance(next(r for r in results if isinstance(r, Exception)), CatalogConflict)
    assert list(Paper.objects.values_list("pk", flat=True)) == [real.pk]
    assert list(Suggestion.objects.values_list("pk", flat=True)) == [by_id.pk]


def test_screens_reading_a_live_poll_at_zero_close_it_once(setup):
    import datetime as dt

    from django.utils import timezone

    from papers import live

    club, week_long, papers, members, owner = setup
    close_poll(poll=week_long, closed_by=owner)
    poll = live.open_live_poll(club=club, opened_by=owner, shortlist=[p.pk for p in papers[:3]])
    set_vote(poll=poll, membership=members[0], suggestion=papers[1], approve=True)
    Poll.objects.filter(pk=poll.pk).update(
        opened_at=timezone.now() - dt.timedelta(minutes=5),
        closes_at=timezone.now() - dt.timedelta(seconds=1),
    )

    results = run_together(
        [lambda: live.close_if_due(Poll.objects.get(pk=poll.pk)) for _ in range(6)]
    )

    assert all(isinstance(r, Poll) and r.is_closed for r in results), results
    assert Tally.objects.filter(poll=poll).count() == 3
    assert Meeting.objects.filter(poll=poll).count() == 1
    assert Poll.objects.get(pk=poll.pk).winner_id == papers[1].pk
