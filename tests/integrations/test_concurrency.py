"""A Discord click and a web click by the same member at the same moment, on PostgreSQL with
real connections (one per thread): the state is one a serial replay of the two would leave."""

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from clubs.services import create_club, join_club
from integrations.models import DiscordLink
from papers.models import Vote
from papers.polls import open_poll
from papers.services import suggest_paper
from tests.integrations.conftest import CHANNEL, GUILD, MEMBER_ID, Discord, connect
from tests.papers.test_concurrency import run_together

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="concurrency is tested on PostgreSQL"
    ),
]

ROUNDS = 6


@pytest.fixture
def race(django_user_model, signing_key):
    from django.utils import timezone

    owner = django_user_model.objects.create_user(email="owner@example.com", password="x")
    voter = django_user_model.objects.create_user(email="voter@example.com", password="x")
    club = create_club(creator=owner, name="Race", slug="race")
    membership = join_club(club=club, user=voter)
    connect(voter, MEMBER_ID)
    DiscordLink.objects.create(
        club=club,
        guild_id=GUILD,
        channel_id=CHANNEL,
        confirmed_at=timezone.now(),
        confirmed_by_discord_user=MEMBER_ID,
    )
    papers = [
        suggest_paper(club=club, suggested_by=owner, link=f"2401.{i:05d}", title=f"P{i}", pitch="p")
        for i in range(2)
    ]
    return club, voter, membership, papers, Discord(signing_key)


def web_vote(club, voter, poll, suggestion):
    client = Client()
    client.force_login(voter)
    url = reverse("papers:vote", args=[club.slug, poll.pk, suggestion.pk])
    return client.post(url, {"approve": "1"}, headers={"HX-Request": "true"}).status_code


def test_one_budget_holds_for_a_discord_click_and_a_web_click_together(race):
    club, voter, _, (first, second), discord = race
    outcomes = []
    for _ in range(ROUNDS):
        Vote.objects.all().delete()
        poll = open_poll(club=club, opened_by=voter, budget=1)

        reply, status = run_together(
            [
                lambda p=poll: discord.click(f"vote:{p.pk}:{first.pk}")["data"]["content"],
                lambda p=poll: web_vote(club, voter, p, second),
            ]
        )

        votes = list(Vote.objects.filter(poll=poll).values_list("suggestion", flat=True))
        # Serially, whichever came first has the one vote and the other is refused.
        if reply.startswith("You voted for"):
            assert votes == [first.pk]
            assert status == 409
        else:
            assert reply.startswith("You have used all 1 of your votes.")
            assert votes == [second.pk]
            assert status == 200
        outcomes.append(votes[0])
        poll.closed_at = poll.opened_at
        poll.save(update_fields=["closed_at"])
    assert len(outcomes) == ROUNDS


def test_a_toggle_and_a_web_vote_on_the_same_paper_replay_serially(race):
    club, voter, _, (first, _), discord = race
    for _ in range(ROUNDS):
        Vote.objects.all().delete()
        poll = open_poll(club=club, opened_by=voter, budget=3)

        reply, status = run_together(
            [
                lambda p=poll: discord.click(f"vote:{p.pk}:{first.pk}")["data"]["content"],
                lambda p=poll: web_vote(club, voter, p, first),
            ]
        )

        votes = Vote.objects.filter(poll=poll, suggestion=first).count()
        assert status == 200
        if reply.startswith("You voted for"):
            # Discord first: its click votes, the web's vote for the same paper keeps it.
            assert votes == 1
        else:
            # The web first: Discord's click finds the vote and takes it back.
            assert reply.startswith("You took back your vote for")
            assert votes == 0
        poll.closed_at = poll.opened_at
        poll.save(update_fields=["closed_at"])
