"""A paper that leaves the ballot while a poll is open (scheduled for a session, chosen by
an override, withdrawn) gives its votes back: the voters may spend them on other papers,
and the counts everyone sees drop. A closed poll keeps its votes, as its result."""

import pytest
from django.test import Client
from django.urls import reverse

from papers.models import Vote
from papers.polls import close_poll, open_poll, override_winner
from papers.services import suggest_paper
from papers.votes import set_vote

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def papers(club, member):
    return [
        suggest_paper(
            club=club, suggested_by=member, link=f"2402.0000{i}", title=f"P{i}", pitch="p"
        )
        for i in range(3)
    ]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def vote(client, club, poll, suggestion):
    url = reverse("papers:vote", args=[club.slug, poll.pk, suggestion.pk])
    return client.post(url, {"approve": "1"}, **HTMX)


def schedule(client, club, suggestion):
    return client.post(
        reverse("meetings:new", args=[club.slug]),
        {
            "suggestions": [suggestion.pk],
            "source": "organizer",
            "starts_at": "2030-05-01T20:00",
            "duration": "60",
            "place_name": "Discord",
            "place_url": "https://discord.com/",
        },
    )


def withdraw(client, club, suggestion):
    return client.post(reverse("papers:suggestion_withdraw", args=[club.slug, suggestion.pk]))


@pytest.mark.parametrize("leave", [schedule, withdraw], ids=["scheduled", "withdrawn"])
def test_a_paper_leaving_the_ballot_mid_poll_gives_its_voters_their_votes_back(
    club, organizer, member, papers, leave
):
    poll = open_poll(club=club, opened_by=organizer, budget=2, show_live_results=True)
    voter, organizer_client = signed_in(member), signed_in(organizer)
    assert [vote(voter, club, poll, p).status_code for p in papers[:2]] == [200, 200]
    assert vote(voter, club, poll, papers[2]).status_code == 409  # the budget is spent

    assert leave(organizer_client, club, papers[0]).status_code == 302

    page = voter.get(reverse("clubs:detail", args=[club.slug])).content.decode()
    assert "1 vote left" in page
    assert f'id="suggestion-{papers[0].pk}"' not in page  # off the ballot
    assert vote(voter, club, poll, papers[2]).status_code == 200
    assert set(Vote.objects.values_list("suggestion", flat=True)) == {papers[1].pk, papers[2].pk}


def test_a_closed_polls_votes_stay_when_its_winner_is_scheduled(club, organizer, member, papers):
    poll = open_poll(club=club, opened_by=organizer, budget=2)
    membership = club.memberships.get(user=member)
    for paper in papers[:2]:
        set_vote(poll=poll, membership=membership, suggestion=paper, approve=True)

    close_poll(poll=poll, closed_by=organizer)  # schedules the winner

    assert Vote.objects.filter(poll=poll).count() == 2


def test_an_override_takes_the_new_winners_votes_out_of_the_next_open_poll(
    club, organizer, member, papers
):
    membership = club.memberships.get(user=member)
    first = open_poll(club=club, opened_by=organizer, budget=2)
    set_vote(poll=first, membership=membership, suggestion=papers[0], approve=True)
    close_poll(poll=first, closed_by=organizer)
    second = open_poll(club=club, opened_by=organizer, budget=1)
    set_vote(poll=second, membership=membership, suggestion=papers[1], approve=True)

    override_winner(poll=first, suggestion=papers[1], overridden_by=organizer, reason="Away")

    assert not Vote.objects.filter(poll=second).exists()
    assert Vote.objects.filter(poll=first).count() == 1  # the closed poll's record stays
    set_vote(poll=second, membership=membership, suggestion=papers[2], approve=True)


def _weekly_poll(club, organizer, papers):
    return open_poll(club=club, opened_by=organizer, budget=2)


def _live_poll(club, organizer, papers):
    from papers.live import open_live_poll

    return open_live_poll(
        club=club, opened_by=organizer, shortlist=[p.pk for p in papers[:2]], budget=2
    )


@pytest.mark.parametrize(
    ("route", "open_it"),
    [("papers:vote", _weekly_poll), ("papers:live_vote", _live_poll)],
    ids=["club-page", "live-ballot"],
)
@pytest.mark.parametrize("approve", ["", "2", "true", "yes", "1 ", "-1", "\uff10", "\u0661", None])
def test_a_vote_that_is_neither_a_vote_nor_a_take_back_is_refused(
    club, organizer, member, papers, approve, route, open_it
):
    poll = open_it(club, organizer, papers)
    set_vote(
        poll=poll, membership=club.memberships.get(user=member), suggestion=papers[0], approve=True
    )
    url = reverse(route, args=[club.slug, poll.pk, papers[0].pk])

    response = signed_in(member).post(url, {} if approve is None else {"approve": approve}, **HTMX)

    assert response.status_code == 400
    assert "Choose to vote for the paper or to take your vote back." in response.content.decode()
    assert Vote.objects.count() == 1  # the vote was not taken back


def test_a_take_back_answered_after_the_paper_left_the_ballot_shows_no_row(
    rf, club, organizer, member, papers
):
    # The take-back's read saw the paper open; it was scheduled before the answer's row
    # was rendered (a race seen over HTTP as a 500): the answer leaves the row out.
    from clubs.access import ClubAccess
    from clubs.page import vote_answer
    from sessions.services import schedule_meeting

    poll = open_poll(club=club, opened_by=organizer, budget=2)
    membership = club.memberships.get(user=member)
    stale = type(papers[0]).objects.get(pk=papers[0].pk)  # read while open
    schedule_meeting(club=club, suggestions=[papers[0]])
    request = rf.post("/")
    request.user = member

    answer = vote_answer(
        request,
        ClubAccess(club=club, membership=membership),
        poll,
        stale,
        voted=False,
        votes_used=0,
    )

    assert "suggestion-" not in answer
    assert '<span class="votes-left">2 votes left</span>' in answer


def test_a_member_who_left_meanwhile_is_refused_and_nothing_is_written(
    club, organizer, member, papers
):
    # The vote's caller read the membership, then the member left (a race seen over HTTP
    # as a 500 on SQLite): the vote is refused as an outsider's.
    from paperclub.errors import RuleViolation

    poll = open_poll(club=club, opened_by=organizer, budget=2)
    held = club.memberships.get(user=member)
    club.memberships.filter(pk=held.pk).delete()

    with pytest.raises(RuleViolation) as refusal:
        set_vote(poll=poll, membership=held, suggestion=papers[0], approve=True)

    assert refusal.value.status == 403
    assert not Vote.objects.exists()
