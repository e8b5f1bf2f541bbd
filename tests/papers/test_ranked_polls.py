"""Ranked polls: members order the candidates; closing counts by instant runoff or Schulze."""

import json

import pytest
from django.urls import reverse

from clubs.services import join_club
from paperclub.errors import RuleViolation
from papers.models import Poll, Ranking, Tally
from papers.polls import close_poll, open_poll, set_ranking
from papers.services import suggest_paper, withdraw_suggestion
from papers.votes import set_vote

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def ranked_poll(club, organizer, dpo, lora, flash):
    return open_poll(club=club, opened_by=organizer, method=Poll.Method.IRV)


def ranking_url(club, poll) -> str:
    return reverse("papers:ranking", args=[club.slug, poll.pk])


def voters(club, django_user_model, count: int):
    people = []
    for i in range(count):
        user = django_user_model.objects.create_user(
            email=f"voter{i}@example.com", password="x-long-password-1", display_name=f"V{i}"
        )
        people.append(join_club(club=club, user=user))
    return people


def test_ranking_is_stored_in_order_and_replaced_whole(ranked_poll, member_ship, dpo, lora, flash):
    set_ranking(poll=ranked_poll, membership=member_ship, order=[lora.pk, dpo.pk])
    set_ranking(poll=ranked_poll, membership=member_ship, order=[flash.pk, lora.pk, dpo.pk])

    stored = list(
        Ranking.objects.filter(membership=member_ship).values_list("suggestion_id", "position")
    )
    assert stored == [(flash.pk, 1), (lora.pk, 2), (dpo.pk, 3)]


@pytest.mark.parametrize(
    ("order", "message"),
    [
        (lambda s: [s[0], s[0]], "A paper can appear only once in your ranking."),
        (lambda s: [s[0], 999999], "That paper is no longer on the ballot."),
    ],
    ids=["twice", "unknown"],
)
def test_bad_ranking_is_refused_and_keeps_the_old_one(
    ranked_poll, member_ship, dpo, lora, flash, order, message
):
    set_ranking(poll=ranked_poll, membership=member_ship, order=[lora.pk])

    with pytest.raises(RuleViolation) as refused:
        set_ranking(poll=ranked_poll, membership=member_ship, order=order([dpo.pk, lora.pk]))

    assert refused.value.message == message
    assert list(Ranking.objects.values_list("suggestion_id", flat=True)) == [lora.pk]


def test_withdrawn_paper_cannot_be_ranked(ranked_poll, member_ship, dpo):
    withdraw_suggestion(suggestion=dpo)

    with pytest.raises(RuleViolation, match="no longer on the ballot"):
        set_ranking(poll=ranked_poll, membership=member_ship, order=[dpo.pk])


def test_approval_votes_are_refused_on_a_ranked_poll(ranked_poll, member_ship, dpo):
    with pytest.raises(RuleViolation, match="order the papers instead"):
        set_vote(poll=ranked_poll, membership=member_ship, suggestion=dpo, approve=True)


def test_ranking_is_refused_on_an_approval_poll(poll, member_ship, dpo):
    with pytest.raises(RuleViolation, match="not a ranked poll"):
        set_ranking(poll=poll, membership=member_ship, order=[dpo.pk])


def test_instant_runoff_close_records_rounds_and_schedules_the_winner(
    club, organizer, django_user_model, ranked_poll, dpo, lora, flash
):
    # 7 ballots: DPO 3 first choices, LoRA 2, Flash 2. Flash goes first (tie for last,
    # Flash was suggested last); its ballots move to LoRA, which then wins 4 to 3.
    ballots = [[dpo], [dpo], [dpo], [lora], [lora], [flash, lora], [flash, lora]]
    for membership, ballot in zip(voters(club, django_user_model, 7), ballots, strict=True):
        set_ranking(poll=ranked_poll, membership=membership, order=[s.pk for s in ballot])

    poll = close_poll(poll=ranked_poll, closed_by=organizer)

    assert poll.winner == lora
    assert [r["counts"] for r in poll.result_detail["rounds"]] == [
        [["Direct Preference Optimization", 3], ["LoRA", 2], ["FlashAttention", 2]],
        [["LoRA", 4], ["Direct Preference Optimization", 3]],
    ]
    assert "FlashAttention" in poll.tie_break_applied
    assert list(Tally.objects.filter(poll=poll).values_list("suggestion", "votes", "rank")) == [
        (lora.pk, 2, 1),
        (dpo.pk, 3, 2),
        (flash.pk, 2, 3),
    ]
    assert poll.meeting.suggestions.get() == lora


def test_schulze_close_picks_the_condorcet_winner_and_keeps_the_head_to_head(
    club, organizer, django_user_model, dpo, lora, flash
):
    poll = open_poll(club=club, opened_by=organizer, method=Poll.Method.SCHULZE)
    # LoRA is everyone's second choice and beats both others head to head.
    ballots = [[dpo, lora, flash]] * 3 + [[flash, lora, dpo]] * 3 + [[lora, flash, dpo]]
    for membership, ballot in zip(voters(club, django_user_model, 7), ballots, strict=True):
        set_ranking(poll=poll, membership=membership, order=[s.pk for s in ballot])

    poll = close_poll(poll=poll, closed_by=organizer)

    assert poll.winner == lora
    table = poll.result_detail["pairwise"]
    assert table == [
        {"title": "LoRA", "cells": [None, 4, 4]},
        {"title": "FlashAttention", "cells": [3, None, 4]},
        {"title": "Direct Preference Optimization", "cells": [3, 3, None]},
    ]


def test_ranked_poll_with_no_ballots_has_no_winner(ranked_poll, organizer):
    poll = close_poll(poll=ranked_poll, closed_by=organizer)

    assert poll.winner is None
    assert poll.result_detail["ballots"] == 0


# Views


def test_rank_button_adds_the_paper_and_returns_the_ranking(
    member_client, club, ranked_poll, dpo, lora
):
    response = member_client.post(
        ranking_url(club, ranked_poll), {"order": [lora.pk, dpo.pk]}, **HTMX
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"rankingChanged": {}}
    assert body.lstrip().startswith('<div id="ranking"')
    assert body.index("LoRA") < body.index("Direct Preference Optimization")
    # The move-up button of DPO sends the order with DPO first.
    assert f'name="order" value="{dpo.pk}"' in body


def test_club_page_shows_rank_buttons_and_the_members_ranking(
    member_client, club, ranked_poll, member_ship, dpo, lora
):
    set_ranking(poll=ranked_poll, membership=member_ship, order=[lora.pk])

    body = member_client.get(club.get_absolute_url()).content.decode()

    assert "Your #1" in body
    assert f'aria-label="Rank {dpo.paper.title} next"' in body
    assert 'data-ranking-url="' in body
    assert "You have ranked</strong> 1 paper" in body


def test_ranking_without_javascript_redirects_back(member_client, club, ranked_poll, dpo):
    response = member_client.post(ranking_url(club, ranked_poll), {"order": [dpo.pk]})

    assert response.status_code == 302
    assert response["Location"].endswith("#ranking")


@pytest.mark.parametrize("order", [["x"], [str(i) for i in range(501)]], ids=["text", "huge"])
def test_forged_ranking_is_refused_with_a_message(member_client, club, ranked_poll, order):
    response = member_client.post(ranking_url(club, ranked_poll), {"order": order}, **HTMX)

    assert response.status_code == 400
    assert "could not be read" in response.content.decode()
    assert Ranking.objects.count() == 0


def test_outsider_cannot_rank(outsider_client, club, ranked_poll, dpo):
    response = outsider_client.post(ranking_url(club, ranked_poll), {"order": [dpo.pk]}, **HTMX)

    assert response.status_code == 403
    assert Ranking.objects.count() == 0


def test_result_page_shows_rounds_and_method(
    client, club, organizer, member_ship, ranked_poll, lora
):
    set_ranking(poll=ranked_poll, membership=member_ship, order=[lora.pk])
    close_poll(poll=ranked_poll, closed_by=organizer)

    body = client.get(reverse("papers:poll", args=[club.slug, ranked_poll.pk])).content.decode()

    assert "Ranked: instant runoff" in body
    assert "Round 1" in body
    assert "First choices" in body


def test_opening_a_ranked_poll_from_the_form(organizer_client, club, dpo):
    response = organizer_client.post(
        reverse("papers:poll_open", args=[club.slug]), {"method": "schulze", "budget": 3}
    )

    assert response.status_code == 302
    assert Poll.objects.get().method == "schulze"


def test_club_page_queries_do_not_grow_with_ranked_candidates(
    member_client, club, member, ranked_poll, member_ship, same_queries
):
    def grow():
        for i in range(5):
            suggest_paper(
                club=club, suggested_by=member, link=f"2401.0000{i}", title=f"P{i}", pitch="p"
            )
        set_ranking(
            poll=ranked_poll,
            membership=member_ship,
            order=list(club.suggestions.values_list("pk", flat=True)),
        )

    same_queries(lambda: member_client.get(club.get_absolute_url()), grow)
