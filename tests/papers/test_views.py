import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from papers.models import Poll, Suggestion, Vote
from papers.polls import close_poll, open_poll
from papers.services import suggest_paper
from papers.votes import set_vote

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def htmx_from(page: str) -> dict:
    return {**HTMX, "HTTP_HX_CURRENT_URL": f"http://testserver{page}"}


# Suggest


def test_suggest_with_htmx_returns_a_fresh_form_and_announces_the_new_paper(member_client, club):
    response = member_client.post(
        reverse("papers:suggest", args=[club.slug]),
        {"link": "arxiv.org/abs/2305.18290v2", "title": "DPO", "pitch": "RLHF without RL"},
        **HTMX,
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"suggestionAdded": {}}
    assert body.lstrip().startswith('<form id="suggest-form"')
    assert "<html" not in body
    assert "“DPO” is on the list." in body
    assert Suggestion.objects.get().paper.arxiv_id == "2305.18290"


def test_suggest_list_region_refreshes_with_the_new_paper(member_client, club, member):
    suggest_paper(club=club, suggested_by=member, link="1706.03762", title="Attention", pitch="p")

    response = member_client.get(
        reverse("clubs:detail", args=[club.slug]), HTTP_HX_TARGET="suggestions", **HTMX
    )

    body = response.content.decode()
    assert body.lstrip().startswith('<ol id="suggestions"')
    assert "Attention" in body


def test_suggest_duplicate_explains_with_a_link_and_writes_nothing(member_client, club, organizer):
    existing = suggest_paper(
        club=club, suggested_by=organizer, link="2305.18290", title="DPO", pitch="p"
    )

    response = member_client.post(
        reverse("papers:suggest", args=[club.slug]),
        {"link": "https://arxiv.org/pdf/2305.18290v1.pdf", "pitch": "Again"},
        **HTMX,
    )

    body = response.content.decode()
    assert response.status_code == 422
    assert "Already suggested by Olive Organizer" in body
    assert f'href="/c/{club.slug}/#suggestion-{existing.pk}"' in body
    assert Suggestion.objects.count() == 1


def test_suggest_invalid_input_returns_form_errors_without_writing(member_client, club):
    response = member_client.post(
        reverse("papers:suggest", args=[club.slug]), {"link": "nonsense", "pitch": ""}, **HTMX
    )

    body = response.content.decode()
    assert response.status_code == 422
    assert "neither an arXiv ID" in body
    assert "Tell the club in a sentence why it is worth reading" in body  # what a pitch is for
    assert "This field is required." not in body
    assert Suggestion.objects.count() == 0


def test_suggest_without_javascript_redirects_to_the_new_suggestion(member_client, club):
    response = member_client.post(
        reverse("papers:suggest", args=[club.slug]),
        {"link": "https://example.com/post", "title": "A blog post", "pitch": "Worth it"},
    )

    suggestion = Suggestion.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/c/{club.slug}/#suggestion-{suggestion.pk}"


def test_suggest_check_reports_a_duplicate_as_you_type(member_client, club, organizer):
    suggest_paper(club=club, suggested_by=organizer, link="2305.18290", title="DPO", pitch="p")

    response = member_client.post(
        reverse("papers:suggest_check", args=[club.slug]), {"link": "2305.18290v4"}, **HTMX
    )

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="link-feedback"')
    assert "Already suggested by Olive Organizer" in body


def test_suggest_check_recognises_an_arxiv_link(member_client, club):
    response = member_client.post(
        reverse("papers:suggest_check", args=[club.slug]),
        {"link": "https://huggingface.co/papers/2305.18290"},
        **HTMX,
    )

    assert "arXiv paper 2305.18290" in response.content.decode()


def test_suggest_is_for_members(client, club, outsider, private_club):
    data = {"link": "2305.18290", "title": "DPO", "pitch": "p"}
    client.force_login(outsider)

    public = client.post(reverse("papers:suggest", args=[club.slug]), data)
    private = client.post(reverse("papers:suggest", args=[private_club.slug]), data)

    assert (public.status_code, private.status_code) == (403, 404)
    assert Suggestion.objects.count() == 0


def test_anonymous_htmx_post_is_sent_to_sign_in(client, club):
    page = f"/c/{club.slug}/"

    response = client.post(reverse("papers:suggest", args=[club.slug]), {}, **htmx_from(page))

    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/?next=%2Fc%2Fasia%2F"


# Edit and withdraw


@pytest.fixture
def members_suggestion(club, member):
    return suggest_paper(club=club, suggested_by=member, link="2305.18290", title="DPO", pitch="p")


def test_suggester_edits_own_open_suggestion(member_client, club, members_suggestion):
    response = member_client.post(
        reverse("papers:suggestion_edit", args=[club.slug, members_suggestion.pk]),
        {"pitch": "Better pitch", "takeaway": ""},
    )

    members_suggestion.refresh_from_db()
    assert response.status_code == 302
    assert members_suggestion.pitch == "Better pitch"


@pytest.mark.parametrize("scheduled", [False, True], ids=["open", "scheduled"])
def test_an_edit_lands_where_the_paper_is_shown(
    organizer_client, club, members_suggestion, scheduled
):
    from sessions.services import schedule_meeting

    url = f"{club.get_absolute_url()}#suggestion-{members_suggestion.pk}"
    if scheduled:  # off the ballot: shown on its session's page
        url = schedule_meeting(club=club, suggestions=[members_suggestion]).get_absolute_url()

    response = organizer_client.post(
        reverse("papers:suggestion_edit", args=[club.slug, members_suggestion.pk]),
        {"pitch": "Better pitch", "takeaway": "", "title": "DPO, retitled"},
    )

    assert response.status_code == 302
    assert response["Location"] == url
    page, _, anchor = url.partition("#")
    body = organizer_client.get(page).content.decode()
    assert "DPO, retitled" in body
    assert not anchor or f'id="{anchor}"' in body


def test_other_members_cannot_edit_or_withdraw(client, club, members_suggestion, django_user_model):
    from clubs.services import join_club

    other = django_user_model.objects.create_user(email="other@example.com", password="x")
    join_club(club=club, user=other)
    client.force_login(other)

    edit = client.post(
        reverse("papers:suggestion_edit", args=[club.slug, members_suggestion.pk]), {"pitch": "x"}
    )
    withdraw = client.post(
        reverse("papers:suggestion_withdraw", args=[club.slug, members_suggestion.pk])
    )

    members_suggestion.refresh_from_db()
    assert (edit.status_code, withdraw.status_code) == (403, 403)
    assert (members_suggestion.pitch, members_suggestion.state) == ("p", "open")


def test_organizer_removes_any_suggestion(organizer_client, club, members_suggestion):
    organizer_client.post(
        reverse("papers:suggestion_withdraw", args=[club.slug, members_suggestion.pk])
    )

    members_suggestion.refresh_from_db()
    assert members_suggestion.state == "withdrawn"


def test_suggester_cannot_edit_once_chosen(member_client, club, members_suggestion):
    Suggestion.objects.filter(pk=members_suggestion.pk).update(state="chosen")

    response = member_client.get(
        reverse("papers:suggestion_edit", args=[club.slug, members_suggestion.pk])
    )

    assert response.status_code == 403


def test_empty_pitch_on_edit_is_refused(member_client, club, members_suggestion):
    response = member_client.post(
        reverse("papers:suggestion_edit", args=[club.slug, members_suggestion.pk]), {"pitch": ""}
    )

    members_suggestion.refresh_from_db()
    assert response.status_code == 422
    assert members_suggestion.pitch == "p"


# Polls


def test_poll_form_defaults_closing_time_to_the_day_before_the_next_session(organizer_client, club):
    from papers.polls import default_poll_closing

    response = organizer_client.get(reverse("papers:poll_open", args=[club.slug]))

    initial = response.context["form"].initial["closes_at"]
    assert abs(initial - default_poll_closing(club)) < dt.timedelta(minutes=1)
    assert initial > timezone.now()


def test_organizer_opens_poll_with_closing_time_in_club_time_zone(organizer_client, club):
    response = organizer_client.post(
        reverse("papers:poll_open", args=[club.slug]),
        {"closes_at": "2030-01-10T21:00", "budget": "2"},
    )

    poll = Poll.objects.get()
    assert response.status_code == 302
    assert poll.closes_at == dt.datetime(2030, 1, 10, 13, 0, tzinfo=dt.UTC)  # Singapore is UTC+8
    assert (poll.budget, poll.show_live_results) == (2, False)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"budget": "0"}, "greater than or equal to 1"),
        ({"budget": "-1"}, "greater than or equal to 1"),
        ({"budget": "3", "closes_at": "2001-01-01T10:00"}, "must be in the future"),
        ({"budget": "3", "closes_at": "tomorrow"}, "Enter a valid date/time"),
    ],
)
def test_bad_poll_settings_are_refused(organizer_client, club, data, message):
    response = organizer_client.post(reverse("papers:poll_open", args=[club.slug]), data)

    assert response.status_code == 422
    assert message in response.content.decode()
    assert Poll.objects.count() == 0


def test_time_that_does_not_exist_in_club_zone_is_refused(organizer_client, organizer):
    from clubs.services import create_club

    club = create_club(creator=organizer, name="Berlin", slug="berlin", time_zone="Europe/Berlin")

    response = organizer_client.post(
        reverse("papers:poll_open", args=[club.slug]),
        {"closes_at": "2030-03-31T02:30", "budget": "3"},
    )

    assert response.status_code == 422
    assert Poll.objects.count() == 0


def test_members_cannot_open_or_close_polls(member_client, club, organizer, member):
    poll = open_poll(club=club, opened_by=organizer)

    opened = member_client.post(reverse("papers:poll_open", args=[club.slug]), {"budget": "3"})
    closed = member_client.post(reverse("papers:poll_close", args=[club.slug, poll.pk]))

    poll.refresh_from_db()
    assert (opened.status_code, closed.status_code) == (403, 403)
    assert poll.closed_at is None


# Voting through the page


@pytest.fixture
def ballot(club, organizer, member):
    papers = [
        suggest_paper(
            club=club, suggested_by=member, link=f"2401.0000{i}", title=f"Paper {i}", pitch="p"
        )
        for i in range(3)
    ]
    return open_poll(club=club, opened_by=organizer, budget=2), papers


def vote_url(club, poll, suggestion):
    return reverse("papers:vote", args=[club.slug, poll.pk, suggestion.pk])


def test_vote_with_htmx_returns_the_candidate_and_a_vote_event(member_client, club, ballot):
    poll, papers = ballot

    response = member_client.post(vote_url(club, poll, papers[0]), {"approve": "1"}, **HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"voteCast": {}}
    assert body.lstrip().startswith(f'<li class="suggestion voted" id="suggestion-{papers[0].pk}"')
    assert "✓ You voted" in body
    assert 'aria-pressed="true"' in body
    assert "vote-count" not in body  # counts hidden until close by default
    assert Vote.objects.count() == 1


def test_vote_answer_carries_the_votes_left_out_of_band(member_client, club, ballot):
    poll, papers = ballot

    response = member_client.post(vote_url(club, poll, papers[0]), {"approve": "1"}, **HTMX)

    body = response.content.decode()
    row, _, rest = body.partition("</li>")
    assert f'id="suggestion-{papers[0].pk}"' in row
    assert '<p id="ballot-status"' in rest
    assert 'hx-swap-oob="true"' in rest
    assert "1 vote left" in rest


def test_take_back_answer_carries_the_votes_left_out_of_band(member_client, club, ballot, member):
    poll, papers = ballot
    membership = club.memberships.get(user=member)
    set_vote(poll=poll, membership=membership, suggestion=papers[0], approve=True)

    response = member_client.post(vote_url(club, poll, papers[0]), {"approve": "0"}, **HTMX)

    body = response.content.decode()
    assert "You have not voted yet" in body
    assert "2 votes left" in body
    assert Vote.objects.count() == 0


def test_a_vote_does_not_make_the_page_ask_again(member_client, club, ballot):
    """One click is one request: no region of the page refreshes on the vote event."""
    body = member_client.get(reverse("clubs:detail", args=[club.slug])).content.decode()

    assert "voteCast" not in body


def test_votes_left_region_reflects_the_vote(member_client, club, ballot, member):
    poll, papers = ballot
    set_vote(
        poll=poll, membership=club.memberships.get(user=member), suggestion=papers[0], approve=True
    )

    response = member_client.get(
        reverse("clubs:detail", args=[club.slug]), HTTP_HX_TARGET="ballot-status", **HTMX
    )

    body = response.content.decode()
    assert body.lstrip().startswith('<p id="ballot-status"')
    assert "You have voted" in body
    assert "1 vote left" in body


def test_page_shows_member_has_not_voted_yet(member_client, club, ballot):
    body = member_client.get(reverse("clubs:detail", args=[club.slug])).content.decode()

    assert "You have not voted yet" in body
    assert "2 votes left" in body


def test_take_back_a_vote(member_client, club, ballot, member):
    poll, papers = ballot
    set_vote(
        poll=poll, membership=club.memberships.get(user=member), suggestion=papers[0], approve=True
    )

    response = member_client.post(vote_url(club, poll, papers[0]), {"approve": "0"}, **HTMX)

    assert 'aria-pressed="false"' in response.content.decode()
    assert Vote.objects.count() == 0


def test_vote_past_budget_is_refused_with_409_message(member_client, club, ballot, member):
    poll, papers = ballot
    membership = club.memberships.get(user=member)
    for paper in papers[:2]:
        set_vote(poll=poll, membership=membership, suggestion=paper, approve=True)

    response = member_client.post(vote_url(club, poll, papers[2]), {"approve": "1"}, **HTMX)

    assert response.status_code == 409
    assert response["HX-Retarget"] == f"#row-message-{papers[2].pk}"
    assert "You have used all 2 of your votes" in response.content.decode()
    assert Vote.objects.count() == 2


def test_vote_past_budget_without_javascript_shows_message(member_client, club, ballot, member):
    poll, papers = ballot
    membership = club.memberships.get(user=member)
    for paper in papers[:2]:
        set_vote(poll=poll, membership=membership, suggestion=paper, approve=True)

    response = member_client.post(vote_url(club, poll, papers[2]), {"approve": "1"}, follow=True)

    assert "You have used all 2 of your votes" in response.content.decode()


def test_vote_on_closed_poll_is_refused_with_409(member_client, club, ballot, organizer):
    poll, papers = ballot
    close_poll(poll=poll, closed_by=organizer)

    response = member_client.post(vote_url(club, poll, papers[0]), {"approve": "1"}, **HTMX)

    assert response.status_code == 409
    assert "Voting has closed" in response.content.decode()
    assert Vote.objects.count() == 0


def test_vote_by_outsider_is_refused(client, club, ballot, outsider):
    poll, papers = ballot
    client.force_login(outsider)

    response = client.post(vote_url(club, poll, papers[0]), {"approve": "1"}, **HTMX)

    assert response.status_code == 403
    assert response["HX-Retarget"] == "#messages"
    assert "Only members" in response.content.decode()
    assert Vote.objects.count() == 0


def test_vote_for_another_clubs_suggestion_is_not_found_like_a_missing_one(
    member_client, club, ballot, organizer
):
    from clubs.services import create_club

    poll, _ = ballot
    other = create_club(creator=organizer, name="Other", slug="other")
    foreign = suggest_paper(
        club=other, suggested_by=organizer, link="1706.03762", title="T", pitch="p"
    )
    url = reverse("papers:vote", args=[club.slug, poll.pk, 99_999_999])

    response = member_client.post(vote_url(club, poll, foreign), {"approve": "1"}, **HTMX)
    missing = member_client.post(url, {"approve": "1"}, **HTMX)

    assert (response.status_code, missing.status_code) == (404, 404)
    assert Vote.objects.count() == 0


def test_vote_on_another_clubs_poll_through_this_club_is_not_found(
    member_client, club, ballot, organizer
):
    from clubs.services import create_club

    _, papers = ballot
    other = create_club(creator=organizer, name="Other", slug="other")
    foreign_poll = open_poll(club=other, opened_by=organizer)

    response = member_client.post(vote_url(club, foreign_poll, papers[0]), {"approve": "1"}, **HTMX)

    assert response.status_code == 404
    assert Vote.objects.count() == 0


def test_anonymous_vote_is_sent_to_sign_in(client, club, ballot):
    poll, papers = ballot

    response = client.post(
        vote_url(club, poll, papers[0]), {"approve": "1"}, **htmx_from("/c/asia/")
    )

    assert "HX-Redirect" in response
    assert Vote.objects.count() == 0


def test_live_results_show_counts(member_client, club, organizer, member):
    paper = suggest_paper(club=club, suggested_by=member, link="2401.00001", title="P", pitch="p")
    poll = open_poll(club=club, opened_by=organizer, show_live_results=True)
    set_vote(
        poll=poll, membership=club.memberships.get(user=organizer), suggestion=paper, approve=True
    )

    response = member_client.post(vote_url(club, poll, paper), {"approve": "1"}, **HTMX)

    assert "<strong>2</strong> votes" in response.content.decode()


def test_htmx_config_keeps_requests_on_our_origin_and_scripts_off(client):
    html = client.get("/").content.decode()
    config = json.loads(html.split('name="htmx-config" content=\'')[1].split("'>")[0])

    assert config["selfRequestsOnly"] is True
    assert config["allowScriptTags"] is False
    assert config["allowEval"] is False


# Closing and the result page


def test_organizer_closes_poll_and_result_page_shows_counts_rule_and_closer(
    organizer_client, club, ballot, member
):
    poll, papers = ballot
    set_vote(
        poll=poll, membership=club.memberships.get(user=member), suggestion=papers[1], approve=True
    )

    response = organizer_client.post(
        reverse("papers:poll_close", args=[club.slug, poll.pk]), follow=True
    )

    body = response.content.decode()
    assert "“Paper 1” won" in body
    assert "Most votes wins. On a tie" in body
    assert "by Olive Organizer" in body
    assert "Scheduled as" in body
    result = organizer_client.get(reverse("papers:poll", args=[club.slug, poll.pk]))
    assert "each member votes for up to 2 papers" in result.content.decode()  # not "N"


def test_result_page_is_public_for_public_club(client, club, ballot, organizer):
    poll, _ = ballot
    close_poll(poll=poll, closed_by=organizer)

    response = client.get(reverse("papers:poll", args=[club.slug, poll.pk]))

    assert response.status_code == 200


def test_result_page_of_private_club_is_not_found_for_outsiders(
    client, private_club, organizer, outsider
):
    poll = open_poll(club=private_club, opened_by=organizer)
    client.force_login(outsider)

    assert client.get(reverse("papers:poll", args=[private_club.slug, poll.pk])).status_code == 404


def test_viewing_a_due_poll_closes_it(client, club, ballot, member):
    poll, papers = ballot
    set_vote(
        poll=poll, membership=club.memberships.get(user=member), suggestion=papers[2], approve=True
    )
    Poll.objects.filter(pk=poll.pk).update(
        opened_at=timezone.now() - dt.timedelta(days=2),
        closes_at=timezone.now() - dt.timedelta(hours=1),
    )

    body = client.get(reverse("papers:poll", args=[club.slug, poll.pk])).content.decode()

    assert "automatically at the closing time" in body
    assert "“Paper 2”" in body


def test_organizer_overrides_winner_with_reason(organizer_client, club, ballot, member):
    poll, papers = ballot
    set_vote(
        poll=poll, membership=club.memberships.get(user=member), suggestion=papers[0], approve=True
    )
    close_poll(poll=poll, closed_by=None)

    response = organizer_client.post(
        reverse("papers:poll_override", args=[club.slug, poll.pk]),
        {"suggestion": papers[1].pk, "reason": "The presenter of Paper 0 is away."},
        follow=True,
    )

    body = response.content.decode()
    assert "overrode the vote: “The presenter of Paper 0 is away.”" in body
    poll.refresh_from_db()
    assert poll.winner == papers[1]


def test_members_cannot_override(member_client, club, ballot):
    poll, papers = ballot
    close_poll(poll=poll, closed_by=None)

    response = member_client.post(
        reverse("papers:poll_override", args=[club.slug, poll.pk]),
        {"suggestion": papers[1].pk, "reason": "mine"},
    )

    assert response.status_code == 403


def test_ballot_query_count_does_not_grow_with_candidates(
    member_client, club, organizer, member, same_queries
):
    suggest_paper(club=club, suggested_by=member, link="2401.00001", title="P1", pitch="p")
    poll = open_poll(club=club, opened_by=organizer, show_live_results=True)

    def grow():
        for i in range(2, 20):
            paper = suggest_paper(
                club=club, suggested_by=member, link=f"2401.{i:05d}", title=f"P{i}", pitch="p"
            )
            set_vote(
                poll=poll,
                membership=club.memberships.get(user=organizer),
                suggestion=paper,
                approve=i < 5,
            )

    same_queries(lambda: member_client.get(reverse("clubs:detail", args=[club.slug])), grow)


def test_result_page_query_count_does_not_grow_with_candidates(
    client, club, organizer, member, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def closed_poll(n):
        papers = [
            suggest_paper(
                club=club,
                suggested_by=member,
                link=f"2402.{n:02d}{i:03d}",
                title=f"P{i}",
                pitch="p",
            )
            for i in range(n)
        ]
        poll = open_poll(club=club, opened_by=organizer)
        set_vote(
            poll=poll,
            membership=club.memberships.get(user=member),
            suggestion=papers[0],
            approve=True,
        )
        return close_poll(poll=poll, closed_by=organizer)

    small = closed_poll(1)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("papers:poll", args=[club.slug, small.pk]))
    large = closed_poll(15)
    with django_assert_num_queries(len(one.captured_queries)):
        client.get(reverse("papers:poll", args=[club.slug, large.pk]))
