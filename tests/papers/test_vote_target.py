"""papers.access.vote_target: the vote's one-query read of the member's club, poll and paper.

It reads with fixed SQL instead of the ORM, so these tests hold it to what the ORM gives:
the same field values (dates as aware datetimes on SQLite too), and the same answers as
the other helpers for everyone who is not a member voting in their own club."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import RequestFactory
from django.utils import timezone

from clubs.models import Club, Membership
from papers.access import vote_target
from papers.models import Poll, Suggestion
from papers.polls import open_poll
from papers.services import suggest_paper


@pytest.fixture
def ballot(club, organizer):
    suggestion = suggest_paper(
        club=club, suggested_by=organizer, link="1706.03762", title="Attention", pitch="p"
    )
    poll = open_poll(
        club=club, opened_by=organizer, closes_at=timezone.now() + dt.timedelta(days=2)
    )
    return poll, suggestion


def as_user(user):
    request = RequestFactory().post("/")
    request.user = user
    return request


def fields(instance, names=None) -> dict:
    return {
        f.attname: getattr(instance, f.attname)
        for f in type(instance)._meta.concrete_fields
        if names is None or f.attname in names
    }


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["member", "organizer"])
def test_a_member_gets_what_the_orm_reads_in_one_query(
    request, role, club, ballot, django_assert_num_queries
):
    user = request.getfixturevalue(role)
    poll, suggestion = ballot

    with django_assert_num_queries(1):
        access, got_poll, got_suggestion = vote_target(
            as_user(user), club.slug, poll.pk, suggestion.pk
        )

    membership = Membership.objects.get(club=club, user=user)
    assert fields(access.membership) == fields(membership)
    assert fields(access.club) == fields(Club.objects.get(pk=club.pk))
    assert fields(got_poll) == fields(Poll.objects.get(pk=poll.pk))
    assert isinstance(got_poll.closes_at, dt.datetime) and got_poll.closes_at.tzinfo is not None
    assert got_poll.is_open()
    names = ("id", "club_id", "state", "suggested_by_id")
    assert fields(got_suggestion, names) == fields(Suggestion.objects.get(pk=suggestion.pk), names)
    assert access.is_organizer == (role == "organizer")
    assert got_poll.club is access.club


@pytest.mark.django_db
def test_someone_outside_a_public_club_is_refused_as_elsewhere(club, ballot, outsider):
    poll, suggestion = ballot

    with pytest.raises(PermissionDenied):
        vote_target(as_user(outsider), club.slug, poll.pk, suggestion.pk)


@pytest.mark.django_db
def test_a_private_club_does_not_exist_for_someone_outside_it(private_club, organizer, outsider):
    suggestion = suggest_paper(
        club=private_club, suggested_by=organizer, link="1706.03762", title="A", pitch="p"
    )
    poll = open_poll(club=private_club, opened_by=organizer)

    with pytest.raises(Http404):
        vote_target(as_user(outsider), private_club.slug, poll.pk, suggestion.pk)


@pytest.mark.django_db
def test_another_clubs_paper_or_poll_is_not_found_for_a_member(
    club, private_club, ballot, member, organizer
):
    poll, suggestion = ballot
    elsewhere = suggest_paper(
        club=private_club, suggested_by=organizer, link="2305.18290", title="B", pitch="p"
    )
    other_poll = open_poll(club=private_club, opened_by=organizer)

    for poll_pk, suggestion_pk in [
        (poll.pk, elsewhere.pk),
        (other_poll.pk, suggestion.pk),
        (poll.pk, 10**9),
        (10**9, suggestion.pk),
        (poll.pk, 2**63),  # past the integer columns' range
        (10**20, suggestion.pk),
    ]:
        with pytest.raises(Http404):
            vote_target(as_user(member), club.slug, poll_pk, suggestion_pk)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["polls/{poll}/vote/99999999999999999999/", "polls/{big}/vote/1/"])
def test_ids_past_the_integer_range_are_not_found_over_http(club, ballot, member_client, path):
    poll, _ = ballot
    url = f"/c/{club.slug}/" + path.format(poll=poll.pk, big=2**63)

    assert member_client.post(url, {"approve": "1"}).status_code == 404
    assert (
        member_client.post(f"/c/no-such-club/{path.format(poll=1, big=2**63)}").status_code == 404
    )


@pytest.mark.django_db
@pytest.mark.parametrize("approve", ["1", "0"])
def test_the_vote_answer_stays_under_2_kb_with_a_long_title(
    club, organizer, member_client, approve
):
    # The busiest answer the site sends: the row and the "votes left" line, no whitespace
    # between tags (a title and pitch as long as people write them).
    long = suggest_paper(
        club=club,
        suggested_by=organizer,
        link="2401.04088",
        title="Mixtral of Experts: Sparse Mixture of Experts Language Models at Scale " * 2,
        pitch="Why sparse routing matters for serving costs, and what it does to quality. " * 2,
    )
    poll = open_poll(club=club, opened_by=organizer)
    url = f"/c/{club.slug}/polls/{poll.pk}/vote/{long.pk}/"

    answer = member_client.post(url, {"approve": approve}, headers={"HX-Request": "true"})

    body = answer.content.decode()
    assert answer.status_code == 200
    assert f'id="suggestion-{long.pk}"' in body and 'id="ballot-status"' in body
    assert len(answer.content) < 2048
    assert ">\n" not in body.split('id="ballot-status"')[0]  # the row is spaceless too
